import { sql } from 'kysely'
import type { Executor } from './database.ts'

/**
 * Fixed-window attempt counters, in the database so a limit holds across every instance. Counts one
 * attempt in the window starting at `windowStart` and answers the window's count, this one included. One
 * upsert, so concurrent attempts each get their own count.
 */
export async function countAttempt(db: Executor, key: string, windowStart: Date): Promise<number> {
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.columns(['key', 'window_start']).doUpdateSet({ count: sql`rate_limits.count + 1` }),
    )
    .returning('count')
    .executeTakeFirstOrThrow()
  return row.count
}

/** The window's count so far, without counting anything (0 when nothing was counted in it). */
export async function attemptsIn(db: Executor, key: string, windowStart: Date): Promise<number> {
  const row = await db
    .selectFrom('rate_limits')
    .select('count')
    .where('key', '=', key)
    .where('window_start', '=', windowStart)
    .executeTakeFirst()
  return row?.count ?? 0
}

/** Forgets the windows that started before `cutoff`. */
export async function deleteWindowsBefore(db: Executor, cutoff: Date): Promise<void> {
  await db.deleteFrom('rate_limits').where('window_start', '<', cutoff).execute()
}
