import type { Executor, Tx } from './database.ts'

export function listOverrides(
  db: Executor,
  filter: { orgIds: readonly string[]; resourceId?: string; userId?: string },
) {
  if (filter.orgIds.length === 0) return Promise.resolve([])
  let query = db.selectFrom('overrides').selectAll().where('org_id', 'in', filter.orgIds)
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId)
  if (filter.userId) query = query.where('user_id', '=', filter.userId)
  return query.orderBy('created_at').execute()
}

export function findOverride(
  db: Executor,
  key: { resourceId: string; permission: string; userId: string | null; groupId: string | null },
) {
  let query = db
    .selectFrom('overrides')
    .selectAll()
    .where('resource_id', '=', key.resourceId)
    .where('permission', '=', key.permission)
  query = key.userId ? query.where('user_id', '=', key.userId) : query.where('group_id', '=', key.groupId)
  return query.executeTakeFirst()
}

export async function upsertOverride(
  tx: Tx,
  o: {
    id: string
    orgId: string
    resourceId: string
    userId: string | null
    groupId: string | null
    permission: string
    effect: 'allow' | 'deny'
  },
) {
  const existing = await findOverride(tx, o)
  if (existing) {
    return tx
      .updateTable('overrides')
      .set({ effect: o.effect })
      .where('id', '=', existing.id)
      .returningAll()
      .executeTakeFirstOrThrow()
  }
  return tx
    .insertInto('overrides')
    .values({
      id: o.id,
      org_id: o.orgId,
      resource_id: o.resourceId,
      user_id: o.userId,
      group_id: o.groupId,
      permission: o.permission,
      effect: o.effect,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function deleteOverrides(tx: Tx, ids: readonly string[]) {
  if (ids.length === 0) return
  await tx.deleteFrom('overrides').where('id', 'in', ids).execute()
}
