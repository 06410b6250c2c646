import type { Executor, Tx } from './database.ts'

export type ResourceRow = NonNullable<Awaited<ReturnType<typeof findResource>>>

export function findResource(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('resources')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
}

export function listResources(
  db: Executor,
  filter: { orgId: string; type?: string; parentId?: string; after?: string; limit: number },
) {
  let query = db.selectFrom('resources').selectAll().where('org_id', '=', filter.orgId)
  if (filter.type) query = query.where('type', '=', filter.type)
  if (filter.parentId) query = query.where('parent_id', '=', filter.parentId)
  if (filter.after) query = query.where('id', '>', filter.after)
  return query.orderBy('id').limit(filter.limit).execute()
}

export async function insertResource(
  tx: Tx,
  r: { id: string; orgId: string; type: string; parentId: string | null; name: string },
) {
  return tx
    .insertInto('resources')
    .values({ id: r.id, org_id: r.orgId, type: r.type, parent_id: r.parentId, name: r.name })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function renameResource(tx: Tx, id: string, name: string) {
  return tx
    .updateTable('resources')
    .set({ name })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function deleteResource(tx: Tx, id: string) {
  await tx.deleteFrom('resources').where('id', '=', id).execute()
}
