import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Issue 22.7: a deleted or revoked platform token kept working for up to a second (each instance trusted a
 * token it had verified for that long). Now a revocation reaches every instance's cache as it commits —
 * however it was made: `orgkit tokens revoke`, or SQL by hand — through the database's own notification.
 */
describe.each(DATABASES)('platform token revocation (%s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database)
  })
  afterAll(() => s?.stop())

  const fresh = async (name: string) => {
    const { tokens } = await import('@orgkit/store')
    const made = await tokens.createPlatformToken(s.store.db, name)
    const c = client(s.url, made.secret)
    expect((await c.get('/v1/me')).status).toBe(200) // verified, so now cached
    return { ...made, c }
  }
  /** How long until this instance refuses the token, asking every millisecond (null: still accepted at 2 s). */
  const refusedAfter = async (c: ReturnType<typeof client>) => {
    const started = performance.now()
    while (performance.now() - started < 2000) {
      if ((await c.get('/v1/me')).status === 401) return performance.now() - started
      await new Promise((r) => setTimeout(r, 1))
    }
    return null
  }

  it('stops a token revoked by SQL, or deleted, on the next request', async () => {
    const revoked = await fresh('revoked')
    await s.store.db
      .updateTable('platform_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', revoked.id)
      .execute()
    const delay = await refusedAfter(revoked.c)
    expect(delay).not.toBeNull()
    expect(delay!).toBeLessThan(100)
    const deleted = await fresh('deleted')
    await s.store.db.deleteFrom('platform_tokens').where('id', '=', deleted.id).execute()
    expect(await refusedAfter(deleted.c)).toBeLessThan(100)
    // Other tokens are not disturbed.
    expect((await s.platform.get('/v1/me')).status).toBe(200)
  })

  it.runIf(database === 'pglite')(
    'refuses at once on the embedded database: one process writes it',
    async () => {
      const token = await fresh('at-once')
      await s.store.db.deleteFrom('platform_tokens').where('id', '=', token.id).execute()
      expect((await token.c.get('/v1/me')).status).toBe(401)
    },
  )
})

describe.runIf(DATABASES.includes('postgres'))(
  'platform token revocation across instances (postgres)',
  () => {
    let a: TestServer
    let b: TestServer
    beforeAll(async () => {
      a = await startTestServer('postgres')
      b = await startTestServer('postgres', { postgres: a.postgres })
    })
    afterAll(async () => {
      await b?.stop()
      await a?.stop()
    })

    it('reaches every instance within milliseconds, every time (p99 under 100 ms, was up to 1 s)', async () => {
      const { tokens } = await import('@orgkit/store')
      const delays: number[] = []
      for (let round = 0; round < 20; round++) {
        const made = await tokens.createPlatformToken(a.store.db, `round ${round}`)
        const onB = client(b.url, made.secret)
        expect((await onB.get('/v1/me')).status).toBe(200)
        const { revokePlatformToken } = tokens
        await revokePlatformToken(a.store.db, made.id, new Date())
        const started = performance.now()
        while ((await onB.get('/v1/me')).status !== 401) {
          if (performance.now() - started > 2000) throw new Error('still accepted after 2 s')
          await new Promise((r) => setTimeout(r, 1))
        }
        delays.push(performance.now() - started)
      }
      delays.sort((x, y) => x - y)
      expect(delays[Math.floor(delays.length * 0.99)]!).toBeLessThan(100)
    }, 60_000)
  },
)
