import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { acceptInvitation, invite, type Person, signUp } from './support/sessions.ts'

/**
 * Seed 004 (Appcircle "Team Management", `modules` preset) at its edges (issue 19.5), walked by signed-in
 * people and their API keys.
 */
describe.each(DATABASES)('seed 004 at its edges, as signed-in people (%s)', (db) => {
  let s: TestServer
  let owner: Person
  let root: string
  beforeAll(async () => {
    s = await startTestServer(db, { model: presets.modules! })
    owner = await signUp(s, 'Olivia')
    // "each user must be an Owner of at least one organization": hers, from sign-up.
    const mine = (await owner.get('/v1/orgs')).body.items
    expect(mine).toHaveLength(1)
    root = mine[0].id
  })
  afterAll(() => s?.stop())

  const allowed = async (who: { post: Person['post'] }, permission: string, orgId: string) =>
    (await who.post('/v1/check', { permission, resource: { org: orgId } })).body.allowed as boolean

  it('"Once a user accepts an invite, it will be added to the team as a Member with read only access", plus the module roles chosen', async () => {
    const sent = await invite(s, owner, root, {
      email: 'dev@example.com',
      role: 'build_write',
      roles: ['publish_read'],
    })
    expect(sent.status).toBe(201)
    // The Member base rides with the module roles: never invisible to themselves.
    expect(sent.body.roles.sort()).toEqual(['build_write', 'member', 'publish_read'])
    // "The user will be then shown in a Pending state until the invitation is accepted."
    const pending = (await owner.get(`/v1/orgs/${root}/members`)).body.items.find(
      (m: { email: string }) => m.email === 'dev@example.com',
    )
    expect(pending).toMatchObject({ status: 'pending', source: 'direct' })
    expect(pending.roles.sort()).toEqual(['build_write', 'member', 'publish_read'])

    const dev = await signUp(s, 'Dev', 'dev@example.com')
    const accepted = await acceptInvitation(s, dev)
    expect(accepted.status).toBe(200)
    const orgs = (await dev.get('/v1/orgs')).body.items
    expect(orgs.find((o: { id: string }) => o.id === root)).toMatchObject({ belonging: 'member' })
    // Read-only access to the org: they see it and its members, and work in Build.
    const list = await dev.get(`/v1/orgs/${root}/members`)
    expect(list.status).toBe(200)
    const me = list.body.items.find((m: { userId: string }) => m.userId === dev.id)
    expect(me.roles.sort()).toEqual(['build_write', 'member', 'publish_read'])
    expect(await allowed(dev, 'build.write', root)).toBe(true)
    expect(await allowed(dev, 'publish.read', root)).toBe(true)
    expect(await allowed(dev, 'publish.write', root)).toBe(false)
    expect(await allowed(dev, 'org.update_user_roles', root)).toBe(false)
    // The same through their API key.
    const key = await dev.key()
    expect((await key.get(`/v1/orgs/${root}/members`)).status).toBe(200)
  })

  it("an invitation gives no role above the inviter's own", async () => {
    const dev = (await owner.get(`/v1/orgs/${root}/members`)).body.items.find(
      (m: { email: string }) => m.email === 'dev@example.com',
    )
    expect(dev).toBeDefined()
    const key = await owner.key()
    // The owner's key may invite (the owner may); a key narrowed to build roles may not give Owner.
    const narrowed = await owner.key({ role: 'build_write' })
    const refused = await narrowed.post(`/v1/orgs/${root}/invitations`, {
      email: 'boss@example.com',
      role: 'owner',
    })
    expect(refused.status).toBe(403)
    expect((await key.get(`/v1/orgs/${root}/invitations`)).status).toBe(200)
  })

  it('"The roles for these users in the sub-organization will be inherited"; a direct role from Manage Roles, in one call, makes them a Member there', async () => {
    const qa = await owner.post('/v1/orgs', { name: 'QA', parentId: root })
    expect(qa.status).toBe(201)
    const sub = qa.body.id as string
    const devId = (await owner.get(`/v1/orgs/${root}/members`)).body.items.find(
      (m: { email: string }) => m.email === 'dev@example.com',
    ).userId as string
    const inSub = async () =>
      (await owner.get(`/v1/orgs/${sub}/members`)).body.items.find(
        (m: { userId: string }) => m.userId === devId,
      )
    expect(await inSub()).toMatchObject({ source: 'inherited' })

    // Manage Roles on the sub-org: Build read there, one call, though they only inherited it.
    const set = await owner.patch(`/v1/orgs/${sub}/members/${devId}`, { roles: ['build_read'] })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({ roles: ['build_read'], status: 'active' })
    // "If a user is directly added to the sub-organization, their role will be listed as Member instead of Inherited."
    expect(await inSub()).toMatchObject({ source: 'direct', roles: ['build_read'] })

    // The direct Build role replaces the inherited one there; "None" elsewhere still inherits.
    const dev = { post: (p: string, b?: unknown) => s.as(devId).post(p, b) }
    expect(await allowed(dev, 'build.write', sub)).toBe(false)
    expect(await allowed(dev, 'build.read', sub)).toBe(true)
    expect(await allowed(dev, 'publish.read', sub)).toBe(true)
    expect(await allowed(dev, 'build.write', root)).toBe(true)
    // The modal's left side: the person's organization and sub-organizations, each with their roles there.
    const devOrgs = (await s.as(devId).get('/v1/orgs')).body.items.map(
      (o: { id: string; belonging: string }) => [o.id, o.belonging],
    )
    expect(devOrgs).toEqual(
      expect.arrayContaining([
        [root, 'member'],
        [sub, 'member'],
      ]),
    )
  })

  it("a role change's audit entry lists the roles held before by key, whatever order they were given in", async () => {
    const given = ['signing_read', 'member', 'build_read']
    for (const [name, roles] of [
      ['Ana', given],
      ['Ben', [...given].reverse()],
    ] as const) {
      const id = await s.user(name)
      expect((await s.platform.post(`/v1/orgs/${root}/members`, { userId: id, roles })).status).toBe(201)
      expect((await owner.patch(`/v1/orgs/${root}/members/${id}`, { roles: ['member'] })).status).toBe(200)
      const entry = (
        await owner.get(`/v1/orgs/${root}/audit-logs?action=member.roles_changed&limit=100`)
      ).body.items.find((e: { target: { id: string } }) => e.target.id === id)
      // The same on every instance: the engine, which it is read from, keeps no creation order.
      expect(entry.before.roles).toEqual(['build_read', 'member', 'signing_read'])
      expect(entry.after.roles).toEqual(['member'])
    }
  })

  it('a stranger to the org gets no role in its sub-org through Manage Roles', async () => {
    const stranger = await signUp(s, 'Stranger')
    const sub = (await owner.get('/v1/orgs')).body.items.find((o: { name: string }) => o.name === 'QA').id
    const refused = await owner.patch(`/v1/orgs/${sub}/members/${stranger.id}`, { roles: ['build_read'] })
    expect([refused.status, refused.body.code]).toEqual([404, 'MEMBER_NOT_FOUND'])
  })
})
