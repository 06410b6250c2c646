import type { Executor, Tx } from './database.ts'

export type BindingRow = NonNullable<Awaited<ReturnType<typeof findBinding>>>

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
  },
) {
  if (filter.orgIds.length === 0) return Promise.resolve([])
  let query = db.selectFrom('bindings').selectAll().where('org_id', 'in', filter.orgIds)
  if (filter.userId) query = query.where('user_id', '=', filter.userId)
  if (filter.groupId) query = query.where('group_id', '=', filter.groupId)
  if (filter.orgScopeOnly) query = query.where('scope_type', '=', 'org')
  if (filter.resourceIds) {
    if (filter.resourceIds.length === 0) return Promise.resolve([])
    query = query.where('resource_id', 'in', filter.resourceIds)
  }
  return query.orderBy('created_at').orderBy('id').execute()
}

export async function insertBinding(
  tx: Tx,
  b: {
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
  },
) {
  return tx
    .insertInto('bindings')
    .values({
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
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function deleteBindings(tx: Tx, ids: readonly string[]) {
  if (ids.length === 0) return
  await tx.deleteFrom('bindings').where('id', 'in', ids).execute()
}

export { toBindingRecord as toRecord } from './snapshot.ts'
