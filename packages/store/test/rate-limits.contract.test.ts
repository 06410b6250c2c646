import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { rateLimits } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('rate limits repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const window = (hour: number) => new Date(Date.UTC(2030, 0, 1, hour))

  it('counts attempts per key and window', async () => {
    const key = `login:${randomUUID()}`
    expect(await rateLimits.countAttempt(db(), key, window(1))).toBe(1)
    expect(await rateLimits.countAttempt(db(), key, window(1))).toBe(2)
    expect(await rateLimits.countAttempt(db(), key, window(1))).toBe(3)
    expect(await rateLimits.countAttempt(db(), key, window(2))).toBe(1)
    expect(await rateLimits.countAttempt(db(), `${key}:other`, window(1))).toBe(1)
  })

  it('reads a window’s count without counting', async () => {
    const key = `failures:${randomUUID()}`
    expect(await rateLimits.attemptsIn(db(), key, window(1))).toBe(0)
    await rateLimits.countAttempt(db(), key, window(1))
    await rateLimits.countAttempt(db(), key, window(1))
    expect(await rateLimits.attemptsIn(db(), key, window(1))).toBe(2)
    expect(await rateLimits.attemptsIn(db(), key, window(1))).toBe(2)
    expect(await rateLimits.attemptsIn(db(), key, window(2))).toBe(0)
  })

  it('gives concurrent attempts a count each, none lost', async () => {
    const key = `burst:${randomUUID()}`
    const counts = await Promise.all(
      Array.from({ length: 20 }, () => rateLimits.countAttempt(db(), key, window(1))),
    )
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('forgets the windows that started before the cut-off, and only those', async () => {
    const key = `prune:${randomUUID()}`
    for (const hour of [1, 2, 3]) await rateLimits.countAttempt(db(), key, window(hour))
    await rateLimits.deleteWindowsBefore(db(), window(2))
    const left = await db()
      .selectFrom('rate_limits')
      .select(['window_start', 'count'])
      .where('key', '=', key)
      .orderBy('window_start')
      .execute()
    expect(left).toEqual([
      { window_start: window(2), count: 1 },
      { window_start: window(3), count: 1 },
    ])
  })
})
