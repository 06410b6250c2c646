import { sql } from 'kysely'
import type { Executor } from './database.ts'

/**
 * Attempt counters in buckets (a key's count per `window_start`, the bucket's start), in the database so a
 * limit holds across every instance. The caller picks the buckets and sums the ones a window spans
 * (server security/rate-limit.ts: a sliding window); the rows don't know their window.
 */
export interface Bucket {
  start: Date
  count: number
}

/**
 * Counts one attempt in the bucket starting at `bucket` and answers the key's buckets from `since` up to it,
 * oldest first, this one with the attempt included (none after it: an instance whose clock runs ahead
 * counts in buckets the others do not count until their time reaches them). One statement: the upsert gives concurrent attempts a
 * count each in the bucket, and the other buckets are read in the same snapshot.
 */
export async function countAttempt(db: Executor, key: string, bucket: Date, since: Date): Promise<Bucket[]> {
  // The outer select sees the table as it was before the upsert, so the bucket itself comes from it alone.
  const { rows } = await sql<{ window_start: Date; count: number }>`
    with counted as (
      insert into rate_limits (key, window_start, count) values (${key}, ${bucket}, 1)
      on conflict (key, window_start) do update set count = rate_limits.count + 1
      returning window_start, count
    )
    select window_start, count from counted
    union all
    select window_start, count from rate_limits
    where key = ${key} and window_start >= ${since} and window_start < ${bucket}
    order by window_start
  `.execute(db)
  return rows.map(toBucket)
}

/** The key's buckets from `since` to `until`, oldest first, counting nothing (none when nothing was counted). */
export async function bucketsSince(db: Executor, key: string, since: Date, until: Date): Promise<Bucket[]> {
  const rows = await db
    .selectFrom('rate_limits')
    .select(['window_start', 'count'])
    .where('key', '=', key)
    .where('window_start', '>=', since)
    .where('window_start', '<=', until)
    .orderBy('window_start')
    .execute()
  return rows.map(toBucket)
}

/** Forgets the buckets that started before `cutoff`. */
export async function deleteBucketsBefore(db: Executor, cutoff: Date): Promise<void> {
  await db.deleteFrom('rate_limits').where('window_start', '<', cutoff).execute()
}

const toBucket = (row: { window_start: Date; count: number }): Bucket => ({
  start: new Date(row.window_start),
  count: Number(row.count),
})
