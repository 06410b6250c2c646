import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDnsServer, type TestDnsServer } from './support/dns-server.ts'
import { type Client, DATABASES, type Reply, startTestServer, type TestServer } from './support/harness.ts'
import { raceRounds } from './support/races.ts'
import { signUp } from './support/sessions.ts'

/**
 * Verified domains (issue 21.2) against a real DNS server on loopback: claiming, TXT verification and each
 * way it fails, one holder per domain (two orgs verifying at once included), and joining through a domain —
 * only with a verified email at it.
 */
let dns: TestDnsServer
beforeAll(async () => {
  dns = await startDnsServer()
})
afterAll(() => dns.close())

describe.each(DATABASES)('verified domains (%s)', (database) => {
  let s: TestServer
  let n = 0
  /** A domain of this test's own (`.test`, RFC 2606: no mail provider's, no real zone). */
  const fresh = () => `acme${++n}-${database}.test`
  const txt = (domain: string) => `_orgkit-challenge.${domain}`
  beforeAll(async () => {
    s = await startTestServer(database, {
      localOutbox: true,
      server: { dnsResolver: dns.address, dnsTimeoutMs: 100 },
    })
  })
  afterAll(() => s?.stop())

  /** An org with a claimed domain, made by its Super Admin (the platform acting as them: sign-ups are rate limited). */
  const owned = async (name: string) => s.as(await s.user(name))
  const orgWithDomain = async (domain: string) => {
    const owner = await owned('Owner')
    const org = (await owner.post('/v1/orgs', { name: `Org of ${domain}` })).body.id as string
    const claim = await owner.post(`/v1/orgs/${org}/domains`, { domain })
    expect(claim.status).toBe(201)
    return { owner, org, claim: claim.body }
  }
  const verified = async (domain: string, joinMode?: 'suggest' | 'auto', defaultRole?: string) => {
    const made = await orgWithDomain(domain)
    dns.setTxt(txt(domain), [made.claim.txtRecord.value])
    expect((await made.owner.post(`/v1/orgs/${made.org}/domains/${made.claim.id}/verify`)).status).toBe(200)
    if (joinMode)
      expect(
        (
          await made.owner.patch(`/v1/orgs/${made.org}/domains/${made.claim.id}`, {
            joinMode,
            ...(defaultRole && { defaultRole }),
          })
        ).status,
      ).toBe(200)
    return made
  }
  const memberIds = async (owner: Client, org: string) =>
    ((await owner.get(`/v1/orgs/${org}/members`)).body.items as { userId: string }[]).map((m) => m.userId)
  const person = (domain: string, name = 'Pat') =>
    signUp(s, name, `${name.toLowerCase()}.${Math.random().toString(36).slice(2, 8)}@${domain}`)

  it('claims a domain: normalised, pending, with a TXT challenge of its own; refuses what is no org’s', async () => {
    const domain = fresh()
    const { owner, org, claim } = await orgWithDomain(`  ${domain.toUpperCase()}. `)
    expect(claim).toMatchObject({
      domain,
      status: 'pending',
      verifiedAt: null,
      joinMode: 'off',
      defaultRole: null,
    })
    expect(claim.txtRecord).toEqual({
      name: txt(domain),
      value: expect.stringMatching(/^orgkit-verification=[\w-]{43}$/),
    })
    expect((await owner.post(`/v1/orgs/${org}/domains`, { domain: 'Bücher-Acme.test' })).body).toMatchObject({
      domain: 'xn--bcher-acme-9db.test',
      unicode: 'bücher-acme.test',
    })
    const refused = async (name: string) => {
      const reply = await owner.post(`/v1/orgs/${org}/domains`, { domain: name })
      return [reply.status, reply.body.code]
    }
    expect(await refused('gmail.com')).toEqual([400, 'DOMAIN_PUBLIC'])
    expect(await refused('Outlook.com')).toEqual([400, 'DOMAIN_PUBLIC'])
    expect(await refused('not a domain')).toEqual([400, 'DOMAIN_INVALID'])
    expect(await refused('10.0.0.1')).toEqual([400, 'DOMAIN_INVALID'])
    expect(await refused('https://acme.test/')).toEqual([400, 'DOMAIN_INVALID'])
    expect(await refused(domain)).toEqual([409, 'ALREADY_EXISTS'])
    const listed = (await owner.get(`/v1/orgs/${org}/domains`)).body.items
    expect(listed.map((d: { domain: string }) => d.domain)).toEqual([domain, 'xn--bcher-acme-9db.test'])
  })

  it('verifies only on its own record, and says what DNS answered otherwise', async () => {
    const domain = fresh()
    const { owner, org, claim } = await orgWithDomain(domain)
    const verify = () => owner.post(`/v1/orgs/${org}/domains/${claim.id}/verify`)
    const missing = await verify()
    expect([missing.status, missing.body.code, missing.body.details.name]).toEqual([
      409,
      'DOMAIN_RECORD_MISSING',
      txt(domain),
    ])
    dns.setTxt(txt(domain), ['v=spf1 -all', 'orgkit-verification=someone-elses-token'])
    const wrong = await verify()
    expect([wrong.status, wrong.body.code]).toEqual([409, 'DOMAIN_RECORD_MISMATCH'])
    expect(wrong.body.details.found).toEqual(['v=spf1 -all', 'orgkit-verification=someone-elses-token'])
    dns.failing(txt(domain))
    const down = await verify()
    expect([down.status, down.body.code]).toEqual([503, 'DNS_UNAVAILABLE'])
    dns.silent(txt(domain))
    expect((await verify()).body.code).toBe('DNS_UNAVAILABLE')
    expect((await owner.get(`/v1/orgs/${org}/domains`)).body.items[0].status).toBe('pending')
    // A record split in character-strings is read whole (RFC 7208 §3.3).
    const value: string = claim.txtRecord.value
    dns.setTxt(txt(domain), ['unrelated', [value.slice(0, 30), value.slice(30)]])
    const ok = await verify()
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ status: 'verified', verifiedAt: expect.any(String) })
    const log = await owner.get(`/v1/orgs/${org}/audit-logs?action=domain.verified`)
    expect(log.body.items.map((e: { target: { id: string } }) => e.target.id)).toEqual([claim.id])
  })

  it('limits look-ups per org: the 61st within the hour is RATE_LIMITED, with Retry-After', async () => {
    const { owner, org, claim } = await orgWithDomain(fresh())
    const verify = () => owner.post(`/v1/orgs/${org}/domains/${claim.id}/verify`)
    for (let i = 0; i < 60; i++) expect((await verify()).body.code).toBe('DOMAIN_RECORD_MISSING')
    const limited = await owner.request('POST', `/v1/orgs/${org}/domains/${claim.id}/verify`)
    expect([limited.status, limited.body.code]).toEqual([429, 'RATE_LIMITED'])
    expect(limited.body.details.retryAfter).toBeGreaterThan(0)
  })

  it('lets one org hold a domain verified: the others are DOMAIN_TAKEN, even with a valid record', async () => {
    const domain = fresh()
    const a = await orgWithDomain(domain)
    const b = await orgWithDomain(domain)
    // B publishes A's record, then its own: only its own counts, and only while no one else holds the domain.
    dns.setTxt(txt(domain), [a.claim.txtRecord.value])
    expect((await b.owner.post(`/v1/orgs/${b.org}/domains/${b.claim.id}/verify`)).body.code).toBe(
      'DOMAIN_RECORD_MISMATCH',
    )
    expect((await a.owner.post(`/v1/orgs/${a.org}/domains/${a.claim.id}/verify`)).status).toBe(200)
    dns.setTxt(txt(domain), [a.claim.txtRecord.value, b.claim.txtRecord.value])
    const taken = await b.owner.post(`/v1/orgs/${b.org}/domains/${b.claim.id}/verify`)
    expect([taken.status, taken.body.code]).toEqual([409, 'DOMAIN_TAKEN'])
    const c = await owned('Carol')
    const orgC = (await c.post('/v1/orgs', { name: 'C' })).body.id
    expect((await c.post(`/v1/orgs/${orgC}/domains`, { domain })).body.code).toBe('DOMAIN_TAKEN')
    // A lets go: B may verify now.
    expect((await a.owner.delete(`/v1/orgs/${a.org}/domains/${a.claim.id}`)).status).toBe(200)
    expect((await b.owner.post(`/v1/orgs/${b.org}/domains/${b.claim.id}/verify`)).status).toBe(200)
  })

  it('of two orgs verifying one domain at once, exactly one wins', async () => {
    for (let round = 0; round < raceRounds(database, 3); round++) {
      const domain = fresh()
      const a = await orgWithDomain(domain)
      const b = await orgWithDomain(domain)
      dns.setTxt(txt(domain), [a.claim.txtRecord.value, b.claim.txtRecord.value])
      const replies = await Promise.all(
        [a, b].map((x) => x.owner.post(`/v1/orgs/${x.org}/domains/${x.claim.id}/verify`)),
      )
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409])
      expect(replies.find((r) => r.status === 409)!.body.code).toBe('DOMAIN_TAKEN')
      const holders = await Promise.all(
        [a, b].map(async (x) => (await x.owner.get(`/v1/orgs/${x.org}/domains`)).body.items[0].status),
      )
      expect(holders.filter((h) => h === 'verified')).toHaveLength(1)
    }
  })

  it('keeps an org’s domains to its Super Admins, and out of other orgs’ reach', async () => {
    const domain = fresh()
    const { owner, org, claim } = await orgWithDomain(domain)
    const other = await verified(fresh())
    const adminId = await s.user('Admin')
    const admin = s.as(adminId)
    expect(
      (await s.platform.post(`/v1/orgs/${org}/members`, { userId: adminId, roles: ['org_admin'] })).status,
    ).toBe(201)
    expect((await admin.get(`/v1/orgs/${org}/domains`)).body.code).toBe('FORBIDDEN')
    expect((await admin.post(`/v1/orgs/${org}/domains`, { domain: fresh() })).body.code).toBe('FORBIDDEN')
    // Another org's Super Admin: A's org doesn't exist for them, and A's domain id is not in their org.
    expect((await other.owner.get(`/v1/orgs/${org}/domains`)).body.code).toBe('ORG_NOT_FOUND')
    const path = `/v1/orgs/${other.org}/domains/${claim.id}`
    expect((await other.owner.post(`${path}/verify`)).body.code).toBe('DOMAIN_NOT_FOUND')
    expect((await other.owner.patch(path, { joinMode: 'auto' })).body.code).toBe('DOMAIN_NOT_FOUND')
    expect((await other.owner.delete(path)).body.code).toBe('DOMAIN_NOT_FOUND')
    expect((await owner.get(`/v1/orgs/${org}/domains`)).body.items).toHaveLength(1)
  })

  it('sets a join mode and role only on a verified domain, never an owner role', async () => {
    const domain = fresh()
    const { owner, org, claim } = await orgWithDomain(domain)
    const path = `/v1/orgs/${org}/domains/${claim.id}`
    expect((await owner.patch(path, { joinMode: 'auto' })).body.code).toBe('DOMAIN_NOT_VERIFIED')
    dns.setTxt(txt(domain), [claim.txtRecord.value])
    await owner.post(`${path}/verify`)
    expect((await owner.patch(path, { defaultRole: 'org_super_admin' })).body.code).toBe('VALIDATION_FAILED')
    expect((await owner.patch(path, { defaultRole: 'no_such_role' })).body.code).toBe('UNKNOWN_ROLE')
    expect((await owner.patch(path, { joinMode: 'sometimes' })).body.code).toBe('VALIDATION_FAILED')
    const set = await owner.patch(path, { joinMode: 'suggest', defaultRole: 'org_admin' })
    expect(set.body).toMatchObject({ joinMode: 'suggest', defaultRole: 'org_admin' })
  })

  it('auto: a person whose email is verified at the domain joins with its role, via domain', async () => {
    const domain = fresh()
    const { owner, org } = await verified(domain, 'auto', 'org_admin')
    const hook = (await owner.post(`/v1/orgs/${org}/webhooks`, { url: 'http://127.0.0.1:9/hook' })).body.id
    const pat = await person(domain)
    expect(await memberIds(owner, org)).toContain(pat.id)
    const members = (await owner.get(`/v1/orgs/${org}/members`)).body.items
    expect(members.find((m: { userId: string }) => m.userId === pat.id).roles).toEqual(['org_admin'])
    const log = await owner.get(`/v1/orgs/${org}/audit-logs?action=member.added&targetId=${pat.id}`)
    expect(log.body.items).toHaveLength(1)
    expect(log.body.items[0]).toMatchObject({
      actor: { id: pat.id },
      after: { via: 'domain', roles: ['org_admin'] },
    })
    // The join is also a webhook event, written with it.
    const deliveries = (await owner.get(`/v1/orgs/${org}/webhooks/${hook}/deliveries`)).body.items
    expect(deliveries.map((d: { type: string }) => d.type)).toContain('member.added')
    // Signing in again changes nothing: they are in.
    expect((await pat.get('/v1/me/suggested-orgs')).body.items).toEqual([])
  })

  it('never for an unverified email, nor for a person of another domain', async () => {
    const domain = fresh()
    const { owner, org } = await verified(domain, 'auto')
    // Provisioned by the platform with an address nobody proved: no suggestion, no join.
    const unproven = await s.platform.post('/v1/users', { email: `eve@${domain}`, name: 'Eve' })
    const eve = s.as(unproven.body.id)
    expect((await eve.get('/v1/me/suggested-orgs')).body.items).toEqual([])
    expect((await eve.post(`/v1/orgs/${org}/join`)).body.code).toBe('ORG_NOT_FOUND')
    // Signed up and never verified: can't sign in, isn't joined.
    const address = `mallory@${domain}`
    await s.platform.request('POST', '/v1/auth/signup', {
      email: address,
      password: 'a long enough passphrase',
      name: 'M',
    })
    const outsider = await person(fresh(), 'Otto')
    expect((await outsider.get('/v1/me/suggested-orgs')).body.items).toEqual([])
    expect((await outsider.post(`/v1/orgs/${org}/join`)).body.code).toBe('ORG_NOT_FOUND')
    const emails = ((await owner.get(`/v1/orgs/${org}/members`)).body.items as { email: string }[]).map(
      (m) => m.email,
    )
    expect(emails.some((e) => e === address || e.startsWith('eve@') || e.startsWith('otto'))).toBe(false)
  })

  it('suggest: the person sees the org and joins it once; sign-in joins an auto org they were not in', async () => {
    const domain = fresh()
    const { owner, org, claim } = await verified(domain, 'suggest')
    const pat = await person(domain)
    expect(await memberIds(owner, org)).not.toContain(pat.id)
    expect((await pat.get('/v1/me/suggested-orgs')).body.items).toEqual([
      { orgId: org, name: `Org of ${domain}`, domain, joinMode: 'suggest' },
    ])
    const joined = await pat.post(`/v1/orgs/${org}/join`)
    expect(joined.body).toMatchObject({ orgId: org, roles: ['org_member'], revision: expect.any(Number) })
    expect((await pat.post(`/v1/orgs/${org}/join`)).body.code).toBe('ALREADY_MEMBER')
    expect((await pat.get('/v1/me/suggested-orgs')).body.items).toEqual([])
    // Off: nothing is suggested any more. Auto: the next sign-in joins whoever isn't in.
    const sam = await person(domain, 'Sam')
    await owner.patch(`/v1/orgs/${org}/domains/${claim.id}`, { joinMode: 'off' })
    expect((await sam.get('/v1/me/suggested-orgs')).body.items).toEqual([])
    expect((await sam.post(`/v1/orgs/${org}/join`)).body.code).toBe('ORG_NOT_FOUND')
    await owner.patch(`/v1/orgs/${org}/domains/${claim.id}`, { joinMode: 'auto' })
    expect(await memberIds(owner, org)).not.toContain(sam.id)
    const login = await sam.post('/v1/auth/login', { email: sam.email, password: 'a long enough passphrase' })
    expect(login.status).toBe(200)
    expect(await memberIds(owner, org)).toContain(sam.id)
  })
  it('a person the org’s directory deactivated comes back only through the directory (SCIM over domain)', async () => {
    const domain = fresh()
    const { owner, org, claim } = await verified(domain, 'suggest')
    const pat = await person(domain)
    const token = (await owner.post(`/v1/orgs/${org}/scim-tokens`, { name: 'IdP' })).body.token as string
    const scim = (method: string, path: string, body: unknown) =>
      fetch(`${s.url}/scim/v2/orgs/${org}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify(body),
      }).then(async (r): Promise<Reply> => ({ status: r.status, body: await r.json() }))
    const provisioned = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: pat.email,
      active: true,
    })
    expect(provisioned.status).toBe(201)
    expect(await memberIds(owner, org)).toContain(pat.id)
    const deactivate = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }
    const off = await scim('PATCH', `/Users/${provisioned.body.id}`, {
      ...deactivate,
      Operations: [{ op: 'replace', value: { active: false } }],
    })
    expect(off.status).toBe(200)
    expect(await memberIds(owner, org)).not.toContain(pat.id)
    // Neither a suggestion nor an auto join at sign-in undoes the directory's decision.
    expect((await pat.get('/v1/me/suggested-orgs')).body.items).toEqual([])
    expect((await pat.post(`/v1/orgs/${org}/join`)).body.code).toBe('ORG_NOT_FOUND')
    await owner.patch(`/v1/orgs/${org}/domains/${claim.id}`, { joinMode: 'auto' })
    const login = await pat.post('/v1/auth/login', { email: pat.email, password: 'a long enough passphrase' })
    expect(login.status).toBe(200)
    expect(await memberIds(owner, org)).not.toContain(pat.id)
    // The directory brings them back.
    const on = await scim('PATCH', `/Users/${provisioned.body.id}`, {
      ...deactivate,
      Operations: [{ op: 'replace', value: { active: true } }],
    })
    expect(on.status).toBe(200)
    expect(await memberIds(owner, org)).toContain(pat.id)
  })
})
