import { CompiledQuery } from 'kysely'
import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { DEFERRED } from './prepared.ts'
import { toBindingRecord } from './snapshot.ts'

export type BindingRow = NonNullable<Awaited<ReturnType<typeof findBinding>>>

export interface NewBinding {
  id: string
  orgId: string
  userId: string | null
  groupId: string | null
  role: string
  scopeType: string
  resourceId: string | null
  expiresAt: Date | null
  grantedBy: string | null
  reason: string | null
}

export function findBinding(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('bindings')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
}

export function listBindings(
  db: Executor,
  filter: {
    orgIds: readonly string[]
    userId?: string
    groupId?: string
    resourceIds?: readonly string[]
    orgScopeOnly?: boolean
    role?: string
  },
) {
  if (filter.orgIds.length === 0) return Promise.resolve([])
  let query = db.selectFrom('bindings').selectAll().where('org_id', 'in', filter.orgIds)
  if (filter.userId) query = query.where('user_id', '=', filter.userId)
  if (filter.groupId) query = query.where('group_id', '=', filter.groupId)
  if (filter.orgScopeOnly) query = query.where('scope_type', '=', 'org')
  if (filter.role) query = query.where('role', '=', filter.role)
  if (filter.resourceIds) {
    if (filter.resourceIds.length === 0) return Promise.resolve([])
    query = query.where('resource_id', 'in', filter.resourceIds)
  }
  return query.orderBy('created_at').orderBy('id').execute()
}

/** Users holding a binding below org scope in this org (seed 002's external accounts, among others). */
export async function userIdsBoundBelowOrg(db: Executor, orgId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('bindings')
    .select('user_id')
    .distinct()
    .where('org_id', '=', orgId)
    .where('scope_type', '!=', 'org')
    .where('user_id', 'is not', null)
    .execute()
  return rows.map((r) => r.user_id!)
}

/** A new binding as its row's columns. */
export const bindingColumns = (b: NewBinding) => ({
  id: b.id,
  org_id: b.orgId,
  user_id: b.userId,
  group_id: b.groupId,
  role: b.role,
  scope_type: b.scopeType,
  resource_id: b.resourceId,
  expires_at: b.expiresAt,
  granted_by: b.grantedBy,
  reason: b.reason,
})

/** A uuid as PostgreSQL prints it: a value spelt otherwise reads back differently from how it was sent. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const asStored = (id: string | null) => id === null || CANONICAL_UUID.test(id)

/**
 * `startedAt`: the transaction's `now()` when the caller has it (the write's, read with its org's lock). The
 * row is then built here, as the database will hold it, and the insert deferred (prepared.ts `DEFERRED`):
 * on PostgreSQL it goes with the write's last statement, a round trip less (issue 25.3). A duplicate then
 * fails that statement, and the write, as it would have failed here. An id not spelt as the database prints
 * it (a uuid in capitals) is inserted and read back instead: the engine must be told the stored spelling.
 */
export async function insertBinding(
  tx: Tx,
  b: NewBinding,
  startedAt?: Date | null,
): Promise<Changed<BindingRow>> {
  const values = bindingColumns(b)
  let row: BindingRow
  const ids = [
    values.id,
    values.org_id,
    values.user_id,
    values.group_id,
    values.resource_id,
    values.granted_by,
  ]
  if (startedAt && ids.every(asStored)) {
    const { sql: text, parameters } = tx.insertInto('bindings').values(values).compile()
    await tx.executeQuery(CompiledQuery.raw(DEFERRED + text, [...parameters]))
    row = { ...values, created_at: startedAt }
  } else {
    row = await tx.insertInto('bindings').values(values).returningAll().executeTakeFirstOrThrow()
  }
  return changed(row, [{ op: 'binding.put', binding: toBindingRecord(row) }])
}

export async function deleteBindings(tx: Tx, ids: readonly string[]): Promise<Changed<void>> {
  if (ids.length === 0) return changes()
  await tx.deleteFrom('bindings').where('id', 'in', ids).execute()
  return changes(...ids.map((id) => ({ op: 'binding.delete' as const, id })))
}

/** Deletes a user's own org-scope bindings of these roles in one org: one statement, no read first. */
export async function deleteOrgRoleBindings(
  tx: Tx,
  orgId: string,
  userId: string,
  roles: readonly string[],
): Promise<Changed<void>> {
  if (roles.length === 0) return changes()
  const rows = await tx
    .deleteFrom('bindings')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .where('scope_type', '=', 'org')
    .where('role', 'in', roles)
    .returning('id')
    .execute()
  return changes(...rows.map((row) => ({ op: 'binding.delete' as const, id: row.id })))
}

export { toBindingRecord as toRecord } from './snapshot.ts'

/** Gives these bindings another role, in place (same ids, principals, scopes and expiries). */
export async function setRole(tx: Tx, ids: readonly string[], role: string): Promise<Changed<BindingRow[]>> {
  if (ids.length === 0) return changed([], [])
  const rows = await tx.updateTable('bindings').set({ role }).where('id', 'in', ids).returningAll().execute()
  return changed(
    rows,
    rows.map((row) => ({ op: 'binding.put' as const, binding: toBindingRecord(row) })),
  )
}
