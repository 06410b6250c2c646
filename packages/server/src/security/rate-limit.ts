import { OrgkitError } from '@orgkit/core'
import type { Executor } from '@orgkit/store'
import { sql } from 'kysely'

/**
 * Fixed-window counters in the database, so the limit holds across every instance. `hit` counts one
 * attempt and throws RATE_LIMITED (429) past `limit` within the window.
 */
export async function hit(
  db: Executor,
  key: string,
  limit: number,
  windowSeconds: number,
  now: number,
): Promise<void> {
  const windowStart = new Date(Math.floor(now / 1000 / windowSeconds) * windowSeconds * 1000)
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.columns(['key', 'window_start']).doUpdateSet({ count: sql`rate_limits.count + 1` }),
    )
    .returning('count')
    .executeTakeFirstOrThrow()
  if (row.count > limit) {
    const retryAfter = Math.ceil((windowStart.getTime() + windowSeconds * 1000 - now) / 1000)
    throw new OrgkitError('RATE_LIMITED', 'too many attempts; try again later', { retryAfter })
  }
}

/** Forgets windows that ended (called now and then; the table only ever holds recent ones). */
export async function pruneRateLimits(db: Executor, now: number): Promise<void> {
  await db
    .deleteFrom('rate_limits')
    .where('window_start', '<', new Date(now - 86_400_000))
    .execute()
}
