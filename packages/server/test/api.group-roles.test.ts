import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { runMigration0013, writeOldCopy } from './support/old-style.ts'
import { raceRounds } from './support/races.ts'

/**
 * Issue 19.2, one source of truth per role: a group's organization role is a binding that grants (seed
 * 001); seed 003's Owners team is ownership and seed 002's ADMIN group is the ADMIN role — never a second
 * fact beside them; nobody creates or edits a group holding a role above their own.
 */
const allowed = async (s: TestServer, userId: string, permission: string, org: string) =>
  (await s.as(userId).post('/v1/check', { permission, resource: { org } })).body.allowed as boolean

describe.each(DATABASES)("a group's organization role is its binding (capgo, %s)", (database) => {
  const { s, w } = useCapgoServer(database)
  const org = () => `/v1/orgs/${w.orgId}`

  it('grants what the group view says, and changes it in place', async () => {
    const admin = s.as(w.users.admin)
    const made = await admin.post(`${org()}/groups`, { name: 'Finance', role: 'org_member' })
    expect([made.status, made.body.role]).toEqual([201, 'org_member'])
    const id = made.body.id as string
    const newcomer = await s.user('Newcomer')
    // A binding on an app only (external): the group's org role is what makes them read the org.
    await s.platform.post(`${org()}/bindings`, {
      principal: { type: 'user', id: newcomer },
      role: 'app_reader',
      resourceId: w.appId,
    })
    await s.platform.post(`${org()}/members`, { userId: newcomer, roles: ['org_member'] })
    await admin.put(`${org()}/groups/${id}/members/${newcomer}`, {})
    const bound = (await admin.get(`${org()}/bindings?groupId=${id}`)).body.items
    expect(bound.map((b: { role: string; scope: { type: string } }) => [b.role, b.scope.type])).toEqual([
      ['org_member', 'org'],
    ])
    // The creator makes it Billing Manager: the same binding, and its members can read billing at once.
    const changed = await s.as(w.users.creator).patch(`${org()}/groups/${id}`, { role: 'org_billing_admin' })
    expect([changed.status, changed.body.role]).toEqual([200, 'org_billing_admin'])
    const after = (await admin.get(`${org()}/bindings?groupId=${id}`)).body.items
    expect(after.map((b: { id: string; role: string }) => [b.id, b.role])).toEqual([
      [bound[0].id, 'org_billing_admin'],
    ])
    expect(await allowed(s, newcomer, 'org.read_billing', w.orgId)).toBe(true)
    expect(
      (await admin.get(`${org()}/groups`)).body.items.find((g: { id: string }) => g.id === id).role,
    ).toBe('org_billing_admin')
    // The members list names the role the group gives.
    const listed = (await admin.get(`${org()}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === newcomer,
    )
    expect(listed.roles).toEqual(expect.arrayContaining(['org_billing_admin', 'org_member']))
    // None: the binding goes, and what it gave with it.
    const none = await s.as(w.users.creator).patch(`${org()}/groups/${id}`, { role: null })
    expect([none.status, none.body.role]).toEqual([200, null])
    expect((await admin.get(`${org()}/bindings?groupId=${id}`)).body.items).toEqual([])
    expect(await allowed(s, newcomer, 'org.read_billing', w.orgId)).toBe(false)
    // An app role is not an organization role.
    const wrong = await admin.post(`${org()}/groups`, { name: 'Wrong', role: 'app_admin' })
    expect([wrong.status, wrong.body.code]).toEqual([400, 'ROLE_SCOPE_MISMATCH'])
  })

  it('lets nobody create or edit a group holding a role above their own', async () => {
    const admin = s.as(w.users.admin)
    const above = await admin.post(`${org()}/groups`, { name: 'Bosses', role: 'org_super_admin' })
    expect([above.status, above.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    expect(
      (await admin.get(`${org()}/groups`)).body.items.some((g: { name: string }) => g.name === 'Bosses'),
    ).toBe(false)
    const bosses = (
      await s.as(w.users.creator).post(`${org()}/groups`, { name: 'Bosses', role: 'org_super_admin' })
    ).body.id as string
    for (const reply of [
      await admin.patch(`${org()}/groups/${bosses}`, { description: 'renamed by an admin' }),
      await admin.patch(`${org()}/groups/${bosses}`, { role: 'org_member' }),
      await admin.delete(`${org()}/groups/${bosses}`),
    ])
      expect([reply.status, reply.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    // An admin's own level is theirs to give and edit.
    const peers = await admin.post(`${org()}/groups`, { name: 'Peers', role: 'org_admin' })
    expect(peers.status).toBe(201)
    expect((await admin.patch(`${org()}/groups/${peers.body.id}`, { description: 'ok' })).status).toBe(200)
  })

  it('counts an owner role held through a group as ownership: the last one stays', async () => {
    const creator = await s.user('Founder')
    const orgId = (await s.as(creator).post('/v1/orgs', { name: 'Through groups' })).body.id as string
    const heir = await s.user('Heir')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: heir, roles: ['org_member'] })
    const board = (
      await s.as(creator).post(`/v1/orgs/${orgId}/groups`, { name: 'Board', role: 'org_super_admin' })
    ).body.id as string
    await s.as(creator).put(`/v1/orgs/${orgId}/groups/${board}/members/${heir}`, {})
    // The heir owns through the board: the creator may step down to Admin.
    const own = (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${creator}`)).body.items[0]
    expect(
      (await s.as(creator).patch(`/v1/orgs/${orgId}/bindings/${own.id}`, { role: 'org_admin' })).status,
    ).toBe(200)
    // Now the board's role is the last ownership: it can't be changed, dropped or emptied away.
    const boardRole = (await s.platform.get(`/v1/orgs/${orgId}/bindings?groupId=${board}`)).body.items[0]
    for (const reply of [
      await s.as(heir).patch(`/v1/orgs/${orgId}/bindings/${boardRole.id}`, { role: 'org_admin' }),
      await s.as(heir).delete(`/v1/orgs/${orgId}/bindings/${boardRole.id}`),
      await s.as(heir).patch(`/v1/orgs/${orgId}/groups/${board}`, { role: null }),
      await s.as(heir).delete(`/v1/orgs/${orgId}/groups/${board}/members/${heir}`),
      await s.as(heir).delete(`/v1/orgs/${orgId}/groups/${board}`),
    ])
      expect([reply.status, reply.body.code]).toEqual([409, 'LAST_OWNER'])
    expect(await allowed(s, heir, 'org.delete', orgId)).toBe(true)
  })
})

