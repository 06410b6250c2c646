import { OrgkitError } from '@orgkit/core'
import { type Executor, rateLimits } from '@orgkit/store'

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
  const count = await rateLimits.countAttempt(db, key, windowStart)
  if (count > limit) {
    const retryAfter = Math.ceil((windowStart.getTime() + windowSeconds * 1000 - now) / 1000)
    throw new OrgkitError('RATE_LIMITED', 'too many attempts; try again later', { retryAfter })
  }
}

/** Forgets windows that ended (called now and then; the table only ever holds recent ones). */
export async function pruneRateLimits(db: Executor, now: number): Promise<void> {
  await rateLimits.deleteWindowsBefore(db, new Date(now - 86_400_000))
}
