import {
  Authorizer,
  type CompiledModel,
  type Decision,
  type Id,
  type Subject,
  type Target,
} from '@orgkit/core'
import { type Executor, streamSnapshot } from '@orgkit/store'

/** The subjects and targets two engines are compared over. */
export interface EngineScope {
  subjects: readonly Subject[]
  targets: readonly Target[]
}

/** One question the two engines answer differently. */
export interface Disagreement {
  /** What was asked: `check`, `listResources`, `listPrincipals`, `rolesAt`, an existence question, `revision`. */
  kind: string
  question: string
  running: string
  fresh: string
}

/**
 * An engine loaded the way an instance loads one at start-up (engine-replica.ts): the database's snapshot
 * streamed into `Authorizer.loading`, with the running instance's model and clock.
 */
export async function freshEngine(
  db: Executor,
  compiled: CompiledModel,
  clock: () => number,
): Promise<{ authorizer: Authorizer; revision: number }> {
  const loading = Authorizer.loading(compiled, { clock })
  const revision = await streamSnapshot(db, loading.add)
  return { authorizer: loading.done(), revision }
}

const decision = (d: Decision) => `${d.allowed ? 'allowed' : 'denied'} (${d.reason})`
const sorted = (ids: readonly Id[]) => [...ids].sort()
function sameSet(a: readonly Id[], b: readonly Id[]): boolean {
  if (a.length !== b.length) return false
  const other = sorted(b)
  return sorted(a).every((id, i) => id === other[i])
}
const show = (ids: readonly Id[]) => `[${sorted(ids).join(', ')}]`
const name = (t: { type: string; id: Id }) => `${t.type} ${t.id}`

/**
 * Every question the services and the authorization API ask of an engine, asked of both over the scope:
 * existence (`has`, `orgOf`, `hasUser`, `keyState`), `check` for every subject × permission × target (the
 * permissions of the target's type), `rolesAt` (what rank and owner rules read), `listResources` for every
 * subject × permission, and `listPrincipals` for every permission × target. Answers where they differ.
 */
export function engineDisagreements(
  running: Authorizer,
  fresh: Authorizer,
  scope: EngineScope,
): Disagreement[] {
  const out: Disagreement[] = []
  const differ = (question: string, a: string, b: string) => {
    if (a !== b) out.push({ kind: question.slice(0, question.indexOf('(')), question, running: a, fresh: b })
  }
  const differSets = (question: string, a: readonly Id[], b: readonly Id[]) => {
    if (!sameSet(a, b))
      out.push({ kind: question.slice(0, question.indexOf('(')), question, running: show(a), fresh: show(b) })
  }
  const permissions = running.compiled.permissionList
  const on = (type: string) => permissions.filter((p) => p.on === type)
  for (const target of scope.targets) {
    differ(`has(${name(target)})`, String(running.has(target)), String(fresh.has(target)))
    differ(`orgOf(${name(target)})`, String(running.orgOf(target)), String(fresh.orgOf(target)))
    for (const p of on(target.type))
      differSets(
        `listPrincipals(${p.key}, ${name(target)})`,
        running.listPrincipals(p.key, target),
        fresh.listPrincipals(p.key, target),
      )
  }
  for (const subject of scope.subjects) {
    const who = name(subject)
    if (subject.type === 'user')
      differ(`hasUser(${subject.id})`, String(running.hasUser(subject.id)), String(fresh.hasUser(subject.id)))
    else differ(`keyState(${subject.id})`, running.keyState(subject.id), fresh.keyState(subject.id))
    for (const target of scope.targets) {
      for (const p of on(target.type)) {
        differ(
          `check(${who}, ${p.key}, ${name(target)})`,
          decision(running.check(subject, p.key, target)),
          decision(fresh.check(subject, p.key, target)),
        )
      }
      differSets(
        `rolesAt(${who}, ${name(target)})`,
        running.rolesAt(subject, target).map((r) => r.key),
        fresh.rolesAt(subject, target).map((r) => r.key),
      )
    }
    for (const p of permissions)
      differSets(
        `listResources(${who}, ${p.key}, ${p.on})`,
        running.listResources(subject, p.key, p.on),
        fresh.listResources(subject, p.key, p.on),
      )
  }
  return out
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/** The order a diff shows kinds in: what exists, then decisions, then what they add up to. */
const KINDS = [
  'revision',
  'has',
  'orgOf',
  'hasUser',
  'keyState',
  'check',
  'rolesAt',
  'listResources',
  'listPrincipals',
]

/**
 * A readable diff: how many answers of each kind differ, then the first few of each kind, with ids
 * replaced by the names the test gave them (`u2`, `org1`, `app3`).
 */
export function formatDisagreements(
  found: readonly Disagreement[],
  names: ReadonlyMap<Id, string>,
  perKind = 4,
): string {
  const named = (text: string) => text.replace(UUID, (id) => names.get(id) ?? `?${id.slice(0, 8)}`)
  const kinds = [...new Set(found.map((d) => d.kind))].sort((a, b) => KINDS.indexOf(a) - KINDS.indexOf(b))
  const lines = [
    `  differing answers: ${kinds.map((k) => `${k} ${found.filter((d) => d.kind === k).length}`).join(', ')}`,
  ]
  for (const kind of kinds) {
    const all = found.filter((d) => d.kind === kind)
    for (const d of all.slice(0, perKind))
      lines.push(`  ${named(d.question)}\n    running: ${named(d.running)}\n    fresh:   ${named(d.fresh)}`)
    if (all.length > perKind) lines.push(`  … and ${all.length - perKind} more ${kind}`)
  }
  return lines.join('\n')
}
