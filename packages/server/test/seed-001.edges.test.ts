import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { acceptInvitation, invite, type Person, signUp } from './support/sessions.ts'

/**
 * Seed 001 (Capgo RBAC, the default `capgo` preset) at its edges (issue 19.8), walked by signed-in people
 * and their API keys.
 */
describe.each(DATABASES)('seed 001 at its edges, as signed-in people (%s)', (db) => {
  let s: TestServer
  let alice: Person
  let org: string
  let app: string
  beforeAll(async () => {
    s = await startTestServer(db)
    alice = await signUp(s, 'Alice')
    org = (await alice.get('/v1/orgs')).body.items[0].id
    app = (await alice.post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'Shop' })).body.id
  })
  afterAll(() => s?.stop())

  it('"Every Capgo account belongs to at least one organization": one of their own from sign-up, as Super Admin', async () => {
    const orgs = (await alice.get('/v1/orgs')).body.items
    expect(orgs).toHaveLength(1)
    expect(orgs[0]).toMatchObject({ belonging: 'member', creatorId: alice.id })
    const members = (await alice.get(`/v1/orgs/${org}/members`)).body.items
    expect(members).toMatchObject([{ userId: alice.id, roles: ['org_super_admin'], status: 'active' }])
    // Every account: Bob's too.
    const bob = await signUp(s, 'Bob')
    expect((await bob.get('/v1/orgs')).body.items).toHaveLength(1)
  })

  it('"…belongs to at least one organization" holds on the way out: one\'s last org is neither left nor deleted, and someone removed from theirs gets a personal org', async () => {
    const orgsOf = async (who: Person) =>
      (await who.get('/v1/orgs')).body.items as { id: string; creatorId: string; belonging: string }[]
    const bea = await signUp(s, 'Bea', 'bea@example.com')
    const [personal] = await orgsOf(bea)
    expect((await invite(s, alice, org, { email: bea.email, role: 'org_member' })).status).toBe(201)
    expect((await acceptInvitation(s, bea)).status).toBe(200)
    // Two orgs: her own may go.
    expect((await bea.delete(`/v1/orgs/${personal!.id}`)).status).toBe(200)
    // Alice's is her last: leaving it is refused, saying what to do first, and she stays.
    const leave = await bea.delete(`/v1/orgs/${org}/members/${bea.id}`)
    expect([leave.status, leave.body.code, leave.body.details]).toEqual([409, 'LAST_ORG', { userId: bea.id }])
    expect((await orgsOf(bea)).map((o) => o.id)).toEqual([org])
    // Removed by Alice, she is not refused (nobody keeps a place by having nowhere else to go): she gets a
    // personal org of her own again, as at sign-up.
    expect((await alice.delete(`/v1/orgs/${org}/members/${bea.id}`)).status).toBe(200)
    const after = await orgsOf(bea)
    expect(after).toMatchObject([{ creatorId: bea.id, belonging: 'member' }])
    expect(after[0]!.id).not.toBe(org)
    const mine = (await bea.get(`/v1/orgs/${after[0]!.id}/members`)).body.items
    expect(mine).toMatchObject([{ userId: bea.id, roles: ['org_super_admin'] }])
    // The same when the org itself goes: Cid, in no other org, gets one; its deleter, Dan, keeps his own.
    const dan = await signUp(s, 'Dan', 'dan@example.com')
    const team = (await dan.post('/v1/orgs', { name: 'Team' })).body.id as string
    const cid = await signUp(s, 'Cid', 'cid@example.com')
    const cidsOwn = (await orgsOf(cid))[0]!.id
    expect((await invite(s, dan, team, { email: cid.email, role: 'org_admin' })).status).toBe(201)
    expect((await acceptInvitation(s, cid)).status).toBe(200)
    expect((await cid.delete(`/v1/orgs/${cidsOwn}`)).status).toBe(200)
    expect((await dan.delete(`/v1/orgs/${team}`)).status).toBe(200)
    expect(await orgsOf(cid)).toMatchObject([{ creatorId: cid.id, belonging: 'member' }])
    // And one's own last org can't be deleted (through an API key neither).
    const danOwn = (await orgsOf(dan))[0]!.id
    const refused = await (await dan.key()).delete(`/v1/orgs/${danOwn}`)
    expect([refused.status, refused.body.code]).toEqual([409, 'LAST_ORG'])
    expect((await dan.delete(`/v1/orgs/${danOwn}`)).body.code).toBe('LAST_ORG')
    expect((await orgsOf(dan)).map((o) => o.id)).toEqual([danOwn])
  })

  it("two writes each taking one of a person's last two orgs can't both commit", async () => {
    const eve = await signUp(s, 'Eve', 'eve@example.com')
    const own = (await eve.get('/v1/orgs')).body.items[0].id as string
    expect((await invite(s, alice, org, { email: eve.email, role: 'org_member' })).status).toBe(201)
    expect((await acceptInvitation(s, eve)).status).toBe(200)
    const [a, b] = await Promise.all([
      eve.delete(`/v1/orgs/${own}`),
      eve.delete(`/v1/orgs/${org}/members/${eve.id}`),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 409])
    expect((await eve.get('/v1/orgs')).body.items).toHaveLength(1)
  })

  it('"only work on one app": an App Admin of one app, and nothing else, sees the org as external, that app and its channels, creates channels in it, and sees no other app', async () => {
    const zed = await signUp(s, 'Zed', 'zed@example.com')
    const other = (await alice.post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'Other' })).body.id
    const bound = await alice.post(`/v1/orgs/${org}/bindings`, {
      principal: { type: 'user', id: zed.id },
      role: 'app_admin',
      resourceId: app,
    })
    expect(bound.status).toBe(201)
    for (const who of [zed, await zed.key()]) {
      const listed = (await who.get('/v1/orgs')).body.items.find((o: { id: string }) => o.id === org)
      expect(listed).toMatchObject({ belonging: 'external' })
      const apps = (await who.get(`/v1/orgs/${org}/resources?type=app`)).body.items
      expect(apps.map((a: { id: string }) => a.id)).toEqual([app])
      expect((await who.get(`/v1/orgs/${org}/resources/${other}`)).status).toBe(404)
    }
    const channel = await zed.post(`/v1/orgs/${org}/resources`, {
      type: 'channel',
      name: 'beta',
      parentId: app,
    })
    expect(channel.status).toBe(201)
    const channels = (await zed.get(`/v1/orgs/${org}/resources?type=channel&parentId=${app}`)).body.items
    expect(channels.map((c: { id: string }) => c.id)).toContain(channel.body.id)
    const elsewhere = await zed.post(`/v1/orgs/${org}/resources`, {
      type: 'channel',
      name: 'x',
      parentId: other,
    })
    expect(elsewhere.status).toBe(404)
  })

  const grantable = async (who: { get: Person['get'] }, query = '') => {
    const reply = await who.get(`/v1/orgs/${org}/roles?grantable=true${query}`)
    expect(reply.status).toBe(200)
    return Object.fromEntries(
      reply.body.items.map((r: { key: string; grantable: boolean }) => [r.key, r.grantable]),
    ) as Record<string, boolean>
  }

  it('the role pickers offer only roles the actor may grant ("Promoting or demoting a Super Admin requires you to be a Super Admin yourself")', async () => {
    const adam = await signUp(s, 'Adam', 'adam@example.com')
    expect((await invite(s, alice, org, { email: adam.email, role: 'org_admin' })).status).toBe(201)
    expect((await acceptInvitation(s, adam)).status).toBe(200)
    const mia = await signUp(s, 'Mia', 'mia@example.com')
    expect((await invite(s, alice, org, { email: mia.email, role: 'org_member' })).status).toBe(201)
    expect((await acceptInvitation(s, mia)).status).toBe(200)

    // The Super Admin may give every org role; app roles bind on an app, not at the org.
    expect(await grantable(alice)).toMatchObject({
      org_super_admin: true,
      org_admin: true,
      org_billing_admin: true,
      org_member: true,
      app_admin: false,
    })
    // An Admin: no Super Admin, and no Billing Manager (billing is not theirs to give).
    const byAdmin = await grantable(adam)
    expect(byAdmin).toMatchObject({
      org_super_admin: false,
      org_admin: true,
      org_billing_admin: false,
      org_member: true,
    })
    // The same answer through the Admin's API key.
    expect(await grantable(await adam.key())).toEqual(byAdmin)
    // What the picker offers is what the API takes.
    const refused = await invite(s, adam, org, { email: 'boss@example.com', role: 'org_super_admin' })
    expect([refused.status, refused.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    // On an app (the Access tab's picker): app roles, within the Admin's own permissions.
    const onApp = await grantable(adam, `&resourceId=${app}`)
    expect(onApp).toMatchObject({
      app_developer: true,
      app_uploader: true,
      app_reader: true,
      org_admin: false,
    })
    expect((await grantable(alice, `&resourceId=${app}`)).app_admin).toBe(true)
    // A Member ("Read-only access") may give nothing.
    expect(Object.values(await grantable(mia)).some(Boolean)).toBe(false)
    // Without the flag, the list says nothing of it.
    const plain = await mia.get(`/v1/orgs/${org}/roles`)
    expect(plain.body.items[0].grantable).toBeUndefined()
  })
})
