import type { Change } from '@orgkit/core'
import { sql } from 'kysely'
import type { Executor, Tx } from './database.ts'

/**
 * The change feed: each write that changes authorization appends its `Change`s under the next revision, in
 * its own transaction. Bumping the one revision row takes its lock until commit, so revisions commit in
 * order: a reader that has seen revision N has seen everything before it.
 */
export const CHANGES_CHANNEL = 'orgkit_changes'

export async function recordChanges(tx: Tx, changes: readonly Change[]): Promise<number> {
  // One statement, one round trip: bump the revision (its row lock orders commits), log the changes under
  // it, and NOTIFY every instance listening (delivered at commit: they pull the feed at once, not at the
  // next poll). A data-modifying CTE runs exactly once, whether or not the outer query reads it.
  const { rows } = await sql<{ value: string }>`
    with next as (update revision set value = value + 1 where id = 1 returning value),
      logged as (insert into change_log (revision, changes) select value, ${JSON.stringify(changes)}::jsonb from next)
    select value, pg_notify(${CHANGES_CHANNEL}, value::text) from next
  `.execute(tx)
  if (rows.length !== 1) throw new Error('the revision row is missing')
  return Number(rows[0]!.value)
}

export async function currentRevision(db: Executor): Promise<number> {
  const row = await db.selectFrom('revision').select('value').where('id', '=', 1).executeTakeFirstOrThrow()
  return Number(row.value)
}

export async function changesSince(
  db: Executor,
  revision: number,
  limit = 1000,
): Promise<{ revision: number; changes: Change[] }[]> {
  const rows = await db
    .selectFrom('change_log')
    .select(['revision', 'changes'])
    .where('revision', '>', String(revision))
    .orderBy('revision')
    .limit(limit)
    .execute()
  return rows.map((r) => ({ revision: Number(r.revision), changes: r.changes as Change[] }))
}
