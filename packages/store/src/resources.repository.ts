import { sql } from 'kysely'
import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'

export type ResourceRow = NonNullable<Awaited<ReturnType<typeof findResource>>>

const resourcePut = (row: ResourceRow) =>
  ({
    op: 'resource.put',
    resource: { id: row.id, orgId: row.org_id, type: row.type, parentId: row.parent_id },
  }) as const

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

/** The ids of the resources directly below this one. */
export async function childResourceIds(db: Executor, orgId: string, parentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('resources')
    .select('id')
    .where('org_id', '=', orgId)
    .where('parent_id', '=', parentId)
    .execute()
  return rows.map((r) => r.id)
}

export async function insertResource(
  tx: Tx,
  r: { id: string; orgId: string; type: string; parentId: string | null; name: string },
): Promise<Changed<ResourceRow>> {
  const row = await tx
    .insertInto('resources')
    .values({ id: r.id, org_id: r.orgId, type: r.type, parent_id: r.parentId, name: r.name })
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [resourcePut(row)])
}

/** A rename: the engine mirrors no names, so it implies no change. */
export async function renameResource(tx: Tx, id: string, name: string): Promise<Changed<ResourceRow>> {
  const row = await tx
    .updateTable('resources')
    .set({ name })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [])
}

export async function deleteResource(tx: Tx, id: string): Promise<Changed<void>> {
  await tx.deleteFrom('resources').where('id', '=', id).execute()
  return changes({ op: 'resource.delete', id })
}

/** The resource and every resource below it (id and type), parents before children: a recursive query. */
export async function subtreeResources(db: Executor, id: string): Promise<{ id: string; type: string }[]> {
  return db
    .withRecursive('tree(id, type, depth)', (qb) =>
      qb
        .selectFrom('resources')
        .select(['id', 'type', sql<number>`0`.as('depth')])
        .where('id', '=', id)
        .unionAll((qb2) =>
          qb2
            .selectFrom('resources')
            .innerJoin('tree', 'tree.id', 'resources.parent_id')
            .select(['resources.id', 'resources.type', sql<number>`tree.depth + 1`.as('depth')]),
        ),
    )
    .selectFrom('tree')
    .select(['id', 'type'])
    .orderBy('depth')
    .orderBy('id')
    .execute()
}

/** How many resources of each type the org holds. */
export async function countByType(db: Executor, orgId: string): Promise<{ type: string; count: number }[]> {
  const rows = await db
    .selectFrom('resources')
    .select(['type', (eb) => eb.fn.countAll<string>().as('count')])
    .where('org_id', '=', orgId)
    .groupBy('type')
    .orderBy('type')
    .execute()
  return rows.map((r) => ({ type: r.type, count: Number(r.count) }))
}

/**
 * Moves a resource, and everything below it, to another org (and under another parent there): one
 * `resource.put` per row, parents first, so the engine rehomes the subtree as the table now holds it.
 */
export async function moveResource(
  tx: Tx,
  id: string,
  to: { orgId: string; parentId: string | null },
): Promise<Changed<ResourceRow[]>> {
  const ids = (await subtreeResources(tx, id)).map((r) => r.id)
  await tx
    .updateTable('resources')
    .set({ org_id: to.orgId, parent_id: to.parentId })
    .where('id', '=', id)
    .execute()
  if (ids.length > 1)
    await tx.updateTable('resources').set({ org_id: to.orgId }).where('id', 'in', ids.slice(1)).execute()
  const rows = await tx.selectFrom('resources').selectAll().where('id', 'in', ids).execute()
  const ordered = ids.map((i) => rows.find((r) => r.id === i)!)
  return changed(ordered, ordered.map(resourcePut))
}
