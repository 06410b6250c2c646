import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from './support/harness.ts'

// The console is served at `/` without shadowing the API, and the local outbox rule (docs/console.md).
describe('serving the console', () => {
  let s: TestServer
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgkit-console-'))
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root">console</div>')
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)')
    s = await startTestServer('pglite', { consoleDir: dir })
  })
  afterAll(async () => {
    await s.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers its files, and index.html for its own paths (links from mail, refreshes)', async () => {
    for (const path of ['/', '/login', '/invitations/oki_abc', '/orgs/x/settings/members']) {
      const reply = await fetch(s.url + path)
      expect(reply.status, path).toBe(200)
      expect(await reply.text(), path).toContain('console')
      expect(reply.headers.get('cache-control'), path).toBe('no-cache')
    }
    const asset = await fetch(`${s.url}/assets/app-1234.js`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toContain('immutable')
  })

  it('never answers for the API, health, readiness or metrics paths', async () => {
    const anonymous = await fetch(`${s.url}/v1/no-such-route`)
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json')
    expect(((await anonymous.json()) as { code: string }).code).toBe('UNAUTHENTICATED')
    const missing = await s.platform.get('/v1/no-such-route')
    expect(missing.status).toBe(404)
    expect(missing.body.code).toBe('NOT_FOUND')
    expect(((await (await fetch(`${s.url}/healthz`)).json()) as { ok: boolean }).ok).toBe(true)
    expect((await fetch(`${s.url}/readyz`)).headers.get('content-type')).toContain('application/json')
    expect(
      await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })).text(),
    ).toContain('orgkit_http_request_duration_seconds')
    expect((await fetch(`${s.url}/v1/openapi.json`)).headers.get('content-type')).toContain(
      'application/json',
    )
  })
})

describe('the local outbox', () => {
  it('is readable without credentials from loopback only on a local instance without SMTP', async () => {
    const local = await startTestServer('pglite', { localOutbox: true })
    const remote = await startTestServer('pglite')
    const smtp = await startTestServer('pglite', {
      localOutbox: true,
      smtpUrl: 'smtp://127.0.0.1:9',
    })
    try {
      const open = await fetch(`${local.url}/v1/outbox`)
      expect(open.status).toBe(200)
      expect(((await open.json()) as { smtp: boolean }).smtp).toBe(false)
      // Not asked for (a deployment's default), or with SMTP: credentials as before.
      expect((await fetch(`${remote.url}/v1/outbox`)).status).toBe(401)
      expect((await fetch(`${smtp.url}/v1/outbox`)).status).toBe(401)
      // A user's credentials never widen it: acting as a user is still refused on the local instance.
      const user = await local.user('Uma')
      expect((await local.as(user).get('/v1/outbox')).body.code).toBe('PLATFORM_ONLY')
      expect((await local.platform.get('/v1/outbox')).status).toBe(200)
    } finally {
      await Promise.all([local.stop(), remote.stop(), smtp.stop()])
    }
  })
})
