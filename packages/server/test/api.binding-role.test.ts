import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { client, DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { raceRounds } from './support/races.ts'

/**
 * Issue 19.3: `PATCH /v1/orgs/{orgId}/bindings/{id}` changes a role in place (seed 001's wrench on the
 * Access tab) in one write, under every rule a revoke and a grant meet, never leaving two roles or none.
 */
describe.each(DATABASES)('changing a binding role in place (%s)', (database) => {
  const { s, w } = useCapgoServer(database)

  const org = () => `/v1/orgs/${w.orgId}`
  const grant = async (userId: string, role: string, resourceId?: string) => {
    const reply = await s.platform.post(`${org()}/bindings`, {
      principal: { type: 'user', id: userId },
      role,
      ...(resourceId && { resourceId }),
    })
    expect(reply.status).toBe(201)
    return reply.body.id as string
  }
  const rolesOn = async (userId: string, resourceId?: string) =>
    (
      await s.platform.get(
        `${org()}/bindings?userId=${userId}${resourceId ? `&resourceId=${resourceId}` : ''}`,
      )
    ).body.items as { id: string; role: string; scope: { type: string } }[]
  const allowed = async (userId: string, permission: string) =>
    (await s.as(userId).post('/v1/check', { permission, resource: { type: 'app', id: w.appId } })).body
      .allowed as boolean

  it("an app admin changes someone's app role on the Access tab: same binding, new role, one audit entry", async () => {
    const dev = await s.user('Dev')
    const id = await grant(dev, 'app_reader', w.appId)
    expect(await allowed(dev, 'app.upload_bundle')).toBe(false)
    const reply = await s.as(w.users.appAdmin).patch(`${org()}/bindings/${id}`, { role: 'app_developer' })
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({ id, role: 'app_developer', scope: { type: 'app', id: w.appId } })
    expect(reply.body.revision).toBeGreaterThan(0)
    expect((await rolesOn(dev, w.appId)).map((b) => [b.id, b.role])).toEqual([[id, 'app_developer']])
    expect(await allowed(dev, 'app.upload_bundle')).toBe(true)
    const audit = (await s.platform.get(`${org()}/audit-logs?action=binding.*&limit=100`)).body.items as {
      action: string
      target: { id: string }
      before: { role: string }
      after: { role: string }
    }[]
    const entries = audit.filter((e) => e.target.id === id)
    expect(entries.map((e) => e.action)).toEqual(['binding.updated', 'binding.created'])
    expect([entries[0]!.before.role, entries[0]!.after.role]).toEqual(['app_reader', 'app_developer'])
  })

  it('works with an API key acting for its owner, and never beyond its owner', async () => {
    const dev = await s.user('KeyDev')
    const id = await grant(dev, 'app_reader', w.appId)
    const made = await s.as(w.users.appAdmin).post('/v1/me/api-keys', { name: 'access' })
    expect(made.status).toBe(201)
    const key = client(s.url, made.body.secret)
    expect((await key.patch(`${org()}/bindings/${id}`, { role: 'app_uploader' })).status).toBe(200)
    expect((await rolesOn(dev, w.appId))[0]!.role).toBe('app_uploader')
    // An App Admin's key can't reach an org role.
    const member = (await rolesOn(w.users.member))[0]!
    expect((await key.patch(`${org()}/bindings/${member.id}`, { role: 'org_admin' })).status).toBe(403)
  })

  it('refuses what a revoke or a grant would refuse, and changes nothing', async () => {
    const reader = await s.user('Reader')
    const id = await grant(reader, 'app_reader', w.appId)
    const tryAs = (userId: string, bindingId: string, role: string) =>
      s.as(userId).patch(`${org()}/bindings/${bindingId}`, { role })
    // Scope: an org role doesn't bind on an app; an unknown role is no role.
    expect((await tryAs(w.users.appAdmin, id, 'org_admin')).body.code).toBe('ROLE_SCOPE_MISMATCH')
    expect((await tryAs(w.users.appAdmin, id, 'nope')).body.code).toBe('UNKNOWN_ROLE')
    // Who may manage the app's access at all.
    expect((await tryAs(w.users.appDeveloper, id, 'app_uploader')).status).toBe(403)
    expect((await tryAs(w.users.outsider, id, 'app_uploader')).status).toBe(404)
    // Rank and owners: an Admin can't make anyone a Super Admin, nor take it away.
    const member = (await rolesOn(w.users.member))[0]!
    const up = await tryAs(w.users.admin, member.id, 'org_super_admin')
    expect([up.status, up.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    const second = await s.user('Second')
    await s.platform.post(`${org()}/members`, { userId: second, roles: ['org_super_admin'] })
    const secondRole = (await rolesOn(second))[0]!
    expect((await tryAs(w.users.admin, secondRole.id, 'org_member')).body.code).toBe('OWNER_REQUIRED')
    // The creator's role is not another's to change, owner or not.
    const creatorRole = (await rolesOn(w.users.creator))[0]!
    expect((await tryAs(second, creatorRole.id, 'org_admin')).body.code).toBe('CREATOR_ROLE_LOCKED')
    // A billing manager changing their own role to Admin would be escalation (no org.update_user_roles).
    const billing = (await rolesOn(w.users.billing))[0]!
    expect((await tryAs(w.users.billing, billing.id, 'org_admin')).status).toBe(403)
    // Someone else's binding id, through this org: not found.
    const elsewhere = await s.user('Elsewhere')
    const otherOrg = (await s.as(elsewhere).post('/v1/orgs', { name: 'Other' })).body.id as string
    const foreign = (await s.platform.get(`/v1/orgs/${otherOrg}/bindings?userId=${elsewhere}`)).body.items[0]
    expect((await tryAs(w.users.creator, foreign.id, 'org_admin')).body.code).toBe('BINDING_NOT_FOUND')
    // Nothing moved.
    expect((await rolesOn(reader, w.appId))[0]!.role).toBe('app_reader')
    expect((await rolesOn(w.users.member))[0]!.role).toBe('org_member')
    expect((await rolesOn(second))[0]!.role).toBe('org_super_admin')
    expect((await rolesOn(w.users.creator))[0]!.role).toBe('org_super_admin')
    expect(
      (await s.platform.get(`/v1/orgs/${otherOrg}/bindings?userId=${elsewhere}`)).body.items[0].role,
    ).toBe(foreign.role)
  })

  it('keeps the last owner: the creator alone can step down only once another owner exists', async () => {
    const creator = await s.user('Solo')
    const orgId = (await s.as(creator).post('/v1/orgs', { name: 'Solo' })).body.id as string
    const own = (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${creator}`)).body.items[0]
    const refused = await s.as(creator).patch(`/v1/orgs/${orgId}/bindings/${own.id}`, { role: 'org_admin' })
    expect([refused.status, refused.body.code]).toEqual([409, 'LAST_OWNER'])
    const heir = await s.user('Heir')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: heir, roles: ['org_super_admin'] })
    const stepped = await s.as(creator).patch(`/v1/orgs/${orgId}/bindings/${own.id}`, { role: 'org_admin' })
    expect([stepped.status, stepped.body.role]).toEqual([200, 'org_admin'])
  })

  it('lets exactly one of the last two owners step down when both try at once', async () => {
    for (let round = 0; round < raceRounds(database, 8); round++) {
      const creator = await s.user('Creator')
      const orgId = (await s.as(creator).post('/v1/orgs', { name: 'Race' })).body.id as string
      const [x, y] = [await s.user('X'), await s.user('Y')]
      for (const id of [x, y])
        await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: id, roles: ['org_super_admin'] })
      const bindingOf = async (u: string) =>
        (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${u}`)).body.items[0].id as string
      const mine = await bindingOf(creator)
      expect(
        (await s.as(creator).patch(`/v1/orgs/${orgId}/bindings/${mine}`, { role: 'org_admin' })).status,
      ).toBe(200)
      const [bx, by] = [await bindingOf(x), await bindingOf(y)]
      const replies = await Promise.all([
        s.as(x).patch(`/v1/orgs/${orgId}/bindings/${bx}`, { role: 'org_member' }),
        s.as(y).patch(`/v1/orgs/${orgId}/bindings/${by}`, { role: 'org_member' }),
      ])
      expect(replies.map((r) => r.status).sort(), `round ${round}`).toEqual([200, 409])
      expect(replies.find((r) => r.status === 409)!.body.code).toBe('LAST_OWNER')
      const roles = (await s.platform.get(`/v1/orgs/${orgId}/bindings`)).body.items.map(
        (b: { role: string }) => b.role,
      )
      expect(roles.filter((r: string) => r === 'org_super_admin')).toHaveLength(1)
    }
  }, 120_000)
})

describe.each(DATABASES)('changing a team binding in place (teams preset, %s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database, { model: presets.teams! })
  }, 60_000)
  afterAll(() => s?.stop())

  it("keeps one binding per role, and the org's rule on who gives teams access", async () => {
    const owner = await s.user('Owner')
    const orgId = (await s.as(owner).post('/v1/orgs', { name: 'Copia' })).body.id as string
    const repo = (await s.as(owner).post(`/v1/orgs/${orgId}/resources`, { type: 'repository', name: 'fw' }))
      .body.id as string
    const maintainer = await s.user('Maintainer')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: maintainer, roles: ['member'] })
    await s.as(owner).post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: maintainer },
      role: 'repo_admin',
      resourceId: repo,
    })
    const team = (await s.as(owner).post(`/v1/orgs/${orgId}/groups`, { name: 'QA', role: 'read' })).body
      .id as string
    const bind = async (role: string) =>
      (
        await s.as(owner).post(`/v1/orgs/${orgId}/bindings`, {
          principal: { type: 'group', id: team },
          role,
          resourceId: repo,
        })
      ).body.id as string
    const [asTeam, asRead] = [await bind('team'), await bind('repo_read')]
    // The team already holds its per-member binding there: changing the other into it would make two.
    const twice = await s.as(owner).patch(`/v1/orgs/${orgId}/bindings/${asRead}`, { role: 'team' })
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_EXISTS'])
    // Repository admins change team access only when the org lets them (seed 003's Permissions setting).
    const off = await s.as(maintainer).patch(`/v1/orgs/${orgId}/bindings/${asRead}`, { role: 'repo_write' })
    expect([off.status, off.body.details.setting]).toEqual([403, 'resourceAdminsGrantTeamAccess'])
    await s.as(owner).patch(`/v1/orgs/${orgId}`, { resourceAdminsGrantTeamAccess: true })
    const on = await s.as(maintainer).patch(`/v1/orgs/${orgId}/bindings/${asRead}`, { role: 'repo_write' })
    expect([on.status, on.body.role]).toEqual([200, 'repo_write'])
    // A user can't hold the per-member team role.
    const user = (await s.platform.get(`/v1/orgs/${orgId}/bindings?userId=${maintainer}&resourceId=${repo}`))
      .body.items[0].id
    expect((await s.as(owner).patch(`/v1/orgs/${orgId}/bindings/${user}`, { role: 'team' })).status).toBe(400)
    expect(asTeam).toBeTruthy()
  })
})
