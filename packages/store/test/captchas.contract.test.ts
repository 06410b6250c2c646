import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { captchas } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('captchas repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const expiresAt = new Date('2030-01-01T00:10:00Z')

  it('spends a solution once: a replay is refused', async () => {
    const signature = `sig-${randomUUID()}`
    expect(await captchas.spendCaptcha(db(), signature, expiresAt)).toBe(true)
    expect(await captchas.spendCaptcha(db(), signature, expiresAt)).toBe(false)
    expect(await captchas.spendCaptcha(db(), `${signature}-other`, expiresAt)).toBe(true)
    const row = await db()
      .selectFrom('used_captchas')
      .selectAll()
      .where('signature', '=', signature)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ signature, expires_at: expiresAt })
  })

  it('lets one of concurrent spends of one solution through', async () => {
    const signature = `race-${randomUUID()}`
    const spent = await Promise.all(
      Array.from({ length: 10 }, () => captchas.spendCaptcha(db(), signature, expiresAt)),
    )
    expect(spent.filter(Boolean)).toHaveLength(1)
  })
})
