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
  const row = await tx
    .updateTable('revision')
    .set({ value: sql`value + 1` })
    .where('id', '=', 1)
    .returning('value')
    .executeTakeFirstOrThrow()
  await tx
    .insertInto('change_log')
    .values({ revision: row.value, changes: JSON.stringify(changes) })
    .execute()
  // Delivered at commit, to every instance listening: they pull the feed at once, not at the next poll.
  await sql`select pg_notify(${CHANGES_CHANNEL}, ${row.value})`.execute(tx)
  return Number(row.value)
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
