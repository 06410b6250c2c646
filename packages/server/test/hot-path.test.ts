import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../src/request.ts'
import { authorizationRoutes } from '../src/routes/check.ts'
import { createSession } from '../src/services/accounts.ts'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

interface Ask {
  path: string
  body: string
  headers: Record<string, string>
}

interface Answer {
  status: number
  type: string | null
  requestId: string | null
  // biome-ignore lint/suspicious/noExplicitAny: problem details and decisions alike
  body: any
}

/**
 * The hot path (hot/listener.ts) answers the authorization API without the framework; the app answers the same
 * routes through its middleware. Every question here is asked both ways, over HTTP (the hot path) and
 * through `app.request()` (the app, in process, on the same engine and database), and the answers must be
 * the same: status, content type, body, request id. The hot path's counter proves it answered the
 * HTTP side; a request it must leave to the app (no JSON content type) must not move it.
 */
describe.each(DATABASES)('the hot path answers as the app does (%s)', (database) => {
  const { s, w } = useCapgoServer(database)
  let apiKey: string
  let session: { token: string; csrf: string }
  beforeAll(async () => {
    apiKey = (await s.as(w.users.appDeveloper).post('/v1/me/api-keys', { name: 'ci', orgIds: [w.orgId] }))
      .body.secret
    session = await s.ctx.db
      .transaction()
      .execute((tx) =>
        createSession(tx, s.ctx, w.users.admin, { ip: null, userAgent: null, requestId: null }),
      )
  }, 60_000)

  const over = async ({ path, body, headers }: Ask, viaApp: boolean): Promise<Answer> => {
    const init = { method: 'POST', headers, body }
    const response = viaApp ? await s.app.request(path, init) : await fetch(s.url + path, init)
    const text = await response.text()
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      requestId: response.headers.get('x-request-id'),
      body: JSON.parse(text),
    }
  }

  const hotCount = async () => {
    const text = await (
      await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })
    ).text()
    return Number(/^orgkit_hot_path_requests_total (\d+)/m.exec(text)?.[1])
  }

  /** Asks both ways; request ids are random unless given, so they are compared for shape and echo. */
  async function same(ask: Ask): Promise<Answer> {
    const hot = await over(ask, false)
    const app = await over(ask, true)
    for (const answer of [hot, app]) {
      expect(answer.requestId).toMatch(/^[\w.-]{1,100}$/)
      if (answer.body.requestId !== undefined) expect(answer.body.requestId).toBe(answer.requestId)
      if (ask.headers['x-request-id'] && /^[\w.-]{1,100}$/.test(ask.headers['x-request-id']))
        expect(answer.requestId).toBe(ask.headers['x-request-id'])
      delete answer.body.requestId
      answer.requestId = null
    }
    expect(hot, `${ask.path} ${ask.body.slice(0, 200)}`).toEqual(app)
    return hot
  }

  const json = { 'content-type': 'application/json' }
  const platform = () => ({ ...json, authorization: `Bearer ${s.token}` })
  const asUser = (id: string) => ({ ...platform(), 'x-orgkit-user': id })
  const ask = (path: string, body: unknown, headers: Record<string, string>): Ask => ({
    path,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers,
  })

  it('agrees on every route, caller and failure', async () => {
    const app = { type: 'app', id: w.appId }
    const check = { permission: 'app.upload_bundle', resource: app }
    const about = (id: string) => ({ ...check, subject: { type: 'user', id } })
    const asks: Ask[] = [
      // Every route, as the host product asks them: a platform token naming the subject.
      ask('/v1/check', about(w.users.appUploader), platform()),
      ask('/v1/check', about(w.users.outsider), platform()),
      ask(
        '/v1/check',
        { ...about(w.users.member), resource: { org: w.orgId }, permission: 'org.read' },
        platform(),
      ),
      ask('/v1/check/batch', { checks: [about(w.users.appUploader), about(w.users.outsider)] }, platform()),
      ask(
        '/v1/check/batch',
        { checks: [about(w.users.appUploader), { ...about(w.users.member), permission: 'no.such' }, check] },
        platform(),
      ),
      ask(
        '/v1/list-resources',
        { subject: { type: 'user', id: w.users.appReader }, permission: 'app.read', type: 'app' },
        platform(),
      ),
      ask('/v1/list-principals', check, platform()),
      ask('/v1/explain', about(w.users.appDeveloper), platform()),
      // Every kind of caller: acting as a user, an API key, a session (with and without its CSRF header).
      ask('/v1/check', check, asUser(w.users.appUploader)),
      ask('/v1/check', about(w.users.member), asUser(w.users.appReader)),
      ask('/v1/check', about(w.users.member), asUser(w.users.admin)),
      ask('/v1/list-principals', check, asUser(w.users.appReader)),
      ask('/v1/check', check, { ...json, authorization: `Bearer ${apiKey}` }),
      ask('/v1/check', check, {
        ...json,
        cookie: `orgkit_session=${session.token}`,
        'x-orgkit-csrf': session.csrf,
      }),
      ask('/v1/check', check, { ...json, cookie: `other=1; orgkit_session=${session.token}` }),
      // Who is not let in.
      ask('/v1/check', check, json),
      ask('/v1/check', check, { ...json, authorization: `Bearer ${s.token}x` }),
      ask('/v1/check', check, { ...json, authorization: 'Basic abc' }),
      ask('/v1/check', check, { ...json, authorization: `Bearer ${apiKey}x` }),
      ask('/v1/check', check, { ...asUser('not-a-user') }),
      ask('/v1/check', check, { ...json, cookie: 'orgkit_session=oks_forged', 'x-orgkit-csrf': 'x' }),
      // What is not a question.
      ask('/v1/check', '{"permission": ', platform()),
      ask('/v1/check', '', platform()),
      ask('/v1/check', '[]', platform()),
      ask('/v1/check', { permission: 'app.read' }, platform()),
      ask('/v1/check', { ...about(w.users.member), extra: 1 }, platform()),
      ask('/v1/check', { ...about(w.users.member), permission: 'no.such' }, platform()),
      ask('/v1/check', { ...about(w.users.member), resource: { type: 'app', id: 'nope' } }, platform()),
      ask('/v1/check/batch', { checks: [] }, platform()),
      ask('/v1/list-resources', { permission: 'app.read' }, platform()),
      ask('/v1/check', { ...about(w.users.member), atLeastRevision: 1e12 }, platform()),
      ask('/v1/check', { ...about(w.users.member), atLeastRevision: -1 }, platform()),
      ask('/v1/check', `{"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`, platform()),
      ask('/v1/check', check, {
        ...json,
        charset: 'utf-8',
        'content-type': 'Application/JSON; charset=utf-8',
        authorization: `Bearer ${s.token}`,
        'x-orgkit-user': w.users.member,
      }),
      // Request ids: one given is echoed, a strange one replaced.
      ask('/v1/check', about(w.users.member), { ...platform(), 'x-request-id': 'host-req.42' }),
      ask('/v1/check', about(w.users.member), { ...platform(), 'x-request-id': 'has spaces' }),
      // A batch-level subject, overridden by one check's own.
      ask(
        '/v1/check/batch',
        {
          subject: { type: 'user', id: w.users.appUploader },
          checks: [check, { ...check, permission: 'bundle.delete' }, about(w.users.outsider)],
        },
        platform(),
      ),
    ]
    const before = await hotCount()
    const answers = []
    for (const a of asks) answers.push(await same(a))
    expect(await hotCount()).toBe(before + asks.length)
    // The questions meant something: allowed, denied, each kind of refusal.
    const statuses = new Set(answers.map((a) => a.status))
    expect([...statuses].sort()).toEqual([200, 400, 401, 403, 409])
    expect(answers[0]!.body.allowed).toBe(true)
    expect(answers[1]!.body.allowed).toBe(false)
    expect(answers[4]!.body.results[1].error.code).toBe('UNKNOWN_PERMISSION')
    expect(answers[13]!.status).toBe(200)
    expect(answers[14]!.body.code).toBe('CSRF_FAILED')
    expect(answers[asks.findIndex((a) => a.body.length > MAX_BODY_BYTES)]!.body.detail).toMatch(/larger than/)
    expect(answers.at(-1)!.body.results.map((r: { allowed: boolean }) => r.allowed)).toEqual([
      true,
      false,
      false,
    ])
  }, 60_000)

  it('times what it answers in the histogram the app uses, by route and status', async () => {
    const count = async (route: string, status: number) => {
      const text = await (
        await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })
      ).text()
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith(
            `orgkit_http_request_duration_seconds_count{method="POST",route="${route}",status="${status}"}`,
          ),
        )
      return Number(line?.split(' ')[1] ?? 0)
    }
    const check = { permission: 'app.read', resource: { type: 'app', id: w.appId } }
    const before = [await count('/v1/check', 200), await count('/v1/check', 401)]
    await over(ask('/v1/check', check, asUser(w.users.appReader)), false)
    await over(ask('/v1/check', check, json), false)
    expect([await count('/v1/check', 200), await count('/v1/check', 401)]).toEqual([
      before[0]! + 1,
      before[1]! + 1,
    ])
  })

  it('leaves what is not a JSON POST to one of its routes to the app', async () => {
    const before = await hotCount()
    const check = { permission: 'app.read', resource: { type: 'app', id: w.appId } }
    for (const a of [
      ask('/v1/check', check, { ...platform(), 'content-type': 'text/plain' }),
      ask('/v1/check', check, { authorization: `Bearer ${s.token}`, 'x-orgkit-user': w.users.member }),
      ask('/v1/check?pretty=1', check, asUser(w.users.member)),
      ask('/v1/check/', check, asUser(w.users.member)),
    ])
      await same(a)
    const got = await fetch(`${s.url}/v1/check`, { headers: asUser(w.users.member) })
    expect(got.status).toBe(404)
    expect(await hotCount()).toBe(before)
    expect(authorizationRoutes.map((r) => r.path)).toContain('/v1/check/batch')
  })

  it('outlives a client that hangs up halfway through its body', async () => {
    const { connect } = await import('node:net')
    const { port } = new URL(s.url)
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Authorization: Bearer ${s.token}\r\nContent-Length: 1000\r\n\r\n{"permission":`,
        )
        setTimeout(() => socket.destroy(), 20)
      })
      socket.on('close', () => resolve())
      socket.on('error', reject)
    })
    const check = { permission: 'app.read', resource: { type: 'app', id: w.appId } }
    expect((await over(ask('/v1/check', check, asUser(w.users.appReader)), false)).body.allowed).toBe(true)
  })

  it('answers many requests at once on one connection pool, each its own', async () => {
    const members = [w.users.appUploader, w.users.outsider, w.users.appReader, w.users.creator]
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        over(
          ask(
            '/v1/check',
            {
              permission: 'app.upload_bundle',
              resource: { type: 'app', id: w.appId },
              subject: { type: 'user', id: members[i % 4]! },
            },
            { ...platform(), 'x-request-id': `r${i}` },
          ),
          false,
        ),
      ),
    )
    replies.forEach((reply, i) => {
      expect(reply.requestId).toBe(`r${i}`)
      expect(reply.body.allowed).toBe(i % 4 === 0 || i % 4 === 3)
    })
  })
})
