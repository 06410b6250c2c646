import { OrgkitError } from '@orgkit/core'
import { type Executor, rateLimits } from '@orgkit/store'

/**
 * Fixed-window counters in the database, so a limit holds across every instance. `hit` counts one
 * attempt and throws RATE_LIMITED (429, with `retryAfter` seconds: the Retry-After header) past `limit`
 * within the window; `count` and `countSoFar` count events (sign-in failures) that decide something else.
 */
export async function hit(
  db: Executor,
  key: string,
  limit: number,
  windowSeconds: number,
  now: number,
): Promise<void> {
  const windowStart = windowStartOf(now, windowSeconds)
  const count = await rateLimits.countAttempt(db, key, windowStart)
  if (count > limit) {
    const retryAfter = Math.ceil((windowStart.getTime() + windowSeconds * 1000 - now) / 1000)
    throw new OrgkitError('RATE_LIMITED', 'too many attempts; try again later', { retryAfter })
  }
}

/** Counts one event in the current window and answers the window's count, this one included. */
export function count(db: Executor, key: string, windowSeconds: number, now: number): Promise<number> {
  return rateLimits.countAttempt(db, key, windowStartOf(now, windowSeconds))
}

/** The current window's count so far, counting nothing. */
export function countSoFar(db: Executor, key: string, windowSeconds: number, now: number): Promise<number> {
  return rateLimits.attemptsIn(db, key, windowStartOf(now, windowSeconds))
}

const windowStartOf = (now: number, windowSeconds: number) =>
  new Date(Math.floor(now / 1000 / windowSeconds) * windowSeconds * 1000)

/** Forgets windows that ended (called now and then; the table only ever holds recent ones). */
export async function pruneRateLimits(db: Executor, now: number): Promise<void> {
  await rateLimits.deleteWindowsBefore(db, new Date(now - 86_400_000))
}