describe.each(DATABASES)('the Owners team is ownership (teams preset, %s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database, { model: presets.teams! })
  }, 60_000)
  afterAll(() => s?.stop())

  async function copia() {
    const creator = await s.user('Owner')
    const orgId = (await s.as(creator).post('/v1/orgs', { name: 'Copia' })).body.id as string
    const groups = (await s.as(creator).get(`/v1/orgs/${orgId}/groups`)).body.items as {
      id: string
      name: string
    }[]
    const owners = groups.find((g) => g.name === 'Owners')!.id
    const second = await s.user('Second')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: second, roles: ['member'] })
    return { creator, orgId, owners, second }
  }
  const ownersTeam = async (orgId: string, owners: string) =>
    ((await s.platform.get(`/v1/orgs/${orgId}/groups/${owners}`)).body.members as { userId: string }[]).map(
      (m) => m.userId,
    )

  it('makes owners by the Owners team only, lists them as owners, and leaving it ends ownership', async () => {
    const { creator, orgId, owners, second } = await copia()
    // The creator owns by being in Owners: their own binding is only the member role they keep on leaving it.
    const ownRoles = async (u: string) =>
      (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${u}`)).body.items.map(
        (b: { role: string }) => b.role,
      )
    expect(await ownRoles(creator)).toEqual(['member'])
    const list = async () =>
      (await s.as(creator).get(`/v1/orgs/${orgId}/members`)).body.items as {
        userId: string
        roles: string[]
      }[]
    expect((await list()).find((m) => m.userId === creator)!.roles).toContain('owner')
    // Making someone an owner puts them in Owners.
    const promoted = await s.as(creator).patch(`/v1/orgs/${orgId}/members/${second}`, { roles: ['owner'] })
    expect(promoted.status).toBe(200)
    expect((await ownersTeam(orgId, owners)).sort()).toEqual([creator, second].sort())
    expect(await ownRoles(second)).toEqual(['member'])
    expect((await list()).find((m) => m.userId === second)!.roles).toEqual(['owner', 'member'])
    // Nobody holds ownership beside the team: not by a binding of their own, nor by another team.
    const direct = await s.as(creator).post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: second },
      role: 'owner',
    })
    expect([direct.status, direct.body.code]).toEqual([409, 'BUILT_IN_GROUP'])
    const ownersRole = (await s.platform.get(`/v1/orgs/${orgId}/bindings?groupId=${owners}`)).body.items[0]
    expect((await s.as(creator).delete(`/v1/orgs/${orgId}/bindings/${ownersRole.id}`)).body.code).toBe(
      'BUILT_IN_GROUP',
    )
    expect(
      (await s.as(creator).patch(`/v1/orgs/${orgId}/bindings/${ownersRole.id}`, { role: 'member' })).body
        .code,
    ).toBe('BUILT_IN_GROUP')
    // Another owner can't take the creator out of Owners; the creator may leave it while another owner stays.
    const ousted = await s.as(second).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${creator}`)
    expect([ousted.status, ousted.body.code]).toEqual([403, 'CREATOR_ROLE_LOCKED'])
    expect((await s.as(creator).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${creator}`)).status).toBe(
      200,
    )
    expect(await allowed(s, creator, 'org.delete', orgId)).toBe(false)
    expect((await list()).find((m) => m.userId === creator)!.roles).toEqual(['member'])
    // The last owner stays.
    const last = await s.as(second).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${second}`)
    expect([last.status, last.body.code]).toEqual([409, 'LAST_OWNER'])
    const demoted = await s.as(second).patch(`/v1/orgs/${orgId}/members/${second}`, { roles: ['member'] })
    expect([demoted.status, demoted.body.code]).toEqual([409, 'LAST_OWNER'])
  })

  it('folds an owner copy left by orgs made before (migration 0013): leaving Owners leaves no ownership behind', async () => {
    const { creator, orgId, owners, second } = await copia()
    // Before issue 19.2 the creator also held "owner" as a binding of their own, beside the Owners team.
    await writeOldCopy(s, orgId, creator, 'owner')
    await runMigration0013(s)
    await s.as(creator).put(`/v1/orgs/${orgId}/groups/${owners}/members/${second}`, {})
    expect((await s.as(creator).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${creator}`)).status).toBe(
      200,
    )
    const own = (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${creator}`)).body.items
    expect(own.map((b: { role: string }) => b.role)).toEqual(['member'])
    expect(await allowed(s, creator, 'org.delete', orgId)).toBe(false)
  })

  it('hands ownership over by the Owners team on a transfer', async () => {
    const { creator, orgId, owners, second } = await copia()
    expect((await s.as(creator).post(`/v1/orgs/${orgId}/transfer`, { userId: second })).status).toBe(200)
    expect((await ownersTeam(orgId, owners)).sort()).toEqual([creator, second].sort())
    expect(
      (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${second}`)).body.items.map(
        (b: { role: string }) => b.role,
      ),
    ).toEqual(['member'])
    // The new creator's ownership is theirs: the old one can't take them out of Owners.
    const ousted = await s.as(creator).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${second}`)
    expect(ousted.body.code).toBe('CREATOR_ROLE_LOCKED')
  })

  it('lets exactly one of the last two owners leave the Owners team when both try at once', async () => {
    for (let round = 0; round < raceRounds(database, 6); round++) {
      const { creator, orgId, owners, second } = await copia()
      await s.as(creator).put(`/v1/orgs/${orgId}/groups/${owners}/members/${second}`, {})
      const replies = await Promise.all([
        s.as(creator).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${creator}`),
        s.as(second).delete(`/v1/orgs/${orgId}/groups/${owners}/members/${second}`),
      ])
      expect(replies.map((r) => r.status).sort(), `round ${round}`).toEqual([200, 409])
      expect(replies.find((r) => r.status === 409)!.body.code).toBe('LAST_OWNER')
      expect(await ownersTeam(orgId, owners)).toHaveLength(1)
    }
  }, 120_000)
})

describe.each(DATABASES)('the ADMIN group is the ADMIN role (projects preset, %s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database, { model: presets.projects! })
  }, 60_000)
  afterAll(() => s?.stop())

  it('gives and takes ADMIN by membership of the ADMIN group, and by nothing else', async () => {
    const admin = await s.user('Admin')
    const orgId = (await s.as(admin).post('/v1/orgs', { name: 'APImetrics' })).body.id as string
    const groups = (await s.as(admin).get(`/v1/orgs/${orgId}/groups`)).body.items as {
      id: string
      name: string
      role: string | null
    }[]
    const adminGroup = groups.find((g) => g.name === 'ADMIN')!
    // The built-in groups show the role they are.
    expect(groups.map((g) => [g.name, g.role]).sort()).toEqual([
      ['ADMIN', 'org_admin'],
      ['DEFAULT', 'org_member'],
    ])
    const ann = await s.user('Ann')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: ann, roles: ['org_member'] })
    expect(await allowed(s, ann, 'org.update_settings', orgId)).toBe(false)
    // "You may assign each account multiple Roles": ADMIN is the ADMIN group.
    expect(
      (await s.as(admin).patch(`/v1/orgs/${orgId}/members/${ann}`, { roles: ['org_admin'] })).status,
    ).toBe(200)
    const inAdmin = (await s.as(admin).get(`/v1/orgs/${orgId}/groups/${adminGroup.id}`)).body.members.map(
      (m: { userId: string }) => m.userId,
    )
    expect(inAdmin.sort()).toEqual([admin, ann].sort())
    expect(await allowed(s, ann, 'org.update_settings', orgId)).toBe(true)
    expect((await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${ann}`)).body.items).toEqual([])
    const listed = (await s.as(admin).get(`/v1/orgs/${orgId}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === ann,
    )
    expect(listed.roles).toEqual(['org_admin', 'org_member'])
    // Out of the ADMIN group, out of the ADMIN role.
    expect(
      (await s.as(admin).delete(`/v1/orgs/${orgId}/groups/${adminGroup.id}/members/${ann}`)).status,
    ).toBe(200)
    expect(await allowed(s, ann, 'org.update_settings', orgId)).toBe(false)
    // Another role (group) can't hold ADMIN beside it, and ADMIN stays ADMIN.
    const qa = await s.as(admin).post(`/v1/orgs/${orgId}/groups`, { name: 'QA', role: 'org_admin' })
    expect([qa.status, qa.body.code]).toEqual([409, 'BUILT_IN_GROUP'])
    const renamed = await s
      .as(admin)
      .patch(`/v1/orgs/${orgId}/groups/${adminGroup.id}`, { role: 'org_member' })
    expect([renamed.status, renamed.body.code]).toEqual([409, 'BUILT_IN_GROUP'])
  })
})
