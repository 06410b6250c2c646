/**
 * What the benchmark asks of a loaded world, pre-generated so the timed loops do nothing but ask: a mix of
 * checks, the users for `listResources`, and a stream of changes for `apply`. Deterministic like the data.
 */
import type { Change, Subject, Target } from '../src/index.ts'
import { presets } from '../src/index.ts'
import {
  APP_ROLES,
  appId,
  channelId,
  type Dataset,
  groupId,
  ORG_ROLES,
  OVERRIDABLE,
  orgId,
  Rng,
  userId,
} from './dataset.ts'

export type TargetKind = 'org' | 'app' | 'channel'

export interface Query {
  readonly subject: Subject
  readonly permission: string
  readonly target: Target
  /** For the casbin mapping: the org of the target, and its app (`''` for an org target). */
  readonly orgId: string
  readonly appId: string
  /** Whether the target is a channel that has an override on this permission (casbin cannot say those). */
  readonly overridden: boolean
}

export interface Workload {
  readonly queries: Query[]
  readonly listSubjects: Subject[]
  /** Every app id, to verify listResources against check. */
  readonly appIds: string[]
  readonly changes: Change[]
  /** The kind of each change, for per-kind latencies. */
  readonly changeKinds: string[]
  readonly changeMix: Record<string, number>
}

export interface WorkloadSizes {
  queries: number
  listUsers: number
  changes: number
}

const permissionsOn = (type: TargetKind): string[] =>
  Object.entries(presets.capgo!.permissions)
    .filter(([, def]) => def.on === type)
    .map(([key]) => key)

export function makeWorkload(dataset: Dataset, sizes: WorkloadSizes, seed = 7): Workload {
  const { world, snapshot } = dataset
  const rng = new Rng(seed)
  const perms: Record<TargetKind, string[]> = {
    org: permissionsOn('org'),
    app: permissionsOn('app'),
    channel: permissionsOn('channel'),
  }
  // Fresh subject and target objects (and id strings) per query, allocated next to it, as a caller that has
  // just parsed a request holds them: the engine's own memory traffic is what gets measured.
  const subject = (u: number): Subject => ({ type: 'user', id: userId(u) })
  const overridden = new Set<string>()
  for (const o of snapshot.overrides) overridden.add(`${o.resourceId}|${o.permission}`)

  const queries: Query[] = []
  for (let i = 0; i < sizes.queries; i++) {
    const roll = rng.next()
    const kind: TargetKind = roll < 1 / 3 ? 'org' : roll < 2 / 3 ? 'app' : 'channel'
    // Traffic follows org size.
    const o = world.orgSampler.sample(rng)
    const apps = world.orgApps[o]!
    const a = rng.pick(apps)
    let target: Target
    if (kind === 'org') target = { type: 'org', id: orgId(o) }
    else if (kind === 'app') target = { type: 'app', id: appId(a) }
    else {
      const first = world.appFirstChannel[a]!
      const c = first + rng.int(world.appFirstChannel[a + 1]! - first)
      target = { type: 'channel', id: channelId(c) }
    }
    // Mostly members of the org (active or invited), some users bound on the app, some strangers.
    const who = rng.next()
    const bound = kind === 'org' ? undefined : world.appUsers.get(a)
    const u =
      who < 0.7 || (who < 0.85 && bound === undefined)
        ? rng.pick(world.orgMembers[o]!)
        : who < 0.85
          ? rng.pick(bound!)
          : rng.int(world.userCount)
    const permission = rng.pick(perms[kind])
    queries.push({
      subject: subject(u),
      permission,
      target,
      orgId: orgId(o),
      appId: kind === 'org' ? '' : appId(a),
      overridden: kind === 'channel' && overridden.has(`${target.id}|${permission}`),
    })
  }

  const listSubjects: Subject[] = []
  for (let i = 0; i < sizes.listUsers; i++) listSubjects.push(subject(rng.int(world.userCount)))

  const { changes, kinds, mix } = makeChanges(dataset, sizes.changes, rng)
  const appIds = Array.from({ length: world.appCount }, (_, a) => appId(a))
  return { queries, listSubjects, appIds, changes, changeKinds: kinds, changeMix: mix }
}

/**
 * The same queries with one subject object per user and one target object per id, shared across queries
 * (as a caller caching them would): those objects and their strings are then cold, scattered reads.
 */
export function withSharedObjects(queries: readonly Query[]): Query[] {
  const subjects = new Map<string, Subject>()
  const targets = new Map<string, Target>()
  return queries.map((q) => {
    let subject = subjects.get(q.subject.id)
    if (subject === undefined) {
      subject = q.subject
      subjects.set(subject.id, subject)
    }
    let target = targets.get(q.target.id)
    if (target === undefined) {
      target = q.target
      targets.set(target.id, target)
    }
    return { ...q, subject, target }
  })
}

