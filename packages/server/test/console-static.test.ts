import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from './support/harness.ts'

const SCRIPT = `${'console.log("the console, long enough to be worth compressing");\n'.repeat(40)}`

// The console is served at `/` without shadowing the API, and the local outbox rule (docs/console.md).
describe('serving the console', () => {
  let s: TestServer
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgkit-console-'))
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root">console</div>')
    writeFileSync(join(dir, 'assets', 'app-1234.js'), SCRIPT)
    // What the build's compress step leaves beside a file; served as it is when asked for.
    writeFileSync(join(dir, 'assets', 'app-1234.js.gz'), gzipSync(SCRIPT, { level: 9 }))
    writeFileSync(join(dir, 'assets', 'logo-5678.png'), Buffer.alloc(4096, 7))
    writeFileSync(join(dir, '.production'), '') // the build's own mark, not the site's
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
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await asset.text()).toBe(SCRIPT)
  })

  it('sends brotli or gzip as the browser accepts, and the same bytes decoded', async () => {
    const asset = (acceptEncoding: string) =>
      raw(`${s.url}/assets/app-1234.js`, { 'accept-encoding': acceptEncoding })
    const br = await asset('gzip, deflate, br')
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toBe('Accept-Encoding')
    expect(br.body.length).toBeLessThan(SCRIPT.length / 4)
    expect(Number(br.headers['content-length'])).toBe(br.body.length)
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT)
    const gz = await asset('gzip;q=1, br;q=0')
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT)
    const plain = await asset('identity')
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.toString()).toBe(SCRIPT)
    // Images are compressed already: as they are, whatever is accepted.
    const image = await raw(`${s.url}/assets/logo-5678.png`, { 'accept-encoding': 'br, gzip' })
    expect(image.headers['content-type']).toBe('image/png')
    expect(image.headers['content-encoding']).toBeUndefined()
    expect(image.body.length).toBe(4096)
  })

  it('answers a revalidated index.html with 304 while it is unchanged', async () => {
    const first = await fetch(`${s.url}/orgs/x/apps`)
    const etag = first.headers.get('etag')
    expect(etag).toBeTruthy()
    const again = await fetch(`${s.url}/login`, { headers: { 'if-none-match': etag! } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const other = await fetch(`${s.url}/login`, { headers: { 'if-none-match': 'W/"other"' } })
    expect(other.status).toBe(200)
  })

  it('serves no dotfile', async () => {
    expect((await fetch(`${s.url}/.production`)).headers.get('content-type')).toMatch(/^text\/html/) // index.html
  })

  it('is the production build, though vitest (which built it, NODE_ENV=test) asked', () => {
    expect(process.env.NODE_ENV).toBe('test')
    const dist = fileURLToPath(new URL('../../console/dist/', import.meta.url))
    const entry = readFileSync(join(dist, 'index.html'), 'utf8').match(
      /src="\/(assets\/index-[^"]+\.js)"/,
    )![1]!
    expect(readFileSync(join(dist, entry), 'utf8')).not.toContain('jsxDEV') // React's development JSX
  })

  it('never answers for the API, health, readiness or metrics paths', async () => {
    const anonymous = await fetch(`${s.url}/v1/no-such-route`)
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json')
    expect(((await anonymous.json()) as { code: string }).code).toBe('NOT_FOUND')
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

/** A GET whose body is not decoded (fetch would undo the content encoding). */
function raw(url: string, headers: Record<string, string>) {
  return new Promise<{ headers: Record<string, string | undefined>; body: Buffer }>((resolve, reject) => {
    get(url, { headers }, (reply) => {
      const chunks: Buffer[] = []
      reply.on('data', (chunk: Buffer) => chunks.push(chunk))
      reply.on('end', () =>
        resolve({
          headers: reply.headers as Record<string, string | undefined>,
          body: Buffer.concat(chunks),
        }),
      )
    }).on('error', reject)
  })
}
