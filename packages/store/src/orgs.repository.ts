import { sql } from 'kysely'
import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { toOrgRecord } from './snapshot.ts'

export type OrgRow = Awaited<ReturnType<typeof findOrg>> & {}

export function findOrg(db: Executor, id: string) {
  return db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * Locks the org row for the rest of the transaction. Every write to an org's members and roles takes it
 * first, so invariant checks (last owner …) read state no concurrent write can change under them.
 */
export async function lockOrg(tx: Tx, id: string) {
  return tx.selectFrom('orgs').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst()
}

/**
 * Locks the orgs' rows in id order (two writes locking overlapping sets queue rather than deadlock: the rows
 * are locked as the sorted rows are returned). The rows, for the ids that exist.
 */
export async function lockOrgs(tx: Tx, ids: readonly string[]) {
  if (ids.length === 0) return []
  return tx.selectFrom('orgs').selectAll().where('id', 'in', ids).orderBy('id').forNoKeyUpdate().execute()
}

/**
 * `lockOrg`, and the change feed's head as it stands once the lock is held (migration 0023's
 * `orgkit_feed_head()`, run after the CTE's lock with a snapshot of its own): every write that committed
 * to this org before is at or below it. `org` is null when there is no such org; the head is read anyway.
 * `now`: the transaction's `now()`, what a column defaulting to it holds in every row the transaction
 * writes (as read back: to the millisecond).
 */
export async function lockOrgAtHead(
  tx: Tx,
  id: string,
): Promise<{ org: OrgRow | null; head: number; now: Date }> {
  const { rows } = await sql<Partial<OrgRow> & { feed_head: string; tx_now: Date }>`
    with locked as materialized (select * from orgs where id = ${id} for no key update)
    select locked.*, orgkit_feed_head() as feed_head, now() as tx_now
    from (select) as one left join locked on true
  `.execute(tx)
  const { feed_head, tx_now, ...org } = rows[0]!
  return { org: org.id == null ? null : (org as OrgRow), head: Number(feed_head), now: tx_now }
}

export function listOrgsByIds(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return Promise.resolve([])
  return db.selectFrom('orgs').selectAll().where('id', 'in', ids).orderBy('name').orderBy('id').execute()
}

export async function allOrgIds(db: Executor): Promise<string[]> {
  return (await db.selectFrom('orgs').select('id').execute()).map((r) => r.id)
}

export async function insertOrg(
  tx: Tx,
  org: { id: string; parentId: string | null; name: string; creatorId: string | null },
): Promise<Changed<OrgRow>> {
  const row = await tx
    .insertInto('orgs')
    .values({
      id: org.id,
      parent_id: org.parentId,
      name: org.name,
      creator_id: org.creatorId,
      password_policy: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'org.put', org: toOrgRecord(row) }])
}

export type OrgPatch = Partial<{
  name: string
  management_email: string | null
  logo_url: string | null
  full_name: string
  description: string
  website: string | null
  location: string
  creator_id: string
  parent_id: string | null
  resource_admins_grant_team_access: boolean
  single_role_teams: boolean
  single_role_teams_ever: boolean
}>

/** What the engine mirrors of an org (snapshot.ts's toOrgRecord): a patch touching any of it is a change. */
const MIRRORED: readonly (keyof OrgPatch)[] = ['parent_id', 'creator_id', 'single_role_teams']

export async function updateOrg(tx: Tx, id: string, patch: OrgPatch, now: Date): Promise<Changed<OrgRow>> {
  const row = await tx
    .updateTable('orgs')
    .set({ ...patch, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
  const mirrored = MIRRORED.some((key) => patch[key] !== undefined)
  return changed(row, mirrored ? [{ op: 'org.put', org: toOrgRecord(row) }] : [])
}

export async function deleteOrg(tx: Tx, id: string): Promise<Changed<void>> {
  await tx.deleteFrom('orgs').where('id', '=', id).execute()
  return changes({ op: 'org.delete', id })
}

export async function childOrgIds(db: Executor, id: string): Promise<string[]> {
  const rows = await db.selectFrom('orgs').select('id').where('parent_id', '=', id).execute()
  return rows.map((r) => r.id)
}

/** The org and every org below it, read with a recursive query. */
export async function subtreeIds(db: Executor, id: string): Promise<string[]> {
  const rows = await db
    .withRecursive('tree(id)', (qb) =>
      qb
        .selectFrom('orgs')
        .select('id')
        .where('id', '=', id)
        .unionAll((qb2) =>
          qb2.selectFrom('orgs').innerJoin('tree', 'tree.id', 'orgs.parent_id').select('orgs.id'),
        ),
    )
    .selectFrom('tree')
    .select('id')
    .execute()
  return rows.map((r) => r.id)
}

/** The org and every org above it, nearest first. */
export async function chainIds(db: Executor, id: string): Promise<string[]> {
  const ids: string[] = []
  let current: string | null = id
  while (current !== null && ids.length < 64) {
    const row = await db
      .selectFrom('orgs')
      .select(['id', 'parent_id'])
      .where('id', '=', current)
      .executeTakeFirst()
    if (!row) break
    ids.push(row.id)
    current = row.parent_id
  }
  return ids
}
