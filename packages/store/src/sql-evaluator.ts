import {
  CompiledModel,
  type Decision,
  type Model,
  ORG,
  type Reason,
  type Subject,
  type Target,
} from '@orgkit/core'
import { sql } from 'kysely'
import { currentRevision } from './changes.repository.ts'
import type { Db, Executor } from './database.ts'

type CompiledPermission = ReturnType<CompiledModel['permissionFor']>

/**
 * The decision procedure of docs/decision-procedure.md, evaluated by the database in one statement (the
 * `orgkit_decide` function of migration 0008, given `p_mfa` in 0009): the same rules as the engine's `evaluate.ts`, over the same
 * tables the engine's snapshot is read from. It
 * answers when an instance's in-memory engine can't (it has not reached a revision a client asks for), and
 * it is the per-request-database baseline of the HTTP benchmark. Property tests hold it to the engine's
 * answers on random worlds (`test/sql-evaluator.property.test.ts`).
 *
 * The model is not stored: its roles travel as parameters (key, scope, slot, and whether the role holds
 * the permission asked about), and so do its team levels. Client errors (unknown permission, unknown
 * type, a permission of another type) are thrown by the compiled model before any query, as the engine
 * does.
 */

// Lower case only: the engine compares ids as strings, and the database generates them in lower case.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const uuidOrNull = (id: string): string | null => (UUID.test(id) ? id : null)

const compiledModels = new WeakMap<Model, CompiledModel>()
function compile(model: Model | CompiledModel): CompiledModel {
  if (model instanceof CompiledModel) return model
  let compiled = compiledModels.get(model)
  if (!compiled) {
    compiled = new CompiledModel(model)
    compiledModels.set(model, compiled)
  }
  return compiled
}

export interface SqlEvaluatorOptions {
  /** Epoch milliseconds that expiry is read against (default: now). */
  now?: number
}

type ModelParams = ReturnType<typeof buildModelParams>
const paramsCache = new WeakMap<CompiledModel, Map<string, ModelParams>>()

/** The model's roles for one permission, as parameter arrays (built once per permission). */
function modelParams(compiled: CompiledModel, permission: CompiledPermission): ModelParams {
  let byPermission = paramsCache.get(compiled)
  if (!byPermission) {
    byPermission = new Map()
    paramsCache.set(compiled, byPermission)
  }
  let params = byPermission.get(permission.key)
  if (!params) {
    params = buildModelParams(compiled, permission)
    byPermission.set(permission.key, params)
  }
  return params
}

function buildModelParams(compiled: CompiledModel, permission: CompiledPermission) {
  const keys: string[] = []
  const scopes: string[] = []
  const slots: string[] = []
  const grants: boolean[] = []
  for (const role of compiled.roles.values()) {
    keys.push(role.key)
    scopes.push(role.scope)
    slots.push(role.slot)
    grants.push(role.grants[permission.index] === 1)
  }
  const levels: string[] = []
  const levelScopes: string[] = []
  const levelRoles: string[] = []
  for (const [level, byScope] of Object.entries(compiled.model.teamLevels ?? {})) {
    for (const [scope, role] of Object.entries(byScope)) {
      levels.push(level)
      levelScopes.push(scope)
      levelRoles.push(role)
    }
  }
  return { keys, scopes, slots, grants, levels, levelScopes, levelRoles }
}

type Row = { t_org: string | null; t_res: string | null; reason: Reason | null; revision: string }

/**
 * Every target's reason, from the database's `orgkit_decide` (migration 0005), with the revision the
 * statement's snapshot holds: one statement, one snapshot (the function is STABLE, so it reads the
 * caller's), one round trip. A row with null reason only carries the revision (no target matched).
 */
async function decide(
  db: Executor,
  compiled: CompiledModel,
  subject: Subject,
  permission: CompiledPermission,
  type: string,
  targetIds: string[] | null,
  now: number,
): Promise<{ rows: { t_org: string; t_res: string | null; reason: Reason }[]; revision: number }> {
  const m = modelParams(compiled, permission)
  const userId = subject.type === 'user' ? uuidOrNull(subject.id) : null
  const keyId = subject.type === 'apiKey' ? uuidOrNull(subject.id) : null
  // The request's own second factor (Subject.mfa): passes the 2FA gate, as in the engine.
  const mfa = subject.type === 'user' && subject.mfa === true
  const { rows } = await sql<Row>`
    select (select value from revision where id = 1) as revision, d.t_org, d.t_res, d.reason
    from (values (1)) as one (x)
    left join orgkit_decide(
      ${userId}::uuid, ${keyId}::uuid, ${permission.key}::text, ${permission.overridable}::boolean,
      ${m.keys}::text[], ${m.scopes}::text[], ${m.slots}::text[], ${m.grants}::boolean[],
      ${m.levels}::text[], ${m.levelScopes}::text[], ${m.levelRoles}::text[],
      ${new Date(now)}::timestamptz, ${type}::text, ${targetIds}::uuid[], ${mfa}::boolean
    ) as d on ${userId !== null || keyId !== null}::boolean
  `.execute(db)
  return {
    rows: rows.filter((r): r is Row & { t_org: string; reason: Reason } => r.reason !== null),
    revision: Number(rows[0]?.revision ?? 0),
  }
}

