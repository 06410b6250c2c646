import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Issue 26.1: what a delete or a transfer takes with it, counted before it happens, and an app moving to
 * another org (authorized at both ends, leaving its grants behind, audited in both) or a channel to
 * another app.
 */
describe.each(DATABASES)('impact and transfer of apps, channels and orgs (%s)', (database) => {
  let s: TestServer
  let a: CapgoWorld
  let otherOrgId: string
  let adminsOrgId: string

  beforeAll(async () => {
    s = await startTestServer(database)
    a = await capgoWorld(s)
    const creator = s.as(a.users.creator)
    otherOrgId = (await creator.post('/v1/orgs', { name: 'Globex' })).body.id
    adminsOrgId = (await s.as(a.users.admin).post('/v1/orgs', { name: "Admin's own" })).body.id
    await s.platform.put(`/v1/orgs/${a.orgId}/resources/${a.stagingId}/overrides`, {
      principal: { type: 'user', id: a.users.member },
      permission: 'channel.read',
      effect: 'deny',
    })
    const invited = await s.platform.post(`/v1/orgs/${a.orgId}/invitations`, {
      email: 'later@example.com',
      role: 'app_reader',
      resourceId: a.appId,
    })
    expect(invited.status).toBe(201)
  })
  afterAll(() => s?.stop())

  const canRead = async (userId: string, appId: string) =>
    (
      await s.platform.post('/v1/check', {
        subject: { type: 'user', id: userId },
        permission: 'app.read',
        resource: { type: 'app', id: appId },
      })
    ).body.allowed as boolean

  it('counts what deleting or moving an app takes with it, for those who may do it', async () => {
    const A = `/v1/orgs/${a.orgId}/resources/${a.appId}`
    const onDelete = await s.as(a.users.creator).get(`${A}/impact`)
    expect(onDelete.status).toBe(200)
    // The creator, the admin and the member read every app (the billing admin none); four externals hold
    // app roles on it.
    expect(onDelete.body).toMatchObject({
      below: [{ type: 'channel', count: 2 }],
      people: 7,
      peopleLosingAccess: 7,
      apiKeysLosingAccess: 0,
      roleGrants: 4,
      overrides: 1,
      invitations: 1,
    })
    const onMove = await s.as(a.users.creator).get(`${A}/impact?toOrgId=${otherOrgId}`)
    // Only the creator also reads apps in Globex.
    expect(onMove.body).toMatchObject({ people: 7, peopleLosingAccess: 6, roleGrants: 4 })
    expect((await s.as(a.users.appReader).get(`${A}/impact`)).status).toBe(403)
    expect((await s.as(a.users.creator).get(`${A}/impact?toOrgId=${adminsOrgId}`)).status).toBe(404)

    const org = await s.as(a.users.creator).get(`/v1/orgs/${a.orgId}/impact`)
    expect(org.body).toMatchObject({
      org: { id: a.orgId, name: 'Acme' },
      members: 4,
      externals: 4,
      resources: [
        { type: 'app', count: 1 },
        { type: 'channel', count: 2 },
      ],
      subOrgs: 0,
      invitations: 1,
    })
    expect((await s.as(a.users.member).get(`/v1/orgs/${a.orgId}/impact`)).status).toBe(403)
  })

  it('moves an app only for who may transfer it here and create one there', async () => {
    const path = `/v1/orgs/${a.orgId}/resources/${a.appId}/transfer`
    // The org admin may not transfer apps (capgo: app.transfer is the super admin's).
    expect((await s.as(a.users.admin).post(path, { toOrgId: adminsOrgId })).body.code).toBe('FORBIDDEN')
    // The creator doesn't belong to the admin's org: it doesn't exist for them.
    expect((await s.as(a.users.creator).post(path, { toOrgId: adminsOrgId })).status).toBe(404)
    expect((await s.as(a.users.creator).post(path, { toOrgId: a.orgId })).body.code).toBe('VALIDATION_FAILED')
    const withParent = await s.as(a.users.creator).post(path, { toOrgId: otherOrgId, parentId: a.appId })
    expect(withParent.body.code).toBe('VALIDATION_FAILED')
    expect((await s.platform.get(`/v1/orgs/${a.orgId}/resources/${a.appId}`)).status).toBe(200)
  })

  it('moves an app with its channels to another org, leaving its grants behind, audited in both', async () => {
    expect(await canRead(a.users.appAdmin, a.appId)).toBe(true)
    const moved = await s.as(a.users.creator).post(`/v1/orgs/${a.orgId}/resources/${a.appId}/transfer`, {
      toOrgId: otherOrgId,
    })
    expect(moved.status).toBe(200)
    expect(moved.body).toMatchObject({ id: a.appId, orgId: otherOrgId, parentId: null, name: 'Shop' })

    expect((await s.platform.get(`/v1/orgs/${a.orgId}/resources/${a.appId}`)).status).toBe(404)
    const there = await s.platform.get(`/v1/orgs/${otherOrgId}/resources`)
    expect(there.body.items.map((r: { id: string }) => r.id).sort()).toEqual(
      [a.appId, a.stagingId, a.productionId].sort(),
    )
    expect(await canRead(a.users.creator, a.appId)).toBe(true)
    for (const u of [a.users.appAdmin, a.users.admin, a.users.member])
      expect(await canRead(u, a.appId)).toBe(false)
    expect((await s.platform.get(`/v1/orgs/${a.orgId}/bindings`)).body.items).toHaveLength(
      // What is left in Acme: its four members' org roles.
      4,
    )
    expect(
      (await s.platform.get(`/v1/orgs/${otherOrgId}/resources/${a.stagingId}/overrides`)).body.items,
    ).toEqual([])
    const open = (await s.platform.get(`/v1/orgs/${a.orgId}/invitations`)).body.items
    expect(open).toEqual([])

    for (const orgId of [a.orgId, otherOrgId]) {
      const audit = await s.platform.get(`/v1/orgs/${orgId}/audit-logs?action=resource.transferred`)
      expect(audit.body.items).toHaveLength(1)
      expect(audit.body.items[0]).toMatchObject({
        target: { type: 'app', id: a.appId },
        before: { orgId: a.orgId },
        after: { orgId: otherOrgId, moved: 3, removed: { roleGrants: 4, overrides: 1, invitations: 1 } },
      })
    }
  })

  it('moves a channel to another app of the org, keeping its grants', async () => {
    const creator = s.as(a.users.creator)
    const second = (await creator.post(`/v1/orgs/${otherOrgId}/resources`, { type: 'app', name: 'Kiosk' }))
      .body
    const base = `/v1/orgs/${otherOrgId}/resources/${a.stagingId}/transfer`
    expect((await creator.post(base, { toOrgId: otherOrgId })).body.code).toBe('VALIDATION_FAILED')
    expect((await creator.post(base, { toOrgId: otherOrgId, parentId: a.appId })).body.code).toBe(
      'VALIDATION_FAILED',
    )
    const moved = await creator.post(base, { toOrgId: otherOrgId, parentId: second.id })
    expect(moved.status).toBe(200)
    expect(moved.body).toMatchObject({ orgId: otherOrgId, parentId: second.id })
    const children = await s.platform.get(`/v1/orgs/${otherOrgId}/resources?parentId=${second.id}`)
    expect(children.body.items.map((r: { name: string }) => r.name)).toEqual(['staging'])
  })
})
