import { type Changed, changed } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { toOverrideRecord } from './snapshot.ts'

export type OverrideRow = NonNullable<Awaited<ReturnType<typeof findOverride>>>

export function listOverrides(
  db: Executor,
  filter: { orgIds: readonly string[]; resourceId?: string; userId?: string; groupId?: string },
) {
  if (filter.orgIds.length === 0) return Promise.resolve([])
  let query = db.selectFrom('overrides').selectAll().where('org_id', 'in', filter.orgIds)
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId)
  if (filter.userId) query = query.where('user_id', '=', filter.userId)
  if (filter.groupId) query = query.where('group_id', '=', filter.groupId)
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
): Promise<Changed<OverrideRow>> {
  const existing = await findOverride(tx, o)
  const row = existing
    ? await tx
        .updateTable('overrides')
        .set({ effect: o.effect })
        .where('id', '=', existing.id)
        .returningAll()
        .executeTakeFirstOrThrow()
    : await tx
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
  return changed(row, [{ op: 'override.put', override: toOverrideRecord(row) }])
}

/**
 * Deletes these overrides (as read); the engine forgets each by its principal, resource and permission.
 * Only the rows this delete removed imply a change: one read earlier and deleted since may have been set
 * again under a new id, and forgetting its key would drop that live override from the engine.
 */
export async function deleteOverrides(tx: Tx, rows: readonly OverrideRow[]): Promise<Changed<void>> {
  if (rows.length === 0) return changed(undefined, [])
  const deleted = await tx
    .deleteFrom('overrides')
    .where(
      'id',
      'in',
      rows.map((o) => o.id),
    )
    .returning('id')
    .execute()
  const gone = new Set(deleted.map((o) => o.id))
  return changed(
    undefined,
    rows
      .filter((o) => gone.has(o.id))
      .map((o) => {
        const { principal, resourceId, permission } = toOverrideRecord(o)
        return { op: 'override.delete', principal, resourceId, permission }
      }),
  )
}
