import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import { createReplica, OrgkitApiError, type Replica } from '../src/replica.ts'
import { sseEvents } from '../src/sse.ts'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts'

/** An org with an app, its creator (Super Admin) and a plain member: what the checks below ask about. */
async function world(server: TestServer) {
  const alice = await server.user('Alice')
  const bob = await server.user('Bob')
  const org = (await server.as(alice).post('/v1/orgs', { name: 'Acme' })).body.id as string
  const app = (await server.as(alice).post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'Shop' })).body
    .id as string
  await server.platform.post(`/v1/orgs/${org}/members`, { userId: bob, roles: ['org_member'] })
  return { alice, bob, org, app }
}

/** Makes Bob App Developer of the app (or takes it back): the write's revision. */
async function grant(server: TestServer, w: Awaited<ReturnType<typeof world>>): Promise<number> {
  const reply = await server.as(w.alice).post(`/v1/orgs/${w.org}/bindings`, {
    principal: { type: 'user', id: w.bob },
    role: 'app_developer',
    resourceId: w.app,
  })
  expect(reply.status).toBe(201)
  return reply.body.revision
}

/** Every revision told by `onApplied`, to hold the replica to "each exactly once, in order". */
function recorder() {
  const seen: { revision: number; how: string }[] = []
  return {
    seen,
    onApplied: (revision: number, how: 'change' | 'reloaded') => seen.push({ revision, how }),
    consecutive: () => seen.every((s, i) => i === 0 || s.revision === seen[i - 1]!.revision + 1),
  }
}

describe.each(DATABASES)('the replica for hosts (%s)', (database) => {
  let server: TestServer
  let proxy: TcpProxy
  let replica: Replica
  let w: Awaited<ReturnType<typeof world>>
  const applied = recorder()
  const upload = () => ({ permission: 'app.upload_bundle', resource: { type: 'app', id: w.app } })

  beforeAll(async () => {
    server = await startTestServer(database)
    proxy = await startTcpProxy(Number(new URL(server.url).port))
    w = await world(server)
    replica = await createReplica({ url: proxy.url, token: server.token, onApplied: applied.onApplied })
  })
  afterAll(async () => {
    await replica?.close()
    await proxy?.close()
    await server?.stop()
  })

  it('answers from the snapshot as the API does, and sees a write by the revision it answered with', async () => {
    const asked = [
      { subject: w.alice, ...upload() },
      { subject: w.bob, ...upload() },
      { subject: w.bob, permission: 'app.read', resource: { type: 'app', id: w.app } },
      { subject: w.bob, permission: 'org.read', resource: { org: w.org } },
      // An id that does not exist reads as no_grant, as the API answers it (issue 22.5).
      { subject: w.bob, permission: 'app.read', resource: { type: 'app', id: crypto.randomUUID() } },
    ]
    for (const question of asked) {
      const api = await server.platform.post('/v1/check', {
        ...question,
        subject: { type: 'user', id: question.subject },
      })
      const local = replica.checkNow(question.subject, question.permission, question.resource)
      expect({ allowed: local.allowed, reason: local.reason }).toEqual({
        allowed: api.body.allowed,
        reason: api.body.reason,
      })
    }
    expect(replica.checkNow(w.bob, 'app.upload_bundle', { type: 'app', id: w.app })).toMatchObject({
      allowed: false,
      reason: 'no_grant',
    })
    const revision = await grant(server, w)
    const decision = await replica.check({ subject: w.bob, ...upload(), atLeastRevision: revision })
    expect(decision).toMatchObject({ allowed: true, source: 'replica' })
    expect(decision.revision).toBeGreaterThanOrEqual(revision)
    expect(
      await replica.listResources({ subject: w.bob, permission: 'app.upload_bundle', type: 'app' }),
    ).toMatchObject({ ids: [w.app], source: 'replica' })
    expect(replica.lag()).toMatchObject({ behind: 0, transport: 'sse' })
  })

  it('answers a revision it has not applied yet from the API, and then from memory', async () => {
    proxy.hold() // the stream stalls: what the server sends waits in the proxy
    const removed = await server.as(w.alice).request('DELETE', `/v1/orgs/${w.org}/members/${w.bob}`)
    expect(removed.status).toBe(200)
    const revision = removed.body.revision as number
    expect(replica.revision).toBeLessThan(revision)
    const fromApi = await replica.check({ subject: w.bob, ...upload(), atLeastRevision: revision })
    expect(fromApi).toMatchObject({ allowed: false, source: 'api' })
    // The replica still holds the older state: without a revision it answers from it, as documented.
    expect(replica.checkNow(w.bob, 'app.upload_bundle', { type: 'app', id: w.app }).allowed).toBe(true)
    proxy.release()
    const fromReplica = await replica.check({ subject: w.bob, ...upload(), atLeastRevision: revision })
    expect(fromReplica).toMatchObject({ allowed: false, source: 'replica' })
  })

  it('resumes a dropped connection from its revision: every change once, in order', async () => {
    await server.platform.post(`/v1/orgs/${w.org}/members`, { userId: w.bob, roles: ['org_member'] })
    proxy.drop()
    let last = await grant(server, w)
    proxy.drop()
    for (let i = 0; i < 3; i++) {
      last = (await server.as(w.alice).post(`/v1/orgs/${w.org}/resources`, { type: 'app', name: `App ${i}` }))
        .body.revision
    }
    expect(await replica.waitFor(last, 10_000)).toBe(true)
    expect(applied.consecutive()).toBe(true)
    expect(applied.seen.filter((s) => s.how === 'reloaded')).toEqual([])
    const apps = await server.platform.post('/v1/list-resources', {
      subject: { type: 'user', id: w.alice },
      permission: 'app.read',
      type: 'app',
    })
    expect(
      (await replica.listResources({ subject: w.alice, permission: 'app.read', type: 'app' })).ids,
    ).toEqual(apps.body.ids)
    expect(replica.checkNow(w.bob, 'app.upload_bundle', { type: 'app', id: w.app }).allowed).toBe(true)
  })

  it('falls back to long polling when a proxy refuses event streams', async () => {
    // A proxy that answers 502 to any request for an event stream and forwards the rest.
    const target = new URL(server.url)
    const picky: Server = createServer(async (req, res) => {
      if (/event-stream/.test(req.headers.accept ?? '')) {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>')
        return
      }
      const upstream = await fetch(`${target.origin}${req.url}`, {
        headers: { authorization: req.headers.authorization ?? '' },
      })
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' })
      res.end(Buffer.from(await upstream.arrayBuffer()))
    })
    await new Promise<void>((resolve) => picky.listen(0, '127.0.0.1', resolve))
    const errors: unknown[] = []
    const polled = await createReplica({
      url: `http://127.0.0.1:${(picky.address() as AddressInfo).port}`,
      token: server.token,
      onError: (e) => errors.push(e),
    })
    try {
      const revision = await grant(server, { ...w, app: await newApp(server, w) })
      expect(await polled.waitFor(revision, 10_000)).toBe(true)
      expect(polled.lag()).toMatchObject({ transport: 'poll', behind: 0 })
      expect(errors.some((e) => e instanceof OrgkitApiError && e.code === 'HTTP_502')).toBe(true)
    } finally {
      await polled.close()
      await new Promise((resolve) => picky.close(resolve))
    }
  })

  it('serves any EventSource client, resuming from its Last-Event-ID rather than the after it began with', async () => {
    const head = replica.revision
    const abort = new AbortController()
    const response = await fetch(`${server.url}/v1/engine/changes?after=0`, {
      headers: {
        authorization: `Bearer ${server.token}`,
        accept: 'text/event-stream',
        'last-event-id': String(head - 2),
      },
      signal: abort.signal,
    })
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events: { event: string; id: string | undefined }[] = []
    for await (const event of sseEvents(response.body!)) {
      events.push({ event: event.event, id: event.id })
      if (event.id === String(head)) break
    }
    abort.abort()
    expect(events).toEqual([
      { event: 'head', id: undefined },
      { event: 'change', id: String(head - 1) },
      { event: 'change', id: String(head) },
    ])
  })

  it('refuses a wrong token, a token acting as a user, and a revision the database never had', async () => {
    await expect(createReplica({ url: server.url, token: 'okp_wrong' })).rejects.toMatchObject({
      problem: { status: 401 },
    })
    const asUser = await server.as(w.bob).get('/v1/engine/snapshot')
    expect(asUser).toMatchObject({ status: 403, body: { code: 'PLATFORM_ONLY' } })
    const feedAsUser = await server.as(w.bob).get('/v1/engine/changes?after=0')
    expect(feedAsUser).toMatchObject({ status: 403, body: { code: 'PLATFORM_ONLY' } })
    const ahead = await server.platform.get(`/v1/engine/changes?after=${replica.revision + 1_000_000}`)
    expect(ahead).toMatchObject({ status: 409, body: { code: 'REVISION_NOT_REACHED' } })
  })
})

