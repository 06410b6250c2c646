import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from './support/harness.ts'

/**
 * Issue 22.8: `/metrics` answered anyone (routes, statuses, request rates, the process's memory). It wants
 * a platform token or the scraper's own `ORGKIT_METRICS_TOKEN`; or, with `ORGKIT_METRICS_ADDRESS`, it is
 * served on that address only (an internal interface), and the public port has no `/metrics` at all.
 */
const METRICS_TOKEN = 'scrape-me-please-0123456789abcdef'

describe('/metrics on the public port needs a token', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer('pglite', { server: { metricsToken: METRICS_TOKEN } })
  })
  afterAll(() => s?.stop())

  const scrape = (authorization?: string) =>
    fetch(`${s.url}/metrics`, { headers: authorization ? { authorization } : {} })

  it('refuses a caller without a token, with a wrong one, or with a user’s API key', async () => {
    const anonymous = await scrape()
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { code: string }).code).toBe('UNAUTHENTICATED')
    expect((await scrape(`Bearer ${METRICS_TOKEN}x`)).status).toBe(401)
    expect((await scrape('Bearer okp_not-a-token')).status).toBe(401)
    const userId = await s.user('Scraper')
    const key = await s.as(userId).post('/v1/me/api-keys', { name: 'metrics' })
    const byKey = await scrape(`Bearer ${key.body.secret}`)
    expect(byKey.status).toBe(403)
  })

  it('answers the metrics token and a platform token', async () => {
    for (const token of [METRICS_TOKEN, s.token]) {
      const reply = await scrape(`Bearer ${token}`)
      expect(reply.status).toBe(200)
      expect(await reply.text()).toContain('orgkit_http_request_duration_seconds')
    }
  })
})

describe('/metrics on a separate listen address', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer('pglite', { server: { metricsAddress: '127.0.0.1:0' } })
  })
  afterAll(() => s?.stop())

  it('is served there without a token, and not at all on the public port', async () => {
    expect(s.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(s.metricsUrl).not.toBe(s.url)
    const there = await fetch(`${s.metricsUrl}/metrics`)
    expect(there.status).toBe(200)
    expect(await there.text()).toContain('orgkit_http_request_duration_seconds')
    expect((await fetch(`${s.metricsUrl}/v1/orgs`)).status).toBe(404)
    expect((await fetch(`${s.url}/metrics`)).status).toBe(404)
    expect(
      (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })).status,
    ).toBe(404)
  })
})
