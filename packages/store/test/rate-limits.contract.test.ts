import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { rateLimits } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('rate limits repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 12, minute))
  const counts = (buckets: rateLimits.Bucket[]) => buckets.map((b) => [b.start.getUTCMinutes(), b.count])

  it('counts an attempt in its bucket and answers every bucket since, oldest first', async () => {
    const key = `login:${randomUUID()}`
    expect(counts(await rateLimits.countAttempt(db(), key, at(1), at(0)))).toEqual([[1, 1]])
    expect(counts(await rateLimits.countAttempt(db(), key, at(1), at(0)))).toEqual([[1, 2]])
    expect(counts(await rateLimits.countAttempt(db(), key, at(3), at(0)))).toEqual([
      [1, 2],
      [3, 1],
    ])
    expect(counts(await rateLimits.countAttempt(db(), key, at(3), at(0)))).toEqual([
      [1, 2],
      [3, 2],
    ])
    // Buckets before `since` are left out, and other keys' buckets are never counted.
    expect(counts(await rateLimits.countAttempt(db(), key, at(4), at(2)))).toEqual([
      [3, 2],
      [4, 1],
    ])
    expect(counts(await rateLimits.countAttempt(db(), `${key}:other`, at(4), at(0)))).toEqual([[4, 1]])
    // Nor buckets after this one: counted by an instance whose clock runs ahead, they count once this
    // instance's time reaches them, not before (they would refuse and set Retry-After from the future).
    expect(counts(await rateLimits.countAttempt(db(), key, at(3), at(2)))).toEqual([[3, 3]])
  })

  it('reads the buckets since a time without counting', async () => {
    const key = `failures:${randomUUID()}`
    expect(await rateLimits.bucketsSince(db(), key, at(0), at(9))).toEqual([])
    await rateLimits.countAttempt(db(), key, at(1), at(0))
    await rateLimits.countAttempt(db(), key, at(1), at(0))
    await rateLimits.countAttempt(db(), key, at(5), at(0))
    expect(counts(await rateLimits.bucketsSince(db(), key, at(0), at(9)))).toEqual([
      [1, 2],
      [5, 1],
    ])
    expect(counts(await rateLimits.bucketsSince(db(), key, at(1), at(9)))).toEqual([
      [1, 2],
      [5, 1],
    ])
    expect(counts(await rateLimits.bucketsSince(db(), key, at(2), at(9)))).toEqual([[5, 1]])
    expect(await rateLimits.bucketsSince(db(), key, at(6), at(9))).toEqual([])
    // Nor after `until`: a bucket an instance ahead of this one's clock counted in.
    expect(counts(await rateLimits.bucketsSince(db(), key, at(0), at(4)))).toEqual([[1, 2]])
  })

  it('gives concurrent attempts a count each, none lost, beside the earlier buckets', async () => {
    const key = `burst:${randomUUID()}`
    await rateLimits.countAttempt(db(), key, at(0), at(0))
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => rateLimits.countAttempt(db(), key, at(1), at(0))),
    )
    for (const answer of answers) expect(counts(answer)[0]).toEqual([0, 1])
    const current = answers.map((answer) => answer.find((b) => b.start.getTime() === at(1).getTime())!.count)
    expect(current.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('forgets the buckets that started before the cut-off, and only those', async () => {
    const key = `prune:${randomUUID()}`
    for (const minute of [1, 2, 3]) await rateLimits.countAttempt(db(), key, at(minute), at(0))
    await rateLimits.deleteBucketsBefore(db(), at(2))
    const left = await db()
      .selectFrom('rate_limits')
      .select(['window_start', 'count'])
      .where('key', '=', key)
      .orderBy('window_start')
      .execute()
    expect(left).toEqual([
      { window_start: at(2), count: 1 },
      { window_start: at(3), count: 1 },
    ])
  })
})