/**
 * A stream of changes as the service would send them: role changes (a binding put over an existing id),
 * new app roles, binding deletes, channel overrides, and memberships joining, changing and leaving.
 */
function makeChanges(
  dataset: Dataset,
  count: number,
  rng: Rng,
): { changes: Change[]; kinds: string[]; mix: Record<string, number> } {
  const { world, snapshot } = dataset
  const bindings = snapshot.bindings
  const memberships = snapshot.memberships
  const usedBinding = new Set<number>()
  const usedMembership = new Set<number>()
  // Role changes and deletes each take a binding of their own: at most 35 % of the stream.
  if (count > bindings.length / 3)
    throw new Error(`at most ${Math.floor(bindings.length / 3)} changes at this scale`)
  const freshBinding = (): number => {
    for (;;) {
      const i = rng.int(bindings.length)
      if (!usedBinding.has(i)) {
        usedBinding.add(i)
        return i
      }
    }
  }
  const mix: Record<string, number> = {}
  const changes: Change[] = []
  const kinds: string[] = []
  let next = 0
  const MIX = [
    ['binding.put (role change)', 15],
    ['binding.put (new app role)', 15],
    ['binding.delete', 20],
    ['override.put', 25],
    ['membership.put', 15],
    ['membership.delete', 10],
  ] as const
  const total = MIX.reduce((s, [, w]) => s + w, 0)
  const kindOf = () => {
    let x = rng.next() * total
    for (const [kind, w] of MIX) {
      x -= w
      if (x < 0) return kind
    }
    return MIX[0][0]
  }
  while (changes.length < count) {
    const kind = kindOf()
    let change: Change
    switch (kind) {
      case 'binding.put (role change)': {
        // An existing org-scope binding of a user gets another role, under the same id.
        let b = bindings[freshBinding()]!
        for (let tries = 0; (b.scope.type !== 'org' || b.principal.type !== 'user') && tries < 50; tries++)
          b = bindings[freshBinding()]!
        const roles: readonly string[] = b.scope.type === 'org' ? ORG_ROLES : APP_ROLES
        let role = rng.pick(roles)
        if (role === b.role) role = roles[(roles.indexOf(role) + 1) % roles.length]!
        change = { op: 'binding.put', binding: { ...b, role } }
        break
      }
      case 'binding.put (new app role)': {
        const o = world.orgSampler.sample(rng)
        const u = rng.pick(world.orgMembers[o]!)
        change = {
          op: 'binding.put',
          binding: {
            id: `bn${next++}`,
            principal: { type: 'user', id: userId(u) },
            role: rng.pick(APP_ROLES),
            scope: { type: 'app', id: appId(rng.pick(world.orgApps[o]!)) },
          },
        }
        break
      }
      case 'binding.delete':
        change = { op: 'binding.delete', id: bindings[freshBinding()]!.id }
        break
      case 'override.put': {
        const c = rng.int(world.channelCount)
        const o = world.appOrg[world.channelApp[c]!]!
        const groups = world.orgGroups[o]!
        const principal =
          rng.next() < 0.75 || groups.length === 0
            ? ({ type: 'user', id: userId(rng.pick(world.orgMembers[o]!)) } as const)
            : ({ type: 'group', id: groupId(rng.pick(groups)) } as const)
        change = {
          op: 'override.put',
          override: {
            principal,
            resourceId: channelId(c),
            permission: rng.pick(OVERRIDABLE),
            effect: rng.next() < 0.5 ? 'allow' : 'deny',
          },
        }
        break
      }
      case 'membership.put': {
        // A user joins an org (or an invitation is accepted, or a member is suspended to pending).
        change = {
          op: 'membership.put',
          membership: {
            orgId: orgId(world.orgSampler.sample(rng)),
            userId: userId(rng.int(world.userCount)),
            status: rng.next() < 0.8 ? 'active' : 'pending',
          },
        }
        break
      }
      case 'membership.delete': {
        let i = rng.int(memberships.length)
        while (usedMembership.has(i)) i = rng.int(memberships.length)
        usedMembership.add(i)
        const m = memberships[i]!
        change = { op: 'membership.delete', orgId: m.orgId, userId: m.userId }
        break
      }
    }
    mix[kind] = (mix[kind] ?? 0) + 1
    changes.push(change)
    kinds.push(kind)
  }
  return { changes, kinds, mix }
}