async function newApp(server: TestServer, w: { alice: string; org: string }): Promise<string> {
  return (await server.as(w.alice).post(`/v1/orgs/${w.org}/resources`, { type: 'app', name: 'Other' })).body
    .id
}

/**
 * A restart needs a database that outlives the server: a schema on PostgreSQL when the suite has one (fast),
 * else PGlite in a folder (its first start on disk takes ~25 s here, too long to pay twice in `npm test`).
 */
const RESTARTABLE = DATABASES.includes('postgres') ? (['postgres'] as const) : (['pglite'] as const)

describe.each(RESTARTABLE)('the replica across a server restart (%s)', (database) => {
  it('resumes on the restarted server from its revision, missing and repeating nothing', async () => {
    const dir = database === 'pglite' ? await mkdtemp(join(tmpdir(), 'orgkit-replica-')) : null
    const on = dir ? { server: { database: { dataDir: dir } } } : {}
    let server = await startTestServer(database, on)
    const postgres = server.postgres
    const proxy = await startTcpProxy(Number(new URL(server.url).port))
    const applied = recorder()
    const w = await world(server)
    const replica = await createReplica({ url: proxy.url, token: server.token, onApplied: applied.onApplied })
    try {
      const before = replica.revision
      await server.close() // ends the stream: the replica reconnects, refused until the server is back
      server = await startTestServer(database, { ...on, postgres })
      proxy.target(Number(new URL(server.url).port))
      const last = await grant(server, w)
      expect(await replica.waitFor(last, 15_000)).toBe(true)
      expect(applied.seen.map((s) => s.revision)).toEqual(
        Array.from({ length: last - before }, (_, i) => before + 1 + i),
      )
      expect(replica.checkNow(w.bob, 'app.upload_bundle', { type: 'app', id: w.app }).allowed).toBe(true)
    } finally {
      await replica.close()
      await proxy.close()
      await server.close()
      if (dir) await rm(dir, { recursive: true, force: true })
      await postgres?.remove()
    }
  })
})
