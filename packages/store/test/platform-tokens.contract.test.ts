import { describe, expect, it } from 'vitest'
import { tokens } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('platform tokens repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const now = new Date(Date.UTC(2030, 0, 1))

  it('finds a live token by its secret, lists tokens without secrets, and revokes by id or prefix', async () => {
    const a = await tokens.createPlatformToken(db(), 'a')
    const b = await tokens.createPlatformToken(db(), 'b')
    expect(await tokens.findActivePlatformToken(db(), a.secret)).toEqual({
      id: a.id,
      name: 'a',
      prefix: a.prefix,
    })
    const listed = await tokens.listPlatformTokens(db())
    // By creation time; PGlite's clock counts milliseconds, and two made in one are listed by id.
    expect(
      listed
        .filter((t) => t.id === a.id || t.id === b.id)
        .map((t) => [t.name, t.prefix, t.revoked_at])
        .sort(),
    ).toEqual([
      ['a', a.prefix, null],
      ['b', b.prefix, null],
    ])
    expect(JSON.stringify(listed)).not.toContain(a.secret)

    expect(await tokens.revokePlatformToken(db(), a.id, now)).toMatchObject({ id: a.id })
    expect(await tokens.findActivePlatformToken(db(), a.secret)).toBeUndefined()
    expect(await tokens.revokePlatformToken(db(), a.id, now)).toBeUndefined() // once
    expect(await tokens.revokePlatformToken(db(), b.prefix, now)).toMatchObject({ id: b.id })
    expect(await tokens.findActivePlatformToken(db(), b.secret)).toBeUndefined()
    expect(await tokens.revokePlatformToken(db(), 'okp_nothing', now)).toBeUndefined()
  })

  it('announces a revocation and a deletion as they commit, with the token’s id, and nothing else', async () => {
    const store = handle.store
    const heard: string[] = []
    const listen = store.listen
      ? (channel: string, on: (p: string) => void) => store.listen!(channel, on, () => {})
      : store.listenInProcess!
    const stop = await listen(tokens.TOKENS_CHANNEL, (id) => heard.push(id))
    try {
      const revoked = await tokens.createPlatformToken(db(), 'revoked')
      const deleted = await tokens.createPlatformToken(db(), 'deleted')
      const renamed = await tokens.createPlatformToken(db(), 'renamed')
      await db()
        .updateTable('platform_tokens')
        .set({ name: 'new name' })
        .where('id', '=', renamed.id)
        .execute()
      await tokens.revokePlatformToken(db(), revoked.id, now)
      await db().deleteFrom('platform_tokens').where('id', '=', deleted.id).execute()
      const deadline = Date.now() + 2000
      while (heard.filter((id) => id === revoked.id || id === deleted.id).length < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5))
      const mine = new Set([revoked.id, deleted.id, renamed.id])
      expect(heard.filter((id) => mine.has(id))).toEqual([revoked.id, deleted.id])
    } finally {
      await stop()
    }
  })
})
