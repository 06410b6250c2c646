import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PLATFORM_TOKEN_TTL_MS } from '../src/middleware/auth.ts'
import { client, startTestServer, type TestServer } from './support/harness.ts'

/** Verified platform tokens are trusted for a second without a database round trip; nothing else is. */
describe('platform token verification cache', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer('pglite')
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('never caches a wrong token, and stops a revoked one within the TTL', async () => {
    const wrong = client(s.url, `${s.token}x`)
    expect((await wrong.get('/v1/orgs')).status).toBe(401)
    expect((await wrong.get('/v1/orgs')).status).toBe(401)
    expect((await s.platform.get('/v1/orgs')).status).toBe(200)
    await s.store.db.updateTable('platform_tokens').set({ revoked_at: new Date() }).execute()
    await new Promise((r) => setTimeout(r, PLATFORM_TOKEN_TTL_MS + 50))
    expect((await s.platform.get('/v1/orgs')).status).toBe(401)
  })
})
