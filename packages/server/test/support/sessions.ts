import { expect } from 'vitest'
import { type Client, clientOver, type Reply, solveCaptcha, type TestServer } from './harness.ts'

/**
 * People signed in as the console signs them in (issue 19's Bar: the seeds' promises walked by signed-in
 * users, not only the platform token): a cookie jar, the CSRF cookie echoed on writes, mail read from the
 * local outbox (no SMTP configured).
 */
export interface Person extends Client {
  id: string
  email: string
  /** An API key of this person's, as a client (`Bearer okk_…`). */
  key(body?: Record<string, unknown>): Promise<Client>
}

function session(base: string): Client {
  const jar = new Map<string, string>()
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(cookie && { cookie }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(jar.has('orgkit_csrf') && { 'x-orgkit-csrf': jar.get('orgkit_csrf')! }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [name, value] = pair!.split('=')
      if (value) jar.set(name!, value)
      else jar.delete(name!)
    }
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }
  return clientOver(request)
}

function bearer(base: string, secret: string): Client {
  const request = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${secret}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }
  return clientOver(request)
}

/** The token of the newest link to `path` in mail to `to`, read from the local outbox. */
export async function linkFor(s: TestServer, to: string, path: 'verify?token=' | 'invitations/') {
  const pattern = new RegExp(`${path.replace('?', '\\?')}(ok[ir]_[\\w-]+)`)
  for (let i = 0; i < 100; i++) {
    const outbox = await s.platform.get('/v1/outbox')
    const mail = [...outbox.body.items]
      .reverse()
      .find((m: { to: string; text: string }) => m.to === to && pattern.test(m.text))
    if (mail) return mail.text.match(pattern)![1] as string
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`no mail to ${to}`)
}

const PASSWORD = 'a long enough passphrase'

/**
 * An account for `email` with `password`, its email verified from the outbox, signed up from one fixed
 * address (the server trusting one proxy hop: the sign-in tests' own addresses keep their counts). No
 * session: the sign-in tests sign in themselves.
 */
export async function accountFor(s: TestServer, email: string, password: string): Promise<void> {
  const reply = await fetch(`${s.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.200' },
    body: JSON.stringify({ email, password, name: 'Owner' }),
  })
  expect(reply.status).toBe(200)
  const token = await linkFor(s, email, 'verify?token=')
  expect((await s.platform.request('POST', '/v1/auth/verify', { token })).status).toBe(200)
}

/** Signs up, verifies the email from the outbox, and answers the signed-in person. */
export async function signUp(s: TestServer, name: string, email?: string): Promise<Person> {
  const address =
    email ?? `${name.toLowerCase().replace(/\W/g, '')}.${Math.random().toString(36).slice(2, 8)}@example.com`
  const c = session(s.url)
  expect((await c.post('/v1/auth/signup', { email: address, password: PASSWORD, name })).status).toBe(200)
  const verified = await c.post('/v1/auth/verify', { token: await linkFor(s, address, 'verify?token=') })
  expect(verified.status).toBe(200)
  return withKey(s, c, (await c.get('/v1/me')).body.id, address)
}

function withKey(s: TestServer, c: Client, id: string, email: string): Person {
  return {
    ...c,
    id,
    email,
    key: async (body = {}) => {
      const made = await c.post('/v1/me/api-keys', { name: 'scenario', ...body })
      expect(made.status).toBe(201)
      return bearer(s.url, made.body.secret)
    },
  }
}

/** An invitation sent by `from` (a signed-in person): the captcha solved as the console's widget does. */
export async function invite(s: TestServer, from: Client, orgId: string, body: Record<string, unknown>) {
  return from.post(`/v1/orgs/${orgId}/invitations`, { ...body, captcha: await solveCaptcha(s.url) })
}

/** Opens the invitation mailed to `person` and accepts it, signed in as them. */
export async function acceptInvitation(s: TestServer, person: Person): Promise<Reply> {
  return person.post(`/v1/invitations/${await linkFor(s, person.email, 'invitations/')}/accept`)
}
