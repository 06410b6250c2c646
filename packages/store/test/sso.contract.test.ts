import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sso, type Tx } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('sso repository (%s)', (kind) => {
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
  const newUser = async () => {
    const id = randomUUID()
    await db()
      .insertInto('users')
      .values({ id, email: `${id}@example.com`, name: 'U' })
      .execute()
    return id
  }
  const connect = (
    orgId: string,
    config: unknown = { issuer: 'https://idp.test', clientSecret: 'ok1:k:x' },
  ) =>
    inTx((tx) =>
      sso.insertConnection(
        tx,
        {
          id: randomUUID(),
          orgId,
          kind: 'oidc',
          name: 'Okta',
          config,
          defaultRole: null,
          mappings: [{ idpGroup: 'eng', role: 'org_admin' }],
          enabled: false,
        },
        now,
      ),
    )

  it("finds a connection only through its own org's id", async () => {
    const [a, b] = [await newOrg(), await newOrg()]
    const c = await connect(a)
    expect(c).toMatchObject({ org_id: a, kind: 'oidc', enabled: false, tested_at: null })
    expect(c.mappings).toEqual([{ idpGroup: 'eng', role: 'org_admin' }])
    expect((await sso.findConnection(db(), a, c.id))?.id).toBe(c.id)
    expect(await sso.findConnection(db(), b, c.id)).toBeUndefined()
    expect(await sso.listConnections(db(), b)).toEqual([])
    expect(await inTx((tx) => sso.updateConnection(tx, b, c.id, { enabled: true }, now))).toBeUndefined()
    expect(await inTx((tx) => sso.deleteConnection(tx, b, c.id))).toBe(false)
    expect((await sso.findConnectionById(db(), c.id))?.enabled).toBe(false)
  })

  it('marks a test passed only for the config that was tested, and a new config clears it', async () => {
    const org = await newOrg()
    const c = await connect(org)
    const tested = await inTx((tx) => sso.recordTest(tx, org, c.id, c.config, { at: now, problem: null }))
    expect(tested?.tested_at).toEqual(now)
    const edited = await inTx((tx) =>
      sso.updateConnection(tx, org, c.id, { config: { issuer: 'https://other.test' } }, now),
    )
    expect(edited?.tested_at).toBeNull()
    // A test of the old config finishing after the edit leaves the new config untested.
    expect(
      await inTx((tx) => sso.recordTest(tx, org, c.id, c.config, { at: now, problem: null })),
    ).toBeUndefined()
    const failed = await inTx((tx) =>
      sso.recordTest(tx, org, c.id, edited!.config, { at: now, problem: 'nope' }),
    )
    expect(failed).toMatchObject({ tested_at: null, test_problem: 'nope' })
    expect((await sso.enabledConnections(db(), org)).length).toBe(0)
    await inTx((tx) => sso.updateConnection(tx, org, c.id, { enabled: true }, now))
    expect((await sso.enabledConnections(db(), org)).map((r) => r.id)).toEqual([c.id])
  })

  it('links a subject to one account for good; deleting the connection ends its links and sign-ins', async () => {
    const org = await newOrg()
    const c = await connect(org)
    const [u1, u2] = [await newUser(), await newUser()]
    expect(await inTx((tx) => sso.linkIdentity(tx, c.id, 'sub-1', u1, now))).toBe(u1)
    expect(await inTx((tx) => sso.linkIdentity(tx, c.id, 'sub-1', u2, now))).toBe(u1)
    expect(await sso.findIdentity(db(), c.id, 'sub-1')).toBe(u1)
    await sso.insertSignIn(db(), {
      stateHash: `s-${c.id}`,
      connectionId: c.id,
      browserHash: 'b',
      pending: 'ok1:x',
      expiresAt: new Date(now.getTime() + 60_000),
    })
    expect(await inTx((tx) => sso.deleteConnection(tx, org, c.id))).toBe(true)
    expect(await sso.findIdentity(db(), c.id, 'sub-1')).toBeUndefined()
    expect(await sso.takeSignIn(db(), `s-${c.id}`, now)).toBeUndefined()
  })

  it('gives a started sign-in once, and never after it expired', async () => {
    const c = await connect(await newOrg())
    const put = (stateHash: string, expiresAt: Date) =>
      sso.insertSignIn(db(), { stateHash, connectionId: c.id, browserHash: 'b', pending: 'p', expiresAt })
    await put('once', new Date(now.getTime() + 60_000))
    const both = await Promise.all([sso.takeSignIn(db(), 'once', now), sso.takeSignIn(db(), 'once', now)])
    expect(both.filter(Boolean).length).toBe(1)
    await put('old', new Date(now.getTime() - 1))
    await put('older', new Date(now.getTime() - 1000))
    expect(await sso.takeSignIn(db(), 'old', now)).toBeUndefined()
    expect(await sso.pruneSignIns(db(), now)).toBeGreaterThanOrEqual(1)
  })

  it('keeps "SSO required" per org, off until set; a deleted break-glass user leaves none', async () => {
    const [org, other] = [await newOrg(), await newOrg()]
    const owner = await newUser()
    expect(await sso.findSettings(db(), org)).toEqual({ sso_required: false, break_glass_user_id: null })
    await inTx((tx) => sso.putSettings(tx, org, { ssoRequired: true, breakGlassUserId: owner }, now))
    expect(await sso.findSettings(db(), org)).toEqual({ sso_required: true, break_glass_user_id: owner })
    expect((await sso.findSettings(db(), other)).sso_required).toBe(false)
    await db().deleteFrom('users').where('id', '=', owner).execute()
    expect(await sso.findSettings(db(), org)).toEqual({ sso_required: true, break_glass_user_id: null })
  })
})
