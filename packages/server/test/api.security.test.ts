import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { startTestServer, type TestServer } from './support/harness.ts'

/**
 * Regressions for the holes a security review found (each test failed before its fix). The review's
 * repro sequences, run as written.
 */
describe('escalation through groups, invitations, transfer and API keys (capgo)', () => {
  let s: TestServer
  let w: CapgoWorld
  beforeAll(async () => {
    s = await startTestServer('pglite')
    w = await capgoWorld(s)
  })
  afterAll(() => s?.stop())

  const org = () => `/v1/orgs/${w.orgId}`
  const can = async (userId: string, permission: string) =>
    (await s.as(userId).post('/v1/check', { permission, resource: { org: w.orgId } })).body.allowed as boolean

  it('refuses "team" bindings where the model has no team levels (an admin made itself super admin that way)', async () => {
    const admin = s.as(w.users.admin)
    const g = await admin.post(`${org()}/groups`, { name: 'sneaky' })
    await admin.put(`${org()}/groups/${g.body.id}/members/${w.users.admin}`, {
      memberRole: 'org_super_admin',
    })
    const bound = await admin.post(`${org()}/bindings`, {
      principal: { type: 'group', id: g.body.id },
      role: 'team',
    })
    expect(bound.status).toBe(400)
    expect(await can(w.users.admin, 'org.delete')).toBe(false)
  })

  it('lets only an owner take an owner role away by removing someone from a group, or deleting it', async () => {
    const owners = await s.platform.post(`${org()}/groups`, { name: 'Owners' })
    await s.platform.post(`${org()}/bindings`, {
      principal: { type: 'group', id: owners.body.id },
      role: 'org_super_admin',
    })
    await s.platform.put(`${org()}/groups/${owners.body.id}/members/${w.users.member}`, {})
    expect(await can(w.users.member, 'org.delete')).toBe(true)
    const removed = await s
      .as(w.users.admin)
      .delete(`${org()}/groups/${owners.body.id}/members/${w.users.member}`)
    expect([removed.status, removed.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    const deleted = await s.as(w.users.admin).delete(`${org()}/groups/${owners.body.id}`)
    expect([deleted.status, deleted.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    expect(await can(w.users.member, 'org.delete')).toBe(true)
    expect(
      (await s.as(w.users.creator).delete(`${org()}/groups/${owners.body.id}/members/${w.users.member}`))
        .status,
    ).toBe(200)
    expect(await can(w.users.member, 'org.delete')).toBe(false)
  })

  it('refuses an invitation whose inviter can no longer grant its role', async () => {
    const deputy = await s.user('Deputy')
    await s.platform.post(`${org()}/members`, { userId: deputy, roles: ['org_admin'] })
    await s.as(deputy).post(`${org()}/invitations`, {
      email: 'late-admin@example.com',
      role: 'org_admin',
      captcha: await (await import('./support/harness.ts')).solveCaptcha(s.url),
    })
    // Mail bodies are sealed at rest (issue 22.7): the link is read through the outbox.
    const token = (await s.platform.get('/v1/outbox')).body.items
      .find((m: { to: string }) => m.to === 'late-admin@example.com')
      .text.match(/oki_[\w-]+/)![0]
    await s.as(w.users.creator).delete(`${org()}/members/${deputy}`)
    const invitee = await s.platform.post('/v1/users', { email: 'late-admin@example.com', name: 'Late' })
    const accepted = await s.as(invitee.body.id).post(`/v1/invitations/${token}/accept`)
    expect([accepted.status, accepted.body.code]).toEqual([404, 'INVITATION_INVALID'])
    expect(await can(invitee.body.id, 'org.update_user_roles')).toBe(false)
  })

  it('lets only the creator transfer the organization', async () => {
    const other = await s.user('Otherowner')
    await s.platform.post(`${org()}/members`, { userId: other, roles: ['org_super_admin'] })
    const taken = await s.as(other).post(`${org()}/transfer`, { userId: other })
    expect([taken.status, taken.body.code]).toEqual([403, 'CREATOR_ROLE_LOCKED'])
    expect((await s.as(w.users.creator).get(org())).body.creatorId).toBe(w.users.creator)
  })

  it('keeps an API key inside its limits: no new orgs, no leaving, no ending sessions, only its orgs listed', async () => {
    const other = await s.as(w.users.creator).post('/v1/orgs', { name: 'Other org' })
    const key = await s
      .as(w.users.creator)
      .post('/v1/me/api-keys', { name: 'ro', orgIds: [w.orgId], role: 'org_member' })
    const asKey = (method: string, path: string, body?: unknown) =>
      fetch(s.url + path, {
        method,
        headers: {
          authorization: `Bearer ${key.body.secret}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }))
    expect((await asKey('POST', '/v1/orgs', { name: 'via key' })).status).toBe(403)
    expect((await asKey('POST', '/v1/auth/logout-all', {})).status).toBe(403)
    expect((await asKey('DELETE', `${org()}/members/${w.users.creator}`)).status).toBe(403)
    const listed = (await asKey('GET', '/v1/orgs')) as { status: number; body: { items: { id: string }[] } }
    expect(listed.body.items.map((o) => o.id)).toEqual([w.orgId])
    expect(listed.body.items.map((o) => o.id)).not.toContain(other.body.id)
  })

  it('takes a removed member’s API key access to the org away for good (SPEC 2)', async () => {
    const dev = await s.user('Keyholder')
    await s.platform.post(`${org()}/members`, { userId: dev, roles: ['org_member'] })
    const key = await s.as(dev).post('/v1/me/api-keys', { name: 'ci', orgIds: [w.orgId] })
    expect(key.status).toBe(201)
    await s.as(w.users.creator).delete(`${org()}/members/${dev}`)
    const listed = (await s.as(dev).get('/v1/me/api-keys')).body.items.find(
      (k: { id: string }) => k.id === key.body.id,
    )
    expect(listed.revokedAt).not.toBeNull()
    // Re-invited, the old key stays dead.
    await s.platform.post(`${org()}/members`, { userId: dev, roles: ['org_member'] })
    const check = await fetch(`${s.url}/v1/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.body.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ permission: 'org.read', resource: { org: w.orgId } }),
    })
    expect(check.status).toBe(401)
  })

  it('applies an org’s API key policy to keys that do not name it', async () => {
    await s.as(w.users.creator).put(`${org()}/security`, {
      requireMfa: false,
      passwordPolicy: null,
      apiKeyPolicy: { requireExpiry: true, maxDays: 1 },
    })
    const unscoped = await s.as(w.users.creator).post('/v1/me/api-keys', { name: 'everywhere' })
    expect([unscoped.status, unscoped.body.code]).toEqual([400, 'API_KEY_POLICY'])
    await s
      .as(w.users.creator)
      .put(`${org()}/security`, { requireMfa: false, passwordPolicy: null, apiKeyPolicy: null })
  })

  it('keeps an App Admin from setting overrides on someone who ranks above them (a Deny on the Super Admin)', async () => {
    const channel = `${org()}/resources/${w.productionId}/overrides`
    const deny = (userId: string) => ({
      principal: { type: 'user', id: userId },
      permission: 'channel.promote_bundle',
      effect: 'deny',
    })
    const onCreator = await s.as(w.users.appAdmin).put(channel, deny(w.users.creator))
    expect(onCreator.status).toBe(403)
    expect(onCreator.body.code).toBe('RANK_TOO_LOW')
    const resource = { type: 'channel', id: w.productionId }
    expect(
      (await s.as(w.users.creator).post('/v1/check', { permission: 'channel.promote_bundle', resource })).body
        .allowed,
    ).toBe(true)
    // Below them, and at their own rank, it is theirs to set.
    expect((await s.as(w.users.appAdmin).put(channel, deny(w.users.appDeveloper))).status).toBe(200)
    expect(
      (await s.as(w.users.appDeveloper).post('/v1/check', { permission: 'channel.promote_bundle', resource }))
        .body.allowed,
    ).toBe(false)
    // The Super Admin's own Deny stays out of the App Admin's reach, clearing included.
    expect((await s.as(w.users.creator).put(channel, deny(w.users.admin))).status).toBe(200)
    const clear = await s.as(w.users.appAdmin).put(channel, { ...deny(w.users.admin), effect: 'default' })
    expect(clear.body.code).toBe('RANK_TOO_LOW')
  })

  it('answers 400, not 500, to a non-JSON body and to an oversized cursor', async () => {
    const plain = await fetch(`${s.url}${org()}/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ name: 'x' }),
    })
    expect(plain.status).toBe(400)
    const cursor = await s.as(w.users.creator).get(`${org()}/audit-logs?cursor=999999999999999999999999999`)
    expect(cursor.status).toBe(400)
  })
})

describe('team bindings check every role they would give (teams preset)', () => {
  it('refuses a team binding when a member’s own role is above the actor', async () => {
    const s = await startTestServer('pglite', { model: presets.teams! })
    try {
      const owner = await s.user('Owner')
      const orgId = (await s.as(owner).post('/v1/orgs', { name: 'Copia' })).body.id as string
      const repo = (await s.as(owner).post(`/v1/orgs/${orgId}/resources`, { type: 'repository', name: 'r' }))
        .body.id as string
      const lead = await s.user('Lead')
      await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: lead, roles: ['member'] })
      const team = (await s.as(owner).post(`/v1/orgs/${orgId}/groups`, { name: 'T', role: 'read' })).body
        .id as string
      // A repo admin may give teams access to that repository (where the org lets them), but not hand out
      // the owner role that way.
      await s.as(owner).patch(`/v1/orgs/${orgId}`, { resourceAdminsGrantTeamAccess: true })
      await s.as(owner).post(`/v1/orgs/${orgId}/bindings`, {
        principal: { type: 'user', id: lead },
        role: 'repo_admin',
        resourceId: repo,
      })
      // Issue 19.2: ownership is the Owners team's alone, so no team level or member's own role is "owner".
      const asOwner = await s.platform.put(`/v1/orgs/${orgId}/groups/${team}/members/${lead}`, {
        memberRole: 'owner',
      })
      expect([asOwner.status, asOwner.body.code]).toEqual([400, 'VALIDATION_FAILED'])
      const teamOwner = await s.as(owner).patch(`/v1/orgs/${orgId}/groups/${team}`, { role: 'owner' })
      expect([teamOwner.status, teamOwner.body.code]).toEqual([400, 'VALIDATION_FAILED'])
      const team_ = { principal: { type: 'group', id: team }, role: 'team', resourceId: repo }
      await s.platform.put(`/v1/orgs/${orgId}/groups/${team}/members/${lead}`, { memberRole: 'write' })
      expect((await s.as(lead).post(`/v1/orgs/${orgId}/bindings`, team_)).status).toBe(201)
    } finally {
      await s.stop()
    }
  })
})

describe('removing someone from a parent org respects every sub-org (modules preset)', () => {
  it('needs an owner to take away an owner role the member holds in a sub-org', async () => {
    const s = await startTestServer('pglite', { model: presets.modules! })
    try {
      const owner = await s.user('Owner')
      const root = (await s.as(owner).post('/v1/orgs', { name: 'Root' })).body.id as string
      const sub = (await s.as(owner).post('/v1/orgs', { name: 'Sub', parentId: root })).body.id as string
      await s.as(owner).post(`/v1/orgs/${root}/roles`, {
        key: 'people_admin',
        scope: 'org',
        slot: 'base',
        label: 'People admin',
        permissions: ['org.read', 'org.read_members', 'org.update_user_roles'],
        priority: 50,
      })
      const admin = await s.user('Peopleadmin')
      await s.platform.post(`/v1/orgs/${root}/members`, { userId: admin, roles: ['people_admin'] })
      const subOwner = await s.user('Subowner')
      await s.platform.post(`/v1/orgs/${root}/members`, { userId: subOwner, roles: ['member'] })
      await s.platform.post(`/v1/orgs/${sub}/members`, { userId: subOwner, roles: ['owner'] })
      const removed = await s.as(admin).delete(`/v1/orgs/${root}/members/${subOwner}`)
      expect([removed.status, removed.body.code]).toEqual([403, 'OWNER_REQUIRED'])
      expect(
        (await s.as(subOwner).post('/v1/check', { permission: 'org.delete', resource: { org: sub } })).body
          .allowed,
      ).toBe(true)
    } finally {
      await s.stop()
    }
  })
})
