import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Issue 22's findings 2, 3 and 5 (an independent security test), each a regression test that failed before
 * its fix: text PostgreSQL can't store as sent (NUL, lone surrogates) answered 500 or was stored as U+FFFD;
 * a body without Content-Type answered 500; the check API told a foreign id from an unknown one.
 */

interface Operation {
  method: string
  path: string
  hasBody: boolean
}

/** Every operation of the served OpenAPI document. */
async function operations(s: TestServer): Promise<Operation[]> {
  const doc = (await (await fetch(`${s.url}/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { requestBody?: unknown }>>
  }
  const found: Operation[] = []
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods))
      found.push({ method: method.toUpperCase(), path, hasBody: op.requestBody !== undefined })
  return found
}

/** The path with every parameter filled with `value` (already percent-encoded), a role key with a key. */
const fill = (path: string, value: string) =>
  path.replace(/\{([^}]+)\}/g, (_, name) => (name === 'key' && value.length === 36 ? 'some_key' : value))

/**
 * One server a database for both groups below (a server each was ~1 s of CPU to start and stop; issue 25.6):
 * each group works as users and orgs of its own.
 */
describe.each(DATABASES)('hostile input (%s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database)
  })
  afterAll(() => s?.stop())

  describe('hostile text and media types', () => {
    let userId: string
    let ops: Operation[]
    beforeAll(async () => {
      userId = await s.user('Walker')
      ops = await operations(s)
    })

    const send = (op: Operation, path: string, body: Uint8Array | undefined, type?: string) =>
      fetch(s.url + path, {
        method: op.method,
        headers: {
          authorization: `Bearer ${s.token}`,
          'x-orgkit-user': userId,
          ...(type !== undefined && { 'content-type': type }),
        },
        ...(body !== undefined && { body }),
      }).then(async (r) => ({
        status: r.status,
        type: r.headers.get('content-type'),
        body: (await r.json()) as { code?: string },
      }))
    const json = (text: string) => new TextEncoder().encode(text)

    it('refuses NUL and lone surrogates with 400, stored nowhere (issue 22.2: 500 and U+FFFD before)', async () => {
      const org = await s.as(userId).post('/v1/orgs', { name: 'Plain' })
      expect(org.status).toBe(201)
      for (const name of ['a\u0000b', 'a\ud800b', '\udc00']) {
        const created = await s.as(userId).post('/v1/orgs', { name })
        expect([created.status, created.body.code], JSON.stringify(name)).toEqual([400, 'VALIDATION_FAILED'])
        const renamed = await s.as(userId).patch(`/v1/orgs/${org.body.id}`, { name })
        expect([renamed.status, renamed.body.code]).toEqual([400, 'VALIDATION_FAILED'])
      }
      expect((await s.as(userId).get(`/v1/orgs/${org.body.id}`)).body.name).toBe('Plain')
      // A pair is a character, not a fault.
      const emoji = await s.as(userId).patch(`/v1/orgs/${org.body.id}`, { name: 'Plain \ud83d\ude00' })
      expect(emoji.status).toBe(200)
      expect((await s.as(userId).get(`/v1/orgs/${org.body.id}`)).body.name).toBe('Plain \u{1f600}')
    })

    it('says a missing field is required, and a wrong one what it should be', async () => {
      const missing = await s.as(userId).post('/v1/orgs', {})
      expect([missing.status, missing.body.detail, missing.body.details?.field]).toEqual([
        400,
        'name: required',
        'name',
      ])
      const wrong = await s.as(userId).post('/v1/orgs', { name: 5 })
      expect(wrong.body.detail).toBe('name: Invalid input: expected string, received number')
      // The check API, answered off the framework (hot/listener.ts), says it alike.
      const check = await s.as(userId).post('/v1/check', { resource: { type: 'org', id: userId } })
      expect([check.status, check.body.detail]).toEqual([400, 'permission: required'])
      // The platform token is no one: it names whom it asks about.
      const asPlatform = await fetch(`${s.url}/v1/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ permission: 'org.read', resource: { type: 'org', id: userId } }),
      })
      expect([asPlatform.status, ((await asPlatform.json()) as { detail: string }).detail]).toEqual([
        400,
        'subject: required with a platform token (whose access is asked: {"type": "user", "id": …})',
      ])
    })

    it('refuses them in every operation: body, path and query (the OpenAPI document walked)', async () => {
      expect(ops.length).toBeGreaterThan(50)
      const faults: string[] = []
      const expect400 = (what: string, got: { status: number; body: { code?: string } }) => {
        if (got.status !== 400 || got.body.code !== 'VALIDATION_FAILED')
          faults.push(`${what}: ${got.status} ${got.body.code}`)
      }
      const uuid = randomUUID()
      for (const op of ops) {
        const label = `${op.method} ${op.path}`
        if (op.path.includes('{'))
          expect400(`${label} path NUL`, await send(op, fill(op.path, 'a%00b'), undefined))
        if (op.path.includes('{'))
          expect400(`${label} path CESU`, await send(op, fill(op.path, '%ED%A0%80'), undefined))
        expect400(`${label} query NUL`, await send(op, `${fill(op.path, uuid)}?q=%00`, undefined))
        if (!op.hasBody) continue
        const path = fill(op.path, uuid)
        for (const [what, body] of [
          ['NUL', json('{"name":"a\\u0000","deep":[{"x":"y"}]}')],
          ['lone surrogate', json('{"deep":[{"x":"\\ud800"}]}')],
          ['lone low surrogate key', json('{"\\udfff":1}')],
          ['bytes not UTF-8', Uint8Array.from([...json('{"name":"'), 0xed, 0xa0, 0x80, ...json('"}')])],
        ] as const)
          expect400(`${label} body ${what}`, await send(op, path, body, 'application/json'))
      }
      expect(faults).toEqual([])
    })

    it('answers 415 with a problem to a body without Content-Type, on every operation taking one (issue 22.3)', async () => {
      const faults: string[] = []
      const uuid = randomUUID()
      for (const op of ops.filter((o) => o.hasBody)) {
        const got = await send(op, fill(op.path, uuid), json('{}'))
        if (
          got.status !== 415 ||
          got.body.code !== 'UNSUPPORTED_MEDIA_TYPE' ||
          got.type !== 'application/problem+json'
        )
          faults.push(`${op.method} ${op.path}: ${got.status} ${got.body.code} ${got.type}`)
      }
      expect(faults).toEqual([])
    })
  })

  describe('a path no route answers', () => {
    const anonymous = (method: string, path: string) =>
      fetch(s.url + path, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method !== 'GET' && { body: '{}' }),
      }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { code?: string }).code }))

    it('answers 404 without credentials too, not a 401 that sends the caller after a token', async () => {
      for (const [method, path] of [
        ['GET', '/v1/no-such-thing'],
        ['POST', '/v1/orgs/x/no-such-thing'],
        ['DELETE', '/v1/orgs'], // a path some route answers, not with this method
      ] as const)
        expect([method, path, await anonymous(method, path)]).toEqual([
          method,
          path,
          { status: 404, code: 'NOT_FOUND' },
        ])
      const known = await s.as(await s.user('Lost')).get('/v1/no-such-thing')
      expect([known.status, known.body.code]).toEqual([404, 'NOT_FOUND'])
    })

    it('fails closed: a route added after the app was built still asks for credentials; no handler runs unasked', async () => {
      const app = createApp({ ctx: s.ctx, logger: pino({ level: 'silent' }) })
      const ran: string[] = []
      app.get('/v1/added-later', (c) => {
        ran.push('later')
        return c.json({ ok: true })
      })
      // A /v1 route is a path of its own; one at a wildcard is never taken for one, and never runs.
      app.get('/v1/wild/*', (c) => {
        ran.push('wild')
        return c.json({ ok: true })
      })
      const ask = async (path: string, token?: string) => {
        const reply = await app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {})
        return [reply.status, ((await reply.json()) as { code?: string }).code]
      }
      expect(await ask('/v1/added-later')).toEqual([401, 'UNAUTHENTICATED'])
      expect(await ask('/v1/wild/x')).toEqual([404, 'NOT_FOUND'])
      expect(await ask('/v1/wild/x', s.token)).toEqual([404, 'NOT_FOUND'])
      expect(ran).toEqual([])
      expect(await ask('/v1/added-later', s.token)).toEqual([200, undefined])
      expect(ran).toEqual(['later'])
    })

    it('while every documented operation but the public ones still asks an anonymous caller who it is', async () => {
      // app.ts's public paths: the document, sign-up and sign-in, SSO's way in and an invitation's page.
      const open = (op: Operation) =>
        /^\/v1\/(openapi\.json|docs|captcha|auth\/(signup|login|verify|password-reset|sso\/))/.test(
          op.path,
        ) ||
        (op.method === 'GET' && /^\/v1\/invitations\/\{[^}]+\}$/.test(op.path))
      const faults: string[] = []
      for (const op of await operations(s)) {
        if (open(op)) continue
        const got = await anonymous(op.method, fill(op.path, randomUUID()))
        if (got.status !== 401) faults.push(`${op.method} ${op.path}: ${got.status} ${got.code}`)
      }
      expect(faults).toEqual([])
    })
  })

  describe('a foreign id answers as an unknown one (issue 22.5)', () => {
    let me: string
    let mine: { org: string; app: string }
    let theirs: { org: string; app: string }
    beforeAll(async () => {
      me = await s.user('Me')
      const them = await s.user('Them')
      const world = async (userId: string) => {
        const org = (await s.as(userId).post('/v1/orgs', { name: 'Org' })).body.id as string
        const app = await s.as(userId).post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'App' })
        return { org, app: app.body.id as string }
      }
      mine = await world(me)
      theirs = await world(them)
    })

    /** What the caller is told, without the revision (which moves with every write). */
    const ask = async (path: string, body: object, caller = s.as(me)) => {
      const reply = await caller.post(path, body)
      const { revision: _, ...rest } = reply.body
      return { status: reply.status, ...rest }
    }
    const questions = () => [
      { permission: 'app.read', resource: { type: 'app', id: theirs.app } },
      { permission: 'org.read', resource: { org: theirs.org } },
    ]
    const unknownOf = (q: { permission: string; resource: object }) =>
      'org' in q.resource
        ? { ...q, resource: { org: randomUUID() } }
        : { ...q, resource: { type: 'app', id: randomUUID() } }
    const sameAnswers = async (caller = s.as(me)) => {
      for (const q of questions()) {
        const foreign = await ask('/v1/check', q, caller)
        expect(foreign).toMatchObject({ status: 200, allowed: false })
        expect(foreign).toEqual(await ask('/v1/check', unknownOf(q), caller))
        const batch = await ask('/v1/check/batch', { checks: [q, unknownOf(q)] }, caller)
        expect(batch.results[0]).toEqual(batch.results[1])
        const explained = await ask('/v1/explain', q, caller)
        const explainedUnknown = await ask('/v1/explain', unknownOf(q), caller)
        expect({ ...explained, target: null }).toEqual({ ...explainedUnknown, target: null })
      }
    }

    it('tells a caller nothing of an org it is not in', async () => sameAnswers())

    it('nor of its gate: a foreign org requiring 2FA is not named', async () => {
      const policy = await s.platform.get(`/v1/orgs/${theirs.org}/security`)
      const put = await s.platform.put(`/v1/orgs/${theirs.org}/security`, {
        ...policy.body,
        requireMfa: true,
      })
      expect(put.status).toBe(200)
      await sameAnswers()
      // Its own members are still told what to do.
      const gated = await s.platform.get(`/v1/orgs/${theirs.org}/members`)
      const member = gated.body.items?.[0]?.userId ?? gated.body[0]?.userId
      const told = await ask(
        '/v1/check',
        { permission: 'org.read', resource: { org: theirs.org } },
        s.as(member),
      )
      expect(told).toMatchObject({ allowed: false, reason: 'mfa_required' })
    })

    it('nor through an API key limited to the caller’s own org', async () => {
      const key = await s.as(me).post('/v1/me/api-keys', { name: 'k', orgIds: [mine.org] })
      expect(key.status).toBe(201)
      const asKey = {
        post: async (path: string, body: unknown) => {
          const r = await fetch(s.url + path, {
            method: 'POST',
            headers: { authorization: `Bearer ${key.body.secret}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
          return { status: r.status, body: await r.json() }
        },
      }
      for (const q of questions().slice(0, 1)) {
        const foreign = await ask('/v1/check', q, asKey as never)
        expect(foreign).toEqual(await ask('/v1/check', unknownOf(q), asKey as never))
      }
    })
  })
})