const ALLOWED: ReadonlySet<Reason> = new Set(['role', 'override'])
const toDecision = (reason: Reason): Decision => ({ allowed: ALLOWED.has(reason), reason }) as Decision

/** `Authorizer.check`, answered by the database. Client errors throw as the engine's do. */
export async function check(
  db: Executor,
  model: Model | CompiledModel,
  subject: Subject,
  permission: string,
  target: Target,
  options: SqlEvaluatorOptions = {},
): Promise<Decision> {
  return (await checkWithRevision(db, model, subject, permission, target, options)).decision
}

/** `check`, with the revision its snapshot holds (the fallback of `POST /v1/check`): one statement. */
export async function checkWithRevision(
  db: Executor,
  model: Model | CompiledModel,
  subject: Subject,
  permission: string,
  target: Target,
  options: SqlEvaluatorOptions = {},
): Promise<{ decision: Decision; revision: number }> {
  const { decisions, revision } = await decideMany(db, model, subject, permission, [target], options)
  return { decision: decisions[0]!, revision }
}

/**
 * Many targets of one type for one subject and permission, in one statement: the decisions in the order
 * of `targets` (the SQL fallback of a batch, and the differential tests).
 */
export async function checkMany(
  db: Executor,
  model: Model | CompiledModel,
  subject: Subject,
  permission: string,
  targets: readonly Target[],
  options: SqlEvaluatorOptions = {},
): Promise<Decision[]> {
  if (targets.length === 0) return []
  return (await decideMany(db, model, subject, permission, targets, options)).decisions
}

async function decideMany(
  db: Executor,
  model: Model | CompiledModel,
  subject: Subject,
  permission: string,
  targets: readonly Target[],
  options: SqlEvaluatorOptions,
): Promise<{ decisions: Decision[]; revision: number }> {
  const compiled = compile(model)
  if (targets.length === 0) throw new Error('checkMany needs at least one target')
  const type = targets[0]!.type
  const compiledPermission = compiled.permissionFor(permission, type)
  for (const target of targets) compiled.permissionFor(permission, target.type)
  const ids = targets.map((t) => uuidOrNull(t.id)).filter((id): id is string => id !== null)
  const { rows, revision } = await decide(
    db,
    compiled,
    subject,
    compiledPermission,
    type,
    ids,
    options.now ?? Date.now(),
  )
  const reasons = new Map<string, Reason>()
  for (const row of rows) reasons.set(type === ORG ? row.t_org : row.t_res!, row.reason)
  return { decisions: targets.map((t) => toDecision(reasons.get(t.id) ?? 'not_found')), revision }
}

/**
 * `Authorizer.listResources`, answered by the database: every target of `type` (orgs for `org`) the
 * subject may do `permission` on. Candidates are the targets in the orgs at or below where the user is an
 * active member, or holds a resource binding or an override: nothing else can be allowed (step 4 and 7
 * need membership; step 5 and 6 need a binding or an override in the target's org or above it).
 */
export async function listResources(
  db: Executor,
  model: Model | CompiledModel,
  subject: Subject,
  permission: string,
  type: string,
  options: SqlEvaluatorOptions = {},
): Promise<string[]> {
  return (await listResourcesWithRevision(db, model, subject, permission, type, options)).ids
}

/** `listResources`, with the revision its snapshot holds: one statement. */
export async function listResourcesWithRevision(
  db: Executor,
  model: Model | CompiledModel,
  subject: Subject,
  permission: string,
  type: string,
  options: SqlEvaluatorOptions = {},
): Promise<{ ids: string[]; revision: number }> {
  const compiled = compile(model)
  const compiledPermission = compiled.permissionFor(permission, type)
  const { rows, revision } = await decide(
    db,
    compiled,
    subject,
    compiledPermission,
    type,
    null,
    options.now ?? Date.now(),
  )
  const ids = rows.filter((r) => ALLOWED.has(r.reason)).map((r) => (type === ORG ? r.t_org : r.t_res!))
  return { ids, revision }
}

/**
 * Runs `read` in one repeatable-read transaction, given the revision its snapshot holds (read first), so
 * that every statement it makes sees that one revision: a fallback that needs more than one statement (a
 * batch, or a check about someone else) answers as of one revision, as the engine would.
 */
export function inSnapshot<T>(
  db: Db,
  read: (tx: Executor, revision: number) => Promise<T>,
): Promise<{ value: T; revision: number }> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      const revision = await currentRevision(tx)
      return { value: await read(tx, revision), revision }
    })
}

/** The org a target lives in (itself, for an org), or null when it does not exist: `Authorizer.orgOf`. */
export async function orgOf(db: Executor, target: Target): Promise<string | null> {
  const id = uuidOrNull(target.id)
  if (id === null) return null
  const { rows } =
    target.type === ORG
      ? await sql<{ org_id: string }>`select id as org_id from orgs where id = ${id}::uuid`.execute(db)
      : await sql<{ org_id: string }>`
          select org_id from resources where id = ${id}::uuid and type = ${target.type}::text
        `.execute(db)
  return rows[0]?.org_id ?? null
}
