import { randomUUID } from 'node:crypto'
import { isOrgkitError } from '@orgkit/core'
import { describe, expect, it } from 'vitest'
import { orgDomains, type Tx } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

const { normalizeDomain, domainOfEmail } = orgDomains

describe('normalizeDomain', () => {
  it.each([
    ['Acme.COM', 'acme.com'],
    ['  acme.com.  ', 'acme.com'],
    ['Bücher.Example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.co.uk', 'a-b.c-d.co.uk'],
  ])('%s → %s', (input, output) => expect(normalizeDomain(input)).toBe(output))

  it.each([
    '',
    'localhost',
    '127.0.0.1',
    'acme..com',
    '-acme.com',
    'acme-.com',
    'ac me.com',
    'acme.com/x',
    'user@acme.com',
    '_dmarc.acme.com',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
    '*.acme.com',
  ])('refuses %j', (input) => expect(normalizeDomain(input)).toBeNull())

  it("takes an email's domain part", () => {
    expect(domainOfEmail('Alice@Eng.Acme.com')).toBe('eng.acme.com')
    expect(domainOfEmail('no-at-sign')).toBeNull()
    expect(domainOfEmail('@acme.com')).toBeNull()
  })
})

describe.each(TARGETS)('org domains repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const now = new Date('2030-01-01T00:00:00Z')
  const newOrg = async () => {
    const id = randomUUID()
    await db()
      .insertInto('orgs')
      .values({ id, parent_id: null, name: 'Org', password_policy: null })
      .execute()
    return id
  }
  const claim = (orgId: string, domain: string) =>
    inTx((tx) =>
      orgDomains.insertClaim(
        tx,
        { id: randomUUID(), orgId, domain, token: randomUUID(), createdBy: null },
        now,
      ),
    )
  const unique = () => `d${randomUUID().slice(0, 8)}.test`
  const takenError = async (run: () => Promise<unknown>) => {
    const error = await run().then(
      () => null,
      (e: unknown) => e,
    )
    return isOrgkitError(error) ? error.code : error
  }

  it('keeps unverified claims of one domain in several orgs, each with its own token', async () => {
    const [a, b] = [await newOrg(), await newOrg()]
    const domain = unique()
    const ca = await claim(a, domain)
    const cb = await claim(b, domain)
    expect(ca).toMatchObject({ org_id: a, domain, verified_at: null, join_mode: 'off', default_role: null })
    expect(ca.token).not.toBe(cb.token)
    expect(await orgDomains.findVerifiedByDomain(db(), domain)).toBeUndefined()
    expect(await takenError(() => claim(a, domain))).toBe('ALREADY_EXISTS')
  })

  it('lets one org hold a domain verified; the other is DOMAIN_TAKEN until it lets go', async () => {
    const [a, b] = [await newOrg(), await newOrg()]
    const domain = unique()
    const ca = await claim(a, domain)
    const cb = await claim(b, domain)
    await inTx((tx) => orgDomains.markVerified(tx, a, ca.id, now))
    expect(await takenError(() => inTx((tx) => orgDomains.markVerified(tx, b, cb.id, now)))).toBe(
      'DOMAIN_TAKEN',
    )
    expect(await orgDomains.findVerifiedByDomain(db(), domain.toUpperCase())).toEqual({
      id: ca.id,
      orgId: a,
      domain,
      joinMode: 'off',
      defaultRole: null,
      verifiedAt: now,
    })
    await inTx((tx) => orgDomains.deleteClaim(tx, a, ca.id))
    await inTx((tx) => orgDomains.markVerified(tx, b, cb.id, now))
    expect((await orgDomains.findVerifiedByDomain(db(), domain))?.orgId).toBe(b)
  })

  it('of orgs verifying one domain at once, exactly one wins', async () => {
    const orgs = await Promise.all([1, 2, 3, 4].map(() => newOrg()))
    const domain = unique()
    const claims = []
    for (const org of orgs) claims.push(await claim(org, domain))
    const outcomes = await Promise.allSettled(
      claims.map((c) => inTx((tx) => orgDomains.markVerified(tx, c.org_id, c.id, now))),
    )
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []))
    expect(refused.map((e) => (isOrgkitError(e) ? e.code : e))).toEqual([
      'DOMAIN_TAKEN',
      'DOMAIN_TAKEN',
      'DOMAIN_TAKEN',
    ])
  })

  it('keeps another org’s claims out of reach by id', async () => {
    const [a, b] = [await newOrg(), await newOrg()]
    const ca = await claim(a, unique())
    expect(await orgDomains.findInOrg(db(), b, ca.id)).toBeUndefined()
    expect(
      await inTx((tx) => orgDomains.updateJoining(tx, b, ca.id, { joinMode: 'off', defaultRole: 'x' }, now)),
    ).toBeUndefined()
    expect(await inTx((tx) => orgDomains.deleteClaim(tx, b, ca.id))).toBeUndefined()
    expect(await takenError(() => inTx((tx) => orgDomains.markVerified(tx, b, ca.id, now)))).not.toBeNull()
    expect(await orgDomains.findInOrg(db(), a, ca.id)).toMatchObject({ id: ca.id, verified_at: null })
    expect((await orgDomains.listForOrg(db(), b)).length).toBe(0)
  })

  it('refuses a join mode on an unverified claim (the check), and sets it once verified', async () => {
    const org = await newOrg()
    const c = await claim(org, unique())
    const set = (joinMode: orgDomains.JoinMode) =>
      inTx((tx) => orgDomains.updateJoining(tx, org, c.id, { joinMode, defaultRole: 'org_member' }, now))
    await expect(set('auto')).rejects.toMatchObject({ constraint: 'org_domains_join_needs_verified' })
    await inTx((tx) => orgDomains.markVerified(tx, org, c.id, now))
    expect(await set('suggest')).toMatchObject({ join_mode: 'suggest', default_role: 'org_member' })
    expect(await orgDomains.listVerifiedForOrg(db(), org)).toEqual([
      expect.objectContaining({ id: c.id, joinMode: 'suggest', defaultRole: 'org_member' }),
    ])
  })

  it('lists an org’s claims by name and drops them with the org', async () => {
    const org = await newOrg()
    await claim(org, 'zeta.test')
    await claim(org, 'alpha.test')
    expect((await orgDomains.listForOrg(db(), org)).map((d) => d.domain)).toEqual(['alpha.test', 'zeta.test'])
    await db().deleteFrom('orgs').where('id', '=', org).execute()
    expect(await orgDomains.listForOrg(db(), org)).toEqual([])
  })
})
