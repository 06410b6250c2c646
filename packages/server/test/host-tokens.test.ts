import { createHmac, createPublicKey, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { resolveCaller } from '../src/middleware/auth.ts'
import { HostTokens, JWKS_COOLDOWN_MS } from '../src/security/host-tokens.ts'
import type { Ctx } from '../src/services/context.ts'
import {
  type Client,
  client,
  DATABASES,
  type Reply,
  startTestServer,
  type TestServer,
} from './support/harness.ts'
import {
  AUDIENCE,
  hostTokenConfig,
  ISSUER,
  type JwksServer,
  makeKey,
  signToken,
  startJwks,
} from './support/host-tokens.ts'

/**
 * Issue 20: the host product's own JWTs, verified against its JWKS (a real one, served on loopback), and
 * the users they name — made just in time, linked, looked up and upserted by external id.
 */
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

/**
 * The host's signing keys, made once for the file rather than per database (an RSA pair is the slow one):
 * each database's suite publishes them from a JWKS server of its own.
 */
const [rsa, ec, ed, stranger] = await Promise.all([
  makeKey('RS256', 'rsa-1'),
  makeKey('ES256', 'ec-1'),
  makeKey('EdDSA', 'ed-1'),
  makeKey('RS256', 'rsa-1'), // the same kid as a real key, another key pair
])

describe.each(DATABASES)('host tokens (%s)', (database) => {
  let s: TestServer
  let jwks: JwksServer
  /** A caller presenting this host token. */
  const bearer = (token: string): Client => client(s.url, token)
  const sub = () => `auth0|${randomUUID()}`
  const email = () => `${randomUUID().slice(0, 8)}@host.example`

  beforeAll(async () => {
    jwks = await startJwks([rsa.jwk, ec.jwk, ed.jwk])
    s = await startTestServer(database, { server: { hostTokens: hostTokenConfig(jwks) } })
  })
  afterAll(async () => {
    await s?.stop()
    await jwks?.close()
  })

  describe('a valid token', () => {
    it.each(['RS256', 'ES256', 'EdDSA'] as const)(
      'signed %s: its sub is the caller, made just in time from email and name',
      async (alg) => {
        const key = { RS256: rsa, ES256: ec, EdDSA: ed }[alg]
        const id = sub()
        const mail = email()
        const token = await signToken(key, { sub: id, email: mail, name: 'Ada Host' })
        const me = await bearer(token).get('/v1/me')
        expect(me.status).toBe(200)
        expect(me.body).toMatchObject({ email: mail, name: 'Ada Host', externalId: id, mfaEnabled: false })
        // The next request is the same user, not another.
        expect((await bearer(token).get('/v1/me')).body.id).toBe(me.body.id)
        const found = await s.platform.get(`/v1/users?externalId=${encodeURIComponent(id)}`)
        expect(found.body.items.map((u: { id: string }) => u.id)).toEqual([me.body.id])
      },
    )

    it('is accepted with aud as an array holding the audience', async () => {
      const token = await signToken(rsa, { sub: sub(), email: email(), aud: ['other-api', AUDIENCE] })
      expect((await bearer(token).get('/v1/me')).status).toBe(200)
    })

    it('names a user created with that externalId without an email claim; a stranger without one is refused', async () => {
      const id = sub()
      const made = await s.platform.post('/v1/users', { email: email(), name: 'Pre', externalId: id })
      expect(made.status).toBe(201)
      expect((await bearer(await signToken(rsa, { sub: id })).get('/v1/me')).body.id).toBe(made.body.id)
      const unknown = await bearer(await signToken(rsa, { sub: sub() })).get('/v1/me')
      expect([unknown.status, unknown.body.code]).toEqual([401, 'JWT_USER_UNKNOWN'])
    })

    it('answers the authorization API on the hot path, as that user', async () => {
      const token = await signToken(ec, { sub: sub(), email: email() })
      const org = await bearer(token).post('/v1/orgs', { name: 'Host Org' })
      expect(org.status).toBe(201)
      const check = await bearer(token).post('/v1/check', {
        permission: 'org.delete',
        resource: { org: org.body.id },
      })
      expect(check.body).toMatchObject({ allowed: true })
    })
  })

  describe('refused with 401 and its own code, authenticating no one', () => {
    /** The token is refused with `code`, and no user came of it. */
    async function refused(token: string, code: string, externalId: string) {
      const reply = await bearer(token).get('/v1/me')
      expect([reply.status, reply.body.code]).toEqual([401, code])
      const found = await s.platform.get(`/v1/users?externalId=${encodeURIComponent(externalId)}`)
      expect(found.body.items).toEqual([])
    }

    it('a bad signature (the payload changed after signing)', async () => {
      const id = sub()
      const token = await signToken(rsa, { sub: sub(), email: email() })
      const [header, , signature] = token.split('.')
      const forged = `${header}.${b64({ iss: ISSUER, aud: AUDIENCE, exp: now() + 600, sub: id, email: email() })}.${signature}`
      await refused(forged, 'JWT_SIGNATURE_INVALID', id)
    })

    it('a bad signature (another key pair under a kid of the JWKS)', async () => {
      const id = sub()
      await refused(await signToken(stranger, { sub: id, email: email() }), 'JWT_SIGNATURE_INVALID', id)
    })

    it('an expired token', async () => {
      const id = sub()
      const token = await signToken(rsa, { sub: id, email: email(), iat: now() - 120, exp: now() - 60 })
      await refused(token, 'JWT_EXPIRED', id)
    })

    it('a token that expires after it was verified (a verified token is trusted again, never past exp)', async () => {
      const id = sub()
      const exp = now() + 1
      const token = await signToken(ed, { sub: id, email: email(), exp })
      expect((await bearer(token).get('/v1/me')).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 + 50 - Date.now()))
      const reply = await bearer(token).get('/v1/me')
      expect([reply.status, reply.body.code]).toEqual([401, 'JWT_EXPIRED'])
    })

    it('a token with no sub', async () => {
      const reply = await bearer(await signToken(rsa, { email: email() })).get('/v1/me')
      expect([reply.status, reply.body.code, reply.body.details.claim]).toEqual([
        401,
        'JWT_CLAIM_INVALID',
        'sub',
      ])
    })

    it('a token with no exp', async () => {
      const id = sub()
      await refused(
        await signToken(rsa, { sub: id, email: email(), exp: undefined }),
        'JWT_CLAIM_INVALID',
        id,
      )
    })

    it('a wrong iss', async () => {
      const id = sub()
      const token = await signToken(rsa, { sub: id, email: email(), iss: 'https://evil.example/' })
      await refused(token, 'JWT_ISSUER_MISMATCH', id)
    })

    it('a wrong aud', async () => {
      const id = sub()
      await refused(
        await signToken(rsa, { sub: id, email: email(), aud: 'another-api' }),
        'JWT_AUDIENCE_MISMATCH',
        id,
      )
    })

    it('alg: none', async () => {
      const id = sub()
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, exp: now() + 600, sub: id, email: email() })}.`
      await refused(unsigned, 'JWT_ALGORITHM_REFUSED', id)
    })

    it("HS256 signed with the public key's bytes (the algorithm-confusion attack)", async () => {
      const id = sub()
      const pem = createPublicKey({ key: rsa.jwk as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      })
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${b64({ iss: ISSUER, aud: AUDIENCE, exp: now() + 600, sub: id, email: email() })}`
      const mac = createHmac('sha256', pem).update(input).digest('base64url')
      await refused(`${input}.${mac}`, 'JWT_ALGORITHM_REFUSED', id)
    })

    it('a kid absent from the JWKS, after exactly one refetch', async () => {
      const id = sub()
      const unknown = await makeKey('RS256', 'never-published')
      await new Promise((resolve) => setTimeout(resolve, 250)) // past the cooldown: an unknown kid refetches
      const before = jwks.fetches
      await refused(await signToken(unknown, { sub: id, email: email() }), 'JWT_KEY_UNKNOWN', id)
      expect(jwks.fetches - before).toBe(1)
    })

    it("a key carried in the token's own jwk and jku headers, never trusted", async () => {
      const id = sub()
      const attacker = await makeKey('RS256', 'attacker')
      const header = { jwk: attacker.jwk, jku: 'http://127.0.0.1:1/attacker-jwks.json' }
      await refused(await signToken(attacker, { sub: id, email: email() }, { header }), 'JWT_KEY_UNKNOWN', id)
      // Without a kid, the JWKS's own keys of the type are tried, and none verifies it.
      const noKid = await signToken(
        attacker,
        { sub: id, email: email() },
        { header: { ...header, kid: undefined } },
      )
      await refused(noKid, 'JWT_SIGNATURE_INVALID', id)
    })

    it('a token that is no JWT at all', async () => {
      const reply = await bearer('eyJhbGciOi.not-json.x').get('/v1/me')
      expect([reply.status, reply.body.code]).toEqual([401, 'JWT_MALFORMED'])
    })
  })

  it('accepts a key added to the JWKS after start within the cooldown (default: half a minute)', async () => {
    expect(JWKS_COOLDOWN_MS).toBeLessThanOrEqual(60_000)
    const rotated = await makeKey('ES256', `rotated-${randomUUID()}`)
    const token = await signToken(rotated, { sub: sub(), email: email() })
    jwks.keys = [...jwks.keys, rotated.jwk]
    const started = Date.now()
    let reply = await bearer(token).get('/v1/me')
    // Refused at most while the last fetch is fresher than the cooldown (200 ms here), then accepted.
    while (reply.status === 401 && Date.now() - started < 5_000) {
      expect(reply.body.code).toBe('JWT_KEY_UNKNOWN')
      await new Promise((resolve) => setTimeout(resolve, 50))
      reply = await bearer(token).get('/v1/me')
    }
    expect(reply.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  describe('just-in-time accounts and an existing email', () => {
    it('links the account with that email only when email_verified is true', async () => {
      const mail = email()
      const existing = (await s.platform.post('/v1/users', { email: mail, name: 'Existing' })).body.id
      const id = sub()
      const unverified = await bearer(await signToken(rsa, { sub: id, email: mail })).get('/v1/me')
      expect([unverified.status, unverified.body.code]).toEqual([401, 'JWT_EMAIL_TAKEN'])
      const claimed = await bearer(
        await signToken(rsa, { sub: id, email: mail, email_verified: 'true' }),
      ).get('/v1/me')
      expect(claimed.body.code).toBe('JWT_EMAIL_TAKEN') // the boolean, not a string
      expect((await s.platform.get(`/v1/users?email=${mail}`)).body.items[0].externalId).toBeNull()
      const verified = await bearer(await signToken(rsa, { sub: id, email: mail, email_verified: true })).get(
        '/v1/me',
      )
      expect(verified.body).toMatchObject({ id: existing, externalId: id, name: 'Existing' })
      // Another sub with the same verified email can't take the account over.
      const other = await bearer(await signToken(rsa, { sub: sub(), email: mail, email_verified: true })).get(
        '/v1/me',
      )
      expect([other.status, other.body.code, other.body.details?.reason]).toEqual([
        401,
        'JWT_EMAIL_TAKEN',
        'linked_elsewhere',
      ])
    })

    it('makes one user when a new person’s first requests arrive at once', async () => {
      const id = sub()
      const token = await signToken(ed, { sub: id, email: email() })
      const replies = await Promise.all(Array.from({ length: 5 }, () => bearer(token).get('/v1/me')))
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
      expect(new Set(replies.map((r) => r.body.id)).size).toBe(1)
    })
  })

  it.runIf(database === 'postgres')(
    'finds a person made just in time on another instance, and answers for them there at once',
    async () => {
      const other = await startTestServer(database, {
        postgres: s.postgres,
        server: { hostTokens: hostTokenConfig(jwks) },
      })
      try {
        const token = await signToken(rsa, { sub: sub(), email: email() })
        const made = await bearer(token).get('/v1/me')
        const there = await client(other.url, token).get('/v1/me')
        expect(there.body.id).toBe(made.body.id)
        const org = await client(other.url, token).post('/v1/orgs', { name: 'Elsewhere' })
        expect(org.status).toBe(201)
        const check = await client(other.url, token).post('/v1/check', {
          permission: 'org.delete',
          resource: { org: org.body.id },
        })
        expect(check.body).toMatchObject({ allowed: true })
      } finally {
        await other.stop()
      }
    },
  )

  describe('the platform token and external ids', () => {
    it('provisions with an externalId; a taken email or externalId answers 409 with the existing id', async () => {
      const id = sub()
      const mail = email()
      const made = await s.platform.post('/v1/users', { email: mail, name: 'Bo', externalId: id })
      expect(made.status).toBe(201)
      expect(made.body).toMatchObject({ email: mail, externalId: id })
      const again = await s.platform.post('/v1/users', { email: mail.toUpperCase(), name: 'Bo' })
      expect([again.status, again.body.code, again.body.details.userId]).toEqual([
        409,
        'EMAIL_TAKEN',
        made.body.id,
      ])
      const sameId = await s.platform.post('/v1/users', { email: email(), name: 'Bo2', externalId: id })
      expect([sameId.status, sameId.body.code, sameId.body.details.userId]).toEqual([
        409,
        'EXTERNAL_ID_TAKEN',
        made.body.id,
      ])
    })

    it('looks users up by externalId or email, answering {items}', async () => {
      const id = sub()
      const mail = email()
      const made = (await s.platform.post('/v1/users', { email: mail, name: 'Cy', externalId: id })).body
      const byId = await s.platform.get(`/v1/users?externalId=${encodeURIComponent(id)}`)
      expect(byId.body).toEqual({ items: [expect.objectContaining({ id: made.id, externalId: id })] })
      const byEmail = await s.platform.get(`/v1/users?email=${encodeURIComponent(mail.toUpperCase())}`)
      expect(byEmail.body.items.map((u: { id: string }) => u.id)).toEqual([made.id])
      expect((await s.platform.get('/v1/users?externalId=nobody')).body).toEqual({ items: [] })
      const neither = await s.platform.get('/v1/users')
      expect([neither.status, neither.body.code]).toEqual([400, 'VALIDATION_FAILED'])
      const asUser = await s.as(made.id).get(`/v1/users?email=${encodeURIComponent(mail)}`)
      expect([asUser.status, asUser.body.code]).toEqual([403, 'PLATFORM_ONLY'])
    })

    it('upserts by externalId: 201 created, then 200 with the same id, brought up to date', async () => {
      const id = `clerk/user_${randomUUID()}` // a slash, escaped in the path
      const path = `/v1/users/external/${encodeURIComponent(id)}`
      const mail = email()
      const created = await s.platform.put(path, { email: mail, name: 'Di' })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ email: mail, name: 'Di', externalId: id })
      const again = await s.platform.put(path, { email: mail, name: 'Di Renamed' })
      expect(again.status).toBe(200)
      expect(again.body).toMatchObject({ id: created.body.id, name: 'Di Renamed', externalId: id })
      expect((await s.platform.put(path, { email: mail, name: 'Di Renamed' })).status).toBe(200)
    })

    it('upserts onto a user it provisioned before it had ids (same email), and refuses another’s email', async () => {
      const mail = email()
      const before = (await s.platform.post('/v1/users', { email: mail, name: 'Eve' })).body.id
      const id = sub()
      const linked = await s.platform.put(`/v1/users/external/${encodeURIComponent(id)}`, {
        email: mail,
        name: 'Eve',
      })
      expect([linked.status, linked.body.id, linked.body.externalId]).toEqual([200, before, id])
      const clash = await s.platform.put(`/v1/users/external/${encodeURIComponent(sub())}`, {
        email: mail,
        name: 'Not Eve',
      })
      expect([clash.status, clash.body.code, clash.body.details.userId]).toEqual([409, 'EMAIL_TAKEN', before])
    })

    it('acts as a user named by X-Orgkit-User: external:<externalId>', async () => {
      const id = sub()
      const made = (
        await s.platform.put(`/v1/users/external/${encodeURIComponent(id)}`, { email: email(), name: 'Fi' })
      ).body
      const me = await client(s.url, s.token, `external:${id}`).get('/v1/me')
      expect(me.body).toMatchObject({ id: made.id, externalId: id })
      const nobody = await client(s.url, s.token, `external:${sub()}`).get('/v1/me')
      expect([nobody.status, nobody.body.code]).toEqual([401, 'UNAUTHENTICATED'])
    })
  })

  describe("an org's required 2FA and the token's amr", () => {
    it('passes with amr holding mfa, otp, hwk or swk for that request only; without it, gated as anyone', async () => {
      const owner = await s.user('Owner')
      const org = (await s.as(owner).post('/v1/orgs', { name: 'Strict' })).body.id
      const id = sub()
      const plain = await signToken(rsa, { sub: id, email: email(), amr: ['pwd'] })
      const userId = (await bearer(plain).get('/v1/me')).body.id
      await s.platform.post(`/v1/orgs/${org}/members`, { userId, roles: ['org_admin'] })
      const policy = { requireMfa: true, passwordPolicy: null, apiKeyPolicy: null }
      expect((await s.platform.put(`/v1/orgs/${org}/security`, policy)).status).toBe(200)

      const gated = await bearer(plain).post('/v1/check', { permission: 'org.read', resource: { org } })
      expect(gated.body).toMatchObject({ allowed: false, reason: 'mfa_required' })
      const refused = await bearer(plain).get(`/v1/orgs/${org}/groups`)
      expect(refused.status).toBe(403)
      expect(refused.body.details.reason).toBe('mfa_required')

      // Naming yourself as the subject is asking about yourself, with the request's factor.
      const strongSelf = await signToken(rsa, { sub: id, amr: ['otp'] })
      const named = await bearer(strongSelf).post('/v1/check', {
        subject: { type: 'user', id: userId },
        permission: 'org.read',
        resource: { org },
      })
      expect(named.body).toMatchObject({ allowed: true })
      for (const factor of ['mfa', 'otp', 'hwk', 'swk']) {
        const strong = await signToken(rsa, { sub: id, amr: ['pwd', factor] })
        const allowed = await bearer(strong).post('/v1/check', { permission: 'org.read', resource: { org } })
        expect(allowed.body, factor).toMatchObject({ allowed: true })
        expect((await bearer(strong).get(`/v1/orgs/${org}/groups`)).status, factor).toBe(200)
      }
      // The gate stands for the same user on every other request: the platform acting as them, a token
      // without the factor, and a check about them asked by someone else.
      expect((await s.as(userId).get(`/v1/orgs/${org}/groups`)).status).toBe(403)
      expect((await bearer(plain).get(`/v1/orgs/${org}/groups`)).status).toBe(403)
      const asked = await s.platform.post('/v1/check', {
        subject: { type: 'user', id: userId },
        permission: 'org.read',
        resource: { org },
      })
      expect(asked.body).toMatchObject({ allowed: false, reason: 'mfa_required' })
      // And no client can claim the factor for a subject in a request body.
      const claimed = await s.platform.post('/v1/check', {
        subject: { type: 'user', id: userId, mfa: true },
        permission: 'org.read',
        resource: { org },
      })
      expect([claimed.status, claimed.body.code]).toEqual([400, 'VALIDATION_FAILED'])
    })
  })

  describe("the console's sign-in hand-off: a host token exchanged for a session", () => {
    /** POST /v1/auth/host-session with the token; the session cookie it set, as a Cookie header. */
    async function handOff(token: string) {
      const response = await fetch(`${s.url}/v1/auth/host-session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      const cookies = response.headers.getSetCookie().map((c) => c.split(';')[0]!)
      return {
        status: response.status,
        body: (await response.json()) as Reply['body'],
        cookie: cookies.join('; '),
      }
    }
    const withCookie = (cookie: string, path: string) =>
      fetch(`${s.url}${path}`, { headers: { cookie } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Reply['body'],
      }))

    it('signs the person in, keeping the second factor their token proved, and nothing else', async () => {
      const owner = await s.user('HandOffOwner')
      const org = (await s.as(owner).post('/v1/orgs', { name: 'Embedded' })).body.id
      const id = sub()
      const plain = await handOff(await signToken(rsa, { sub: id, email: email() }))
      expect(plain.status).toBe(200)
      expect(plain.cookie).toMatch(/orgkit_session=.+; orgkit_csrf=/)
      const me = await withCookie(plain.cookie, '/v1/me')
      expect(me.body).toMatchObject({ id: plain.body.userId, externalId: id })
      await s.platform.post(`/v1/orgs/${org}/members`, { userId: me.body.id, roles: ['org_admin'] })
      await s.platform.put(`/v1/orgs/${org}/security`, {
        requireMfa: true,
        passwordPolicy: null,
        apiKeyPolicy: null,
      })
      expect((await withCookie(plain.cookie, `/v1/orgs/${org}/groups`)).status).toBe(403)
      // A write through the session is audited as a session's.
      const own = await fetch(`${s.url}/v1/orgs`, {
        method: 'POST',
        headers: {
          cookie: plain.cookie,
          'x-orgkit-csrf': plain.body.csrfToken,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'Through the console' }),
      })
      const ownOrg = ((await own.json()) as Reply['body']).id
      const log = await s.platform.get(`/v1/orgs/${ownOrg}/audit-logs?action=org.created`)
      expect(log.body.items[0].actor).toMatchObject({
        type: 'user',
        id: me.body.id,
        via: 'session',
        credentialId: null,
      })
      const strong = await handOff(await signToken(rsa, { sub: id, amr: ['hwk'] }))
      expect((await withCookie(strong.cookie, `/v1/orgs/${org}/groups`)).status).toBe(200)
      // Only a host token is exchanged: never the platform token, even acting as the person.
      const platform = await s.as(me.body.id).post('/v1/auth/host-session', {})
      expect([platform.status, platform.body.code]).toEqual([403, 'FORBIDDEN'])
      const refused = await handOff(await signToken(rsa, { sub: id, aud: 'elsewhere' }))
      expect([refused.status, refused.body.code, refused.cookie]).toEqual([401, 'JWT_AUDIENCE_MISMATCH', ''])
    })
  })

  describe('the audit log records how the actor authenticated', () => {
    it('host token, platform acting as the user, the platform itself, and an API key', async () => {
      const id = sub()
      const token = await signToken(rsa, { sub: id, email: email() })
      const userId = (await bearer(token).get('/v1/me')).body.id
      const made = await s.ctx.db
        .selectFrom('audit_log')
        .select(['actor_type', 'actor_id', 'actor_via', 'actor_credential_id'])
        .where('action', '=', 'user.created')
        .where('target_id', '=', userId)
        .executeTakeFirstOrThrow()
      expect(made).toEqual({
        actor_type: 'user',
        actor_id: userId,
        actor_via: 'host_token',
        actor_credential_id: null,
      })

      const org = (await bearer(token).post('/v1/orgs', { name: 'Audited' })).body.id
      const platformTokenId = (await s.platform.get('/v1/me')).body.tokenId
      await s.as(userId).post(`/v1/orgs/${org}/groups`, { name: 'by the platform as the user' })
      await s.platform.post(`/v1/orgs/${org}/groups`, { name: 'by the platform' })
      const key = await s.as(userId).post('/v1/me/api-keys', { name: 'ci', orgIds: [org] })
      expect(key.status).toBe(201)
      await client(s.url, key.body.secret).post(`/v1/orgs/${org}/groups`, { name: 'by the key' })

      const log = await bearer(token).get(`/v1/orgs/${org}/audit-logs?limit=50`)
      const actorOf = (action: string, after?: string) =>
        log.body.items.find(
          (e: { action: string; after: { name?: string } | null }) =>
            e.action === action && (after === undefined || e.after?.name === after),
        )?.actor
      expect(actorOf('org.created')).toMatchObject({
        type: 'user',
        id: userId,
        via: 'host_token',
        credentialId: null,
      })
      expect(actorOf('group.created', 'by the platform as the user')).toMatchObject({
        type: 'user',
        id: userId,
        via: 'platform',
        credentialId: platformTokenId,
      })
      expect(actorOf('group.created', 'by the platform')).toMatchObject({
        type: 'platform',
        id: platformTokenId,
        via: 'platform',
        credentialId: platformTokenId,
      })
      expect(actorOf('group.created', 'by the key')).toMatchObject({
        type: 'api_key',
        id: key.body.id,
        via: 'api_key',
        credentialId: key.body.id,
      })
      expect((await bearer(token).get(`/v1/orgs/${org}/audit-logs/verify`)).body).toMatchObject({ ok: true })
    })
  })
})

describe('host tokens without a server', () => {
  it('answers JWKS_UNAVAILABLE while the JWKS cannot be fetched, and UNAUTHENTICATED where none is configured', async () => {
    const key = await makeKey('ES256', 'k')
    const token = await signToken(key, { sub: 'someone' })
    const down = new HostTokens(
      { jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: ISSUER, audience: AUDIENCE },
      Date.now,
    )
    await expect(down.verify(token)).rejects.toMatchObject({ code: 'JWKS_UNAVAILABLE' })
    const ctx = { hostTokens: null } as unknown as Ctx
    const given = {
      method: 'GET',
      authorization: `Bearer ${token}`,
      actAs: undefined,
      session: undefined,
      csrf: undefined,
    }
    await expect(resolveCaller(ctx, given)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
  })
})

describe('host-token configuration (ORGKIT_JWT_*)', () => {
  const env = {
    ORGKIT_JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
    ORGKIT_JWT_ISSUER: ISSUER,
    ORGKIT_JWT_AUDIENCE: AUDIENCE,
  }
  it('takes the three together', () => {
    expect(loadConfig(env).hostTokens).toEqual({
      jwksUrl: env.ORGKIT_JWT_JWKS_URL,
      issuer: ISSUER,
      audience: AUDIENCE,
    })
    expect(loadConfig({}).hostTokens).toBeUndefined()
    expect(() => loadConfig({ ORGKIT_JWT_JWKS_URL: env.ORGKIT_JWT_JWKS_URL })).toThrow(/ORGKIT_JWT_ISSUER/)
  })

  it('takes a plain-http JWKS only on loopback', () => {
    expect(loadConfig({ ...env, ORGKIT_JWT_JWKS_URL: 'http://127.0.0.1:4000/jwks' }).hostTokens).toBeDefined()
    expect(loadConfig({ ...env, ORGKIT_JWT_JWKS_URL: 'http://localhost:4000/jwks' }).hostTokens).toBeDefined()
    expect(() => loadConfig({ ...env, ORGKIT_JWT_JWKS_URL: 'http://idp.example/jwks' })).toThrow(/https/)
    expect(() => loadConfig({ ...env, ORGKIT_JWT_JWKS_URL: 'not a url' })).toThrow(/URL/)
  })
})
