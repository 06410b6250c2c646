import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * The bar, as a new user would do it with curl: create an org, an app and a channel, add a member,
 * bind roles, set an override, and ask /v1/check — every answer as SPEC 7 says.
 */
describe.each(DATABASES)('first steps over HTTP (%s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database)
  }, 60_000)
  afterAll(() => s?.stop())

  it('goes from an empty database to answered checks', async () => {
    const alice = await s.user('Alice')
    const bob = await s.user('Bob')
    const asAlice = s.as(alice)

    const org = await asAlice.post('/v1/orgs', { name: 'Acme' })
    expect(org.status).toBe(201)
    expect(org.body).toMatchObject({ name: 'Acme', creatorId: alice, parentId: null })
    expect(org.body.revision).toBeGreaterThan(0)
    const orgId = org.body.id

    const app = await asAlice.post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Shop' })
    expect(app.status).toBe(201)
    const channel = await asAlice.post(`/v1/orgs/${orgId}/resources`, {
      type: 'channel',
      name: 'staging',
      parentId: app.body.id,
    })
    expect(channel.status).toBe(201)

    expect(
      (await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: bob, roles: ['org_member'] })).status,
    ).toBe(201)
    const members = await asAlice.get(`/v1/orgs/${orgId}/members`)
    expect(members.body.items.map((m: { userId: string; roles: string[] }) => [m.userId, m.roles])).toEqual([
      [alice, ['org_super_admin']],
      [bob, ['org_member']],
    ])

    const check = (who: string, permission: string, resource: object, atLeastRevision?: number) =>
      s.as(who).post('/v1/check', { permission, resource, ...(atLeastRevision && { atLeastRevision }) })
    const ch = { type: 'channel', id: channel.body.id }
    const ap = { type: 'app', id: app.body.id }

    // SPEC 7: a member reads apps and channels, nothing more.
    expect((await check(bob, 'app.read', ap)).body).toMatchObject({ allowed: true, reason: 'role' })
    expect((await check(bob, 'app.upload_bundle', ap)).body).toMatchObject({
      allowed: false,
      reason: 'no_grant',
    })
    expect((await check(bob, 'channel.promote_bundle', ch)).body.allowed).toBe(false)
    expect((await check(alice, 'org.delete', { org: orgId })).body.allowed).toBe(true)
    expect((await check(bob, 'org.delete', { org: orgId })).body.allowed).toBe(false)

    // An app role: developer on the app.
    const bound = await asAlice.post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: bob },
      role: 'app_developer',
      resourceId: app.body.id,
    })
    expect(bound.status).toBe(201)
    expect((await check(bob, 'app.upload_bundle', ap, bound.body.revision)).body.allowed).toBe(true)
    expect((await check(bob, 'channel.promote_bundle', ch)).body.allowed).toBe(true)
    expect((await check(bob, 'bundle.delete', ap)).body.allowed).toBe(false)

    // A channel override: deny "Associate bundle" on staging for Bob.
    const override = await asAlice.put(`/v1/orgs/${orgId}/resources/${channel.body.id}/overrides`, {
      principal: { type: 'user', id: bob },
      permission: 'channel.promote_bundle',
      effect: 'deny',
    })
    expect(override.status).toBe(200)
    const denied = await check(bob, 'channel.promote_bundle', ch, override.body.revision)
    expect(denied.body).toMatchObject({ allowed: false, reason: 'override_deny' })
    expect(denied.body.revision).toBeGreaterThanOrEqual(override.body.revision)

    // Why? The explanation names the override; and the Access tab shows the binding and the override.
    const why = await s.as(bob).post('/v1/explain', { permission: 'channel.promote_bundle', resource: ch })
    expect(why.body.decidedBy).toMatchObject({
      kind: 'override',
      effect: 'deny',
      principal: { type: 'user', id: bob },
    })
    const access = await asAlice.get(`/v1/orgs/${orgId}/resources/${app.body.id}/access`)
    expect(access.body.entries).toContainEqual(
      expect.objectContaining({ role: 'app_developer', principal: expect.objectContaining({ id: bob }) }),
    )
    expect(access.body.overrides).toEqual([
      {
        resourceId: channel.body.id,
        principal: { type: 'user', id: bob },
        permission: 'channel.promote_bundle',
        effect: 'deny',
      },
    ])

    // Removing Bob takes everything at once.
    expect((await asAlice.delete(`/v1/orgs/${orgId}/members/${bob}`)).status).toBe(200)
    expect((await check(bob, 'app.read', ap)).body.allowed).toBe(false)
    expect((await asAlice.get(`/v1/orgs/${orgId}/bindings?userId=${bob}`)).body.items).toEqual([])
  })

  it('answers batch checks, lists and who-can', async () => {
    const carol = await s.user('Carol')
    const org = await s.as(carol).post('/v1/orgs', { name: 'Carol Co' })
    const apps = []
    for (const name of ['a', 'b'])
      apps.push((await s.as(carol).post(`/v1/orgs/${org.body.id}/resources`, { type: 'app', name })).body.id)
    const batch = await s.as(carol).post('/v1/check/batch', {
      checks: [
        { permission: 'app.delete', resource: { type: 'app', id: apps[0] } },
        { permission: 'app.nope', resource: { type: 'app', id: apps[0] } },
        { permission: 'org.read', resource: { org: org.body.id } },
      ],
    })
    expect(batch.status).toBe(200)
    expect(batch.body.results[0]).toEqual({ allowed: true, reason: 'role' })
    expect(batch.body.results[1]).toMatchObject({ allowed: false, error: { code: 'UNKNOWN_PERMISSION' } })
    expect(batch.body.results[2].allowed).toBe(true)
    const listed = await s.as(carol).post('/v1/list-resources', { permission: 'app.delete', type: 'app' })
    expect(listed.body.ids).toEqual([...apps].sort())
    const who = await s
      .as(carol)
      .post('/v1/list-principals', { permission: 'app.read', resource: { type: 'app', id: apps[1] } })
    expect(who.body.users).toEqual([carol])

    // A batch-level subject: the default of every check without one of its own.
    const dave = await s.user('Dave')
    const item = (id: string) => ({ permission: 'app.delete', resource: { type: 'app', id } })
    const asked = await s.platform.post('/v1/check/batch', {
      subject: { type: 'user', id: carol },
      checks: [item(apps[0]), { ...item(apps[1]), subject: { type: 'user', id: dave } }],
    })
    expect(asked.body.results).toEqual([
      { allowed: true, reason: 'role' },
      { allowed: false, reason: 'no_grant' }, // Dave's own answer, not Carol's
    ])
    // It is someone else's access all the same: Dave may not ask about Carol, check by check.
    const prying = await s.as(dave).post('/v1/check/batch', {
      subject: { type: 'user', id: carol },
      checks: [item(apps[0]), { ...item(apps[0]), subject: { type: 'user', id: dave } }],
    })
    expect(prying.status).toBe(200)
    expect(prying.body.results).toEqual([
      { allowed: false, reason: 'error', error: { code: 'FORBIDDEN', detail: expect.any(String) } },
      { allowed: false, reason: 'no_grant' },
    ])
  })

  it('answers USER_NOT_FOUND for a member or a binding given an id no user has (the engine answers, no read)', async () => {
    const alice = await s.user('Alice')
    const org = (await s.as(alice).post('/v1/orgs', { name: 'Nobody' })).body.id
    const app = (await s.as(alice).post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'A' })).body.id
    const nobody = crypto.randomUUID()
    const added = await s.platform.post(`/v1/orgs/${org}/members`, { userId: nobody, roles: ['org_member'] })
    expect([added.status, added.body.code]).toEqual([404, 'USER_NOT_FOUND'])
    const bound = await s.as(alice).post(`/v1/orgs/${org}/bindings`, {
      principal: { type: 'user', id: nobody },
      role: 'app_reader',
      resourceId: app,
    })
    expect([bound.status, bound.body.code]).toEqual([404, 'USER_NOT_FOUND'])
    // A user made a moment ago is there: the write caught the engine up inside the org's lock.
    const bob = await s.user('Bob')
    expect(
      (await s.platform.post(`/v1/orgs/${org}/members`, { userId: bob, roles: ['org_member'] })).status,
    ).toBe(201)
  })

  it('answers ALREADY_MEMBER for a member added again, and adds one who left (the engine answers, no read)', async () => {
    const alice = await s.user('Alice')
    const org = (await s.as(alice).post('/v1/orgs', { name: 'Twice' })).body.id
    const bob = await s.user('Bob')
    const add = () => s.platform.post(`/v1/orgs/${org}/members`, { userId: bob, roles: ['org_member'] })
    expect((await add()).status).toBe(201)
    const again = await add()
    expect([again.status, again.body.code]).toEqual([409, 'ALREADY_MEMBER'])
    const creator = await s.platform.post(`/v1/orgs/${org}/members`, { userId: alice })
    expect([creator.status, creator.body.code]).toEqual([409, 'ALREADY_MEMBER'])
    expect((await s.as(alice).delete(`/v1/orgs/${org}/members/${bob}`)).status).toBe(200)
    expect((await add()).status).toBe(201)
    const added = (await s.as(alice).get(`/v1/orgs/${org}/audit-logs?action=member.added`)).body.items
    expect(added.filter((e: { target: { id: string } }) => e.target.id === bob)).toHaveLength(2)
  })
})
