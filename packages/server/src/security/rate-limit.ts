import { OrgkitError } from '@orgkit/core'
import { type Executor, rateLimits } from '@orgkit/store'

/**
 * Sliding-window counters in the database, so a limit holds across every instance. `hit` counts one
 * attempt and throws RATE_LIMITED (429, with `retryAfter` seconds: the Retry-After header) past `limit`
 * within the last `windowSeconds`; `count` and `countSoFar` count events (sign-in failures) that decide
 * something else.
 *
 * A window is counted in `BUCKETS` buckets of a fixed length (1/15 of it: a minute of 15 minutes), and a
 * count is the sum of the buckets that overlap the last `windowSeconds` — the oldest one whole. So a count
 * never misses an event of the last `windowSeconds` (no fresh count at a boundary: fixed windows let
 * 2 × limit through around one's end), and an event counts for between `windowSeconds` and one bucket
 * more. The rows a key keeps are its buckets, not its events.
 */
export async function hit(
  db: Executor,
  key: string,
  limit: number,
  windowSeconds: number,
  now: number,
): Promise<void> {
  const span = spanOf(now, windowSeconds)
  const buckets = await rateLimits.countAttempt(db, key, new Date(span.bucket), new Date(span.since))
  if (sum(buckets) > limit) {
    const retryAfter = Math.ceil((freedAt(buckets, limit, span) - now) / 1000)
    throw new OrgkitError('RATE_LIMITED', 'too many attempts; try again later', { retryAfter })
  }
}

/** Counts one event and answers the count in the window ending now, this one included. */
export async function count(db: Executor, key: string, windowSeconds: number, now: number): Promise<number> {
  const span = spanOf(now, windowSeconds)
  return sum(await rateLimits.countAttempt(db, key, new Date(span.bucket), new Date(span.since)))
}

/** The count in the window ending now, counting nothing. */
export async function countSoFar(
  db: Executor,
  key: string,
  windowSeconds: number,
  now: number,
): Promise<number> {
  const span = spanOf(now, windowSeconds)
  return sum(await rateLimits.bucketsSince(db, key, new Date(span.since), new Date(span.bucket)))
}

/** Buckets a window is counted in. */
export const BUCKETS = 15
/** How long buckets are kept (`pruneRateLimits`): longer than the longest window (a day) and a bucket. */
const KEPT_MS = 2 * 86_400_000

interface Span {
  /** A bucket's length, ms. */
  length: number
  /** The start of the bucket `now` is in. */
  bucket: number
  /** The start of the oldest bucket that overlaps the window ending now. */
  since: number
}

/**
 * The buckets of the window ending at `now`: the current one and the `BUCKETS` before it. Their span starts
 * at or before `now - windowSeconds` (each bucket is at least 1/BUCKETS of the window) and less than a
 * bucket before it.
 */
function spanOf(now: number, windowSeconds: number): Span {
  if (!(windowSeconds > 0 && windowSeconds <= 86_400))
    throw new Error(`a rate limit's window must be positive and at most a day (${windowSeconds} s)`)
  const length = Math.ceil((windowSeconds * 1000) / BUCKETS)
  const bucket = Math.floor(now / length) * length
  return { length, bucket, since: bucket - BUCKETS * length }
}

const sum = (buckets: readonly rateLimits.Bucket[]) => buckets.reduce((total, b) => total + b.count, 0)

/**
 * When the next attempt would be let through if none came meanwhile: once enough of the oldest buckets have
 * left the window that it would be the `limit`th. A bucket leaves once a later window's span starts past
 * it, `BUCKETS + 1` bucket lengths after its start.
 */
function freedAt(buckets: readonly rateLimits.Bucket[], limit: number, span: Span): number {
  let left = sum(buckets)
  for (const b of buckets) {
    left -= b.count
    if (left <= limit - 1) return b.start.getTime() + (BUCKETS + 1) * span.length
  }
  return span.bucket + (BUCKETS + 1) * span.length
}

/** Forgets buckets no window reaches any more (called now and then; the table only ever holds recent ones). */
export async function pruneRateLimits(db: Executor, now: number): Promise<void> {
  await rateLimits.deleteBucketsBefore(db, new Date(now - KEPT_MS))
}
