import { randomUUID } from 'node:crypto'
import { orgDomains } from '@orgkit/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newKeyEntry, parseKeyring, SecretBox } from '../src/security/secret-box.ts'
import { sealStoredSecrets } from '../src/security/secrets-at-rest.ts'
import {
  type Client,
  clientOver,
  DATABASES,
  type Reply,
  startTestServer,
  type TestServer,
} from './support/harness.ts'
import { ScriptedBrowser, startTestIdp, type TestIdp } from './support/oidc-idp.ts'
import { type Person, signUp } from './support/sessions.ts'

/**
 * Per-org SSO over OIDC (issue 21.1) against a real OpenID Provider (oidc-provider, signing real ID tokens)
 * on loopback: the browser's hops scripted with cookies kept, every check made by openid-client and Orgkit.
 */
describe.each(DATABASES)('SSO over OIDC (%s)', (database) => {
  let s: TestServer
  let idp: TestIdp
  let admin: Person
  let orgA: string
  let orgB: string
  let connection: string
  let eng: string
  const domainA = `acme-${randomUUID().slice(0, 8)}.test`
  const domainB = `beta-${randomUUID().slice(0, 8)}.test`

  const verifyDomain = (orgId: string, domain: string) =>
    s.store.db.transaction().execute(async (tx) => {
      const claim = await orgDomains.insertClaim(
        tx,
        { id: randomUUID(), orgId, domain, token: randomUUID(), createdBy: null },
        new Date(),
      )
      await orgDomains.markVerified(tx, orgId, claim.id, new Date())
    })

  /** A person walks the whole sign-in: start, the IdP's redirects, the callback; answers where it landed. */
  async function ssoSignIn(
    browser: ScriptedBrowser,
    subject: string,
    start: Record<string, unknown>,
    tamper: (url: URL) => URL = (u) => u,
  ): Promise<{ landed: URL; started: Reply }> {
    idp.next = subject
    const response = await browser.fetch(`${s.url}/v1/auth/sso/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(start),
    })
    const started: Reply = { status: response.status, body: await response.json() }
    if (response.status !== 200) return { landed: new URL(s.url), started }
    // Up to the callback (the IdP's own hops), then the callback itself with whatever the test changed.
    const atCallback = await browser.follow(
      started.body.redirectUrl,
      (u) => u.pathname === '/v1/auth/sso/callback',
    )
    const callback = await browser.fetch(tamper(atCallback.url).href)
    return { landed: new URL(callback.headers.get('location')!, s.url), started }
  }

  /** The signed-in browser as an API client (session cookie + CSRF header). */
  function asBrowser(browser: ScriptedBrowser): Client {
    const request = async (method: string, path: string, body?: unknown) => {
      const jar = browser.cookies(s.url)
      const response = await browser.fetch(s.url + path, {
        method,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(jar.has('orgkit_csrf') && { 'x-orgkit-csrf': jar.get('orgkit_csrf')! }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null }
    }
    return clientOver(request)
  }

  const memberOf = async (orgId: string, email: string) =>
    (await s.platform.get(`/v1/orgs/${orgId}/members`)).body.items.find(
      (m: { email: string }) => m.email === email,
    )

  beforeAll(async () => {
    s = await startTestServer(database)
    idp = await startTestIdp({ redirectUris: [`${s.url}/v1/auth/sso/callback`] })
    admin = await signUp(s, 'Ada', `ada@${domainA}`)
    const madeA = await admin.post('/v1/orgs', { name: 'Acme' })
    expect(madeA.body).toMatchObject({ name: 'Acme' })
    orgA = madeA.body.id
    const bea = await signUp(s, 'Bea', `bea@${domainB}`)
    orgB = (await bea.post('/v1/orgs', { name: 'Beta' })).body.id
    await verifyDomain(orgA, domainA)
    await verifyDomain(orgB, domainB)
    eng = (await admin.post(`/v1/orgs/${orgA}/groups`, { name: 'Engineering' })).body.id
    const made = await admin.post(`/v1/orgs/${orgA}/sso-connections`, {
      kind: 'oidc',
      name: 'Test IdP',
      config: { issuer: idp.issuer, clientId: 'orgkit', clientSecret: 'orgkit-secret', scopes: ['groups'] },
      mappings: [
        { idpGroup: 'eng', groupId: eng },
        { idpGroup: 'admins', role: 'org_admin' },
      ],
    })
    expect(made.status).toBe(201)
    connection = made.body.id
  }, 120_000)
  afterAll(async () => {
    await idp?.stop()
    await s?.stop()
  })

  it('creates a connection disabled, its secret sealed and never answered, with the callback URL to give the IdP', async () => {
    const got = await admin.get(`/v1/orgs/${orgA}/sso-connections/${connection}`)
    expect(got.body).toMatchObject({
      kind: 'oidc',
      enabled: false,
      testedAt: null,
      callbackUrl: `${s.url}/v1/auth/sso/callback`,
      config: { issuer: idp.issuer, clientId: 'orgkit', clientSecretSet: true },
    })
    expect(JSON.stringify(got.body)).not.toContain('orgkit-secret')
    const stored = await s.store.db
      .selectFrom('sso_connections')
      .select('config')
      .where('id', '=', connection)
      .executeTakeFirstOrThrow()
    expect(JSON.stringify(stored.config)).not.toContain('orgkit-secret')
    // Not enabled yet: nobody signs in through it.
    const { started } = await ssoSignIn(new ScriptedBrowser(), 'x', { email: `x@${domainA}` })
    expect(started.body.code).toBe('SSO_NOT_AVAILABLE')
  })

  it('tests the connection: a wrong client secret, an issuer that names another issuer, then the right one', async () => {
    const base = `/v1/orgs/${orgA}/sso-connections/${connection}`
    await admin.patch(base, { config: { clientSecret: 'wrong' } })
    const wrong = await admin.post(`${base}/test`)
    expect(wrong.body).toMatchObject({ ok: false, connection: { testedAt: null } })
    expect(wrong.body.problem).toMatch(/client/)
    await admin.patch(base, { config: { issuer: `${idp.issuer}/elsewhere`, clientSecret: 'orgkit-secret' } })
    const elsewhere = await admin.post(`${base}/test`)
    expect(elsewhere.body).toMatchObject({ ok: false })
    expect(elsewhere.body.problem).toMatch(/discovery/)
    await admin.patch(base, { config: { issuer: idp.issuer } })
    const ok = await admin.post(`${base}/test`)
    expect(ok.body).toMatchObject({ ok: true, problem: null })
    expect(ok.body.connection.testedAt).not.toBeNull()
    expect((await admin.patch(base, { enabled: true })).body.enabled).toBe(true)
  })

  it('signs a new person of the verified domain in: account, membership with the default role, mapped groups, a session', async () => {
    idp.people.set('sub-bo', { email: `bo@${domainA}`, emailVerified: true, name: 'Bo', groups: ['eng'] })
    const browser = new ScriptedBrowser()
    const { landed } = await ssoSignIn(browser, 'sub-bo', { email: `Bo@${domainA}`, returnTo: '/orgs' })
    expect(landed.pathname).toBe('/orgs')
    expect(browser.cookies(s.url).has('orgkit_session')).toBe(true)
    const me = await asBrowser(browser).get('/v1/me')
    expect(me.body).toMatchObject({ email: `bo@${domainA}`, name: 'Bo' })
    const member = await memberOf(orgA, `bo@${domainA}`)
    expect(member).toMatchObject({ status: 'active', roles: ['org_member'] })
    expect(member.groups.map((g: { id: string }) => g.id)).toEqual(expect.arrayContaining([eng]))
    // Audited as the person arriving through SSO, with the connection as the credential.
    const log = await admin.get(`/v1/orgs/${orgA}/audit-logs?limit=50`)
    const added = log.body.items.find(
      (e: { action: string; target: { id: string } }) =>
        e.action === 'member.added' && e.target.id === me.body.id,
    )
    expect(added.actor).toMatchObject({ via: 'sso', credentialId: connection })
  })

  it('signs no one back in whom the org’s directory deactivated: SCIM decides membership, not the IdP’s sign-in', async () => {
    idp.people.set('sub-dee', { email: `dee@${domainA}`, emailVerified: true, name: 'Dee', groups: [] })
    const token = (await admin.post(`/v1/orgs/${orgA}/scim-tokens`, { name: 'Directory' })).body.token
    const scim = (method: string, path: string, body: unknown) =>
      fetch(`${s.url}/scim/v2/orgs/${orgA}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify(body),
      }).then(async (r): Promise<Reply> => ({ status: r.status, body: await r.json() }))
    const made = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `dee@${domainA}`,
      active: true,
    })
    expect(made.status).toBe(201)
    const off = await scim('PATCH', `/Users/${made.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    })
    expect(off.status).toBe(200)
    const browser = new ScriptedBrowser()
    const { landed } = await ssoSignIn(browser, 'sub-dee', { email: `dee@${domainA}` })
    expect(landed.searchParams.get('ssoError')).toBe('SSO_FAILED')
    expect(landed.searchParams.get('reason')).toBe('deactivated_by_directory')
    expect(browser.cookies(s.url).has('orgkit_session')).toBe(false)
    expect((await memberOf(orgA, `dee@${domainA}`))?.status).not.toBe('active')
  })

  it('applies the mapping again at the next sign-in: a new IdP group adds a role, a removed one takes its group', async () => {
    idp.people.set('sub-bo', { email: `bo@${domainA}`, emailVerified: true, name: 'Bo', groups: ['admins'] })
    const { landed } = await ssoSignIn(new ScriptedBrowser(), 'sub-bo', { email: `bo@${domainA}` })
    expect(landed.pathname).toBe('/')
    const member = await memberOf(orgA, `bo@${domainA}`)
    expect(member.roles).toEqual(['org_admin'])
    expect(member.groups.map((g: { id: string }) => g.id)).not.toContain(eng)
    // The same groups again change nothing (idempotent): no new audit entries for Bo's roles or groups.
    const before = (await admin.get(`/v1/orgs/${orgA}/audit-logs?limit=1`)).body.head.seq
    await ssoSignIn(new ScriptedBrowser(), 'sub-bo', { email: `bo@${domainA}` })
    const after = await admin.get(`/v1/orgs/${orgA}/audit-logs?limit=20`)
    expect(after.body.items.filter((e: { seq: number }) => e.seq > before)).toEqual([])
    // Leaving the IdP group falls back to the connection's default role.
    idp.people.set('sub-bo', { email: `bo@${domainA}`, emailVerified: true, groups: [] })
    await ssoSignIn(new ScriptedBrowser(), 'sub-bo', { email: `bo@${domainA}` })
    expect((await memberOf(orgA, `bo@${domainA}`)).roles).toEqual(['org_member'])
  })

  it('links an existing account whose email the IdP verified; never one whose email it did not', async () => {
    const cy = await signUp(s, 'Cy', `cy@${domainA}`)
    idp.people.set('sub-cy-unverified', { email: `cy@${domainA}`, emailVerified: false })
    const refused = await ssoSignIn(new ScriptedBrowser(), 'sub-cy-unverified', { email: `cy@${domainA}` })
    expect(refused.landed.searchParams.get('ssoError')).toBe('SSO_EMAIL_TAKEN')
    expect(await memberOf(orgA, `cy@${domainA}`)).toBeUndefined()
    idp.people.set('sub-cy', { email: `cy@${domainA}`, emailVerified: true })
    const browser = new ScriptedBrowser()
    const linked = await ssoSignIn(browser, 'sub-cy', { email: `cy@${domainA}` })
    expect(linked.landed.pathname).toBe('/')
    expect((await asBrowser(browser).get('/v1/me')).body.id).toBe(cy.id)
    expect((await memberOf(orgA, `cy@${domainA}`)).status).toBe('active')
  })

  it('refuses a tampered state, a tampered nonce, a wrong issuer and a code issued to another client', async () => {
    idp.people.set('sub-di', { email: `di@${domainA}`, emailVerified: true })
    const start = { email: `di@${domainA}` }
    const reasons: Record<string, string | null> = {}
    const state = await ssoSignIn(new ScriptedBrowser(), 'sub-di', start, (u) => {
      u.searchParams.set('state', `${u.searchParams.get('state')}x`)
      return u
    })
    reasons.state = state.landed.searchParams.get('reason')
    // The nonce sent to the IdP changed on the way: the ID token carries another nonce than the one kept.
    const nonce = await withAuthorizationUrl((u) => u.searchParams.set('nonce', 'forged-nonce'))
    reasons.nonce = nonce.searchParams.get('reason')
    const issuer = await ssoSignIn(new ScriptedBrowser(), 'sub-di', start, (u) => {
      u.searchParams.set('iss', 'https://evil.test')
      return u
    })
    reasons.issuer = issuer.landed.searchParams.get('reason')
    // The IdP issues the code to the client "other"; Orgkit redeems it as "orgkit": the provider refuses.
    const audience = await withAuthorizationUrl((u) => u.searchParams.set('client_id', 'other'))
    reasons.audience = audience.searchParams.get('ssoError')
    // Another browser holding the callback URL (login CSRF) gets nothing either.
    const stolen = await withAuthorizationUrl(() => {}, new ScriptedBrowser())
    reasons.browser = stolen.searchParams.get('reason')
    expect(reasons).toEqual({
      state: 'state_unknown',
      nonce: 'nonce_mismatch',
      issuer: 'issuer_mismatch',
      audience: 'SSO_FAILED',
      browser: 'browser_mismatch',
    })
    expect(await memberOf(orgA, `di@${domainA}`)).toBeUndefined()

    async function withAuthorizationUrl(change: (u: URL) => void, callbackBrowser?: ScriptedBrowser) {
      const browser = new ScriptedBrowser()
      idp.next = 'sub-di'
      const started = (await (
        await browser.fetch(`${s.url}/v1/auth/sso/start`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(start),
        })
      ).json()) as Reply['body']
      const url = new URL(started.redirectUrl)
      change(url)
      const atCallback = await browser.follow(url.href, (u) => u.pathname === '/v1/auth/sso/callback')
      const callback = await (callbackBrowser ?? browser).fetch(atCallback.url.href)
      return new URL(callback.headers.get('location')!, s.url)
    }
  })

  it("keeps orgs apart: A's connection signs no one of B's domain in, and A's admin can't see B's connections", async () => {
    idp.people.set('sub-eve', { email: `eve@${domainB}`, emailVerified: true })
    const eve = await ssoSignIn(new ScriptedBrowser(), 'sub-eve', { connectionId: connection })
    expect(eve.landed.searchParams.get('reason')).toBe('email_domain_not_verified')
    expect(await memberOf(orgB, `eve@${domainB}`)).toBeUndefined()
    // B's domain has no connection: start by email finds none (never A's).
    expect((await ssoSignIn(new ScriptedBrowser(), 'x', { email: `x@${domainB}` })).started.body.code).toBe(
      'SSO_NOT_AVAILABLE',
    )
    const inB = await s.platform.post(`/v1/orgs/${orgB}/sso-connections`, {
      kind: 'oidc',
      name: 'B',
      config: { issuer: idp.issuer, clientId: 'other', clientSecret: 'other-secret' },
    })
    expect(inB.status).toBe(201)
    expect((await admin.get(`/v1/orgs/${orgB}/sso-connections`)).body.code).toBe('ORG_NOT_FOUND')
    expect((await admin.get(`/v1/orgs/${orgA}/sso-connections/${inB.body.id}`)).body.code).toBe(
      'SSO_CONNECTION_NOT_FOUND',
    )
    expect(
      (await admin.patch(`/v1/orgs/${orgA}/sso-connections/${inB.body.id}`, { enabled: true })).status,
    ).toBe(404)
    // A member without org.manage_security reads nothing of A's either.
    const bo = (await memberOf(orgA, `bo@${domainA}`)).userId
    expect((await s.as(bo).get(`/v1/orgs/${orgA}/sso-connections`)).body.code).toBe('FORBIDDEN')
  })

  it('refuses a mapping that would grant more than its admin may (no escalation through the IdP)', async () => {
    const base = `/v1/orgs/${orgA}/sso-connections/${connection}`
    const owner = await admin.patch(base, { mappings: [{ idpGroup: 'x', role: 'org_super_admin' }] })
    expect(owner.body.code).toBe('VALIDATION_FAILED')
    const unknown = await admin.patch(base, { mappings: [{ idpGroup: 'x', groupId: randomUUID() }] })
    expect(unknown.body.code).toBe('GROUP_NOT_FOUND')
  })

  it('SSO required: refused until ready, then password sign-in and reset of the domain answer SSO_REQUIRED but for the break-glass owner', async () => {
    const policy = `/v1/orgs/${orgA}/sso-policy`
    expect((await admin.put(policy, { ssoRequired: true, breakGlassUserId: null })).body).toMatchObject({
      code: 'SSO_NOT_READY',
      details: { missing: 'break_glass_owner' },
    })
    const on = await admin.put(policy, { ssoRequired: true, breakGlassUserId: admin.id })
    expect(on.status).toBe(200)
    const login = (email: string) =>
      fetch(`${s.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'a long enough passphrase' }),
      }).then(async (r): Promise<Reply> => ({ status: r.status, body: await r.json() }))
    const cy = await login(`cy@${domainA}`)
    expect(cy).toMatchObject({ status: 403, body: { code: 'SSO_REQUIRED', details: { orgId: orgA } } })
    expect((await login(`ada@${domainA}`)).status).toBe(200)
    // Only an owner can be break-glass, and only while an owner: demoted, Cy is refused like anyone.
    const cyId = (await memberOf(orgA, `cy@${domainA}`)).userId
    expect((await admin.put(policy, { ssoRequired: true, breakGlassUserId: cyId })).body.code).toBe(
      'VALIDATION_FAILED',
    )
    const roles = (r: string[]) => admin.patch(`/v1/orgs/${orgA}/members/${cyId}`, { roles: r })
    expect((await roles(['org_super_admin'])).status).toBe(200)
    expect((await admin.put(policy, { ssoRequired: true, breakGlassUserId: cyId })).status).toBe(200)
    expect((await login(`cy@${domainA}`)).status).toBe(200)
    expect((await roles(['org_member'])).status).toBe(200)
    expect((await login(`cy@${domainA}`)).body.code).toBe('SSO_REQUIRED')
    expect((await admin.put(policy, { ssoRequired: true, breakGlassUserId: admin.id })).status).toBe(200)
    const reset = await fetch(`${s.url}/v1/auth/password-reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `cy@${domainA}` }),
    })
    expect(((await reset.json()) as Reply['body']).code).toBe('SSO_REQUIRED')
    // The last tested connection can't be disabled while SSO is required (nobody could sign in).
    const off = await admin.patch(`/v1/orgs/${orgA}/sso-connections/${connection}`, { enabled: false })
    expect(off.body.code).toBe('SSO_NOT_READY')
    expect((await admin.put(policy, { ssoRequired: false, breakGlassUserId: admin.id })).status).toBe(200)
    expect((await login(`cy@${domainA}`)).status).toBe(200)
  })

  it('a disabled connection signs no one in, even one whose sign-in had started', async () => {
    const browser = new ScriptedBrowser()
    idp.next = 'sub-bo'
    const started = (await (
      await browser.fetch(`${s.url}/v1/auth/sso/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `bo@${domainA}` }),
      })
    ).json()) as Reply['body']
    await admin.patch(`/v1/orgs/${orgA}/sso-connections/${connection}`, { enabled: false })
    const atCallback = await browser.follow(
      started.redirectUrl,
      (u) => u.pathname === '/v1/auth/sso/callback',
    )
    const callback = await browser.fetch(atCallback.url.href)
    expect(new URL(callback.headers.get('location')!, s.url).searchParams.get('ssoError')).toBe(
      'SSO_NOT_AVAILABLE',
    )
    expect(browser.cookies(s.url).has('orgkit_session')).toBe(false)
    const again = await ssoSignIn(new ScriptedBrowser(), 'sub-bo', { email: `bo@${domainA}` })
    expect(again.started.body.code).toBe('SSO_NOT_AVAILABLE')
  })

  it('answers a JSON client with the session, and seals client secrets anew when keys rotate', async () => {
    await admin.patch(`/v1/orgs/${orgA}/sso-connections/${connection}`, { enabled: true })
    idp.people.set('sub-fay', { email: `fay@${domainA}`, emailVerified: true })
    const browser = new ScriptedBrowser()
    idp.next = 'sub-fay'
    const again = await browser.fetch(`${s.url}/v1/auth/sso/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `fay@${domainA}`, returnTo: '//evil.test/x' }),
    })
    const { redirectUrl } = (await again.json()) as Reply['body']
    const atCallback = await browser.follow(redirectUrl, (u) => u.pathname === '/v1/auth/sso/callback')
    const json = await browser.fetch(atCallback.url.href, { headers: { accept: 'application/json' } })
    expect(json.status).toBe(200)
    // A returnTo off this site is dropped (no open redirect).
    expect(await json.json()).toMatchObject({ status: 'signed_in', returnTo: '/' })

    // `orgkit secrets rotate`: the client secret sealed under the new key, opening to the same secret.
    const next = `k9:${newKeyEntry().split(':')[1]}`
    const current = [...s.ctx.secrets.keyring.keys].map(([kid, key]) => `${kid}:${key.toString('base64')}`)
    const rotated = new SecretBox(parseKeyring([next, ...current].join(',')))
    expect((await sealStoredSecrets(s.store.db, rotated, { everything: true })).sso).toBeGreaterThanOrEqual(1)
    const stored = await s.store.db
      .selectFrom('sso_connections')
      .select('config')
      .where('id', '=', connection)
      .executeTakeFirstOrThrow()
    const sealed = (stored.config as { clientSecret: string }).clientSecret
    expect(sealed).toMatch(/^ok1:k9:/)
    expect(rotated.open(sealed, `sso:${connection}:clientSecret`).value).toBe('orgkit-secret')
    // A server without that key refuses to start rather than failing sign-ins later.
    await expect(sealStoredSecrets(s.store.db, s.ctx.secrets, { everything: false })).rejects.toThrow(/k9/)
  })
})
