import { describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES, startTestServer } from './support/harness.ts'

describe.each(DATABASES)('groups, custom roles, audit rows and operations (%s)', (database) => {
  const { s, w } = useCapgoServer(database)

  const check = (userId: string, permission: string, resource: object) =>
    s
      .as(userId)
      .post('/v1/check', { permission, resource })
      .then((r) => r.body.allowed as boolean)

  it('gives a group’s members its roles, and refuses adding members to a group above the actor', async () => {
    const admin = s.as(w.users.admin)
    const qa = await admin.post(`/v1/orgs/${w.orgId}/groups`, { name: 'QA Team', description: 'testers' })
    expect(qa.status).toBe(201)
    await admin.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'group', id: qa.body.id },
      role: 'app_developer',
      resourceId: w.appId,
    })
    expect(await check(w.users.member, 'app.upload_bundle', { type: 'app', id: w.appId })).toBe(false)
    expect(
      (await admin.put(`/v1/orgs/${w.orgId}/groups/${qa.body.id}/members/${w.users.member}`, {})).status,
    ).toBe(200)
    expect(await check(w.users.member, 'app.upload_bundle', { type: 'app', id: w.appId })).toBe(true)
    const detail = await admin.get(`/v1/orgs/${w.orgId}/groups/${qa.body.id}`)
    expect(detail.body.members.map((m: { userId: string }) => m.userId)).toEqual([w.users.member])

    // A group holding Billing Manager: the Admin lacks billing permissions, so can't hand them out by group.
    const billing = await s.platform.post(`/v1/orgs/${w.orgId}/groups`, { name: 'Finance' })
    await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'group', id: billing.body.id },
      role: 'org_billing_admin',
    })
    const escalate = await admin.put(
      `/v1/orgs/${w.orgId}/groups/${billing.body.id}/members/${w.users.member}`,
      {},
    )
    expect([escalate.status, escalate.body.code]).toEqual([403, 'ESCALATION'])
    expect(await check(w.users.member, 'org.read_billing', { org: w.orgId })).toBe(false)

    // Leaving the group takes the access away.
    await admin.delete(`/v1/orgs/${w.orgId}/groups/${qa.body.id}/members/${w.users.member}`)
    expect(await check(w.users.member, 'app.upload_bundle', { type: 'app', id: w.appId })).toBe(false)
  })

  it('refuses a second role in a single slot, an owner role for a non-owner, and an expiring owner role', async () => {
    const admin = s.as(w.users.admin)
    const twice = await admin.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: w.users.appReader },
      role: 'app_developer',
      resourceId: w.appId,
    })
    expect([twice.status, twice.body.code]).toEqual([409, 'SLOT_TAKEN'])
    const owner = await admin.patch(`/v1/orgs/${w.orgId}/members/${w.users.member}`, {
      roles: ['org_super_admin'],
    })
    expect([owner.status, owner.body.code]).toEqual([403, 'OWNER_REQUIRED'])
    const creator = await admin.patch(`/v1/orgs/${w.orgId}/members/${w.users.creator}`, {
      roles: ['org_member'],
    })
    expect([creator.status, creator.body.code]).toEqual([403, 'CREATOR_ROLE_LOCKED'])
    const expiring = await s.as(w.users.creator).post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: w.users.admin },
      role: 'org_super_admin',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    })
    expect([expiring.status, expiring.body.code]).toEqual([400, 'OWNER_ROLE_NO_EXPIRY'])
    const lastOwnerLeaves = await s
      .as(w.users.creator)
      .delete(`/v1/orgs/${w.orgId}/members/${w.users.creator}`)
    expect([lastOwnerLeaves.status, lastOwnerLeaves.body.code]).toEqual([409, 'LAST_OWNER'])
    const subOrg = await s.as(w.users.creator).post('/v1/orgs', { name: 'Sub', parentId: w.orgId })
    expect([subOrg.status, subOrg.body.code]).toEqual([400, 'SUB_ORGS_DISABLED'])
  })

  it('runs custom roles: no permission beyond the actor, in-use deletes say what happens', async () => {
    const admin = s.as(w.users.admin)
    const beyond = await admin.post(`/v1/orgs/${w.orgId}/roles`, {
      key: 'deleter',
      scope: 'app',
      slot: 'app',
      label: 'Deleter',
      permissions: ['app.read', 'app.delete'],
      priority: 10,
    })
    expect([beyond.status, beyond.body.code]).toEqual([403, 'ESCALATION'])
    const builtIn = await admin.patch(`/v1/orgs/${w.orgId}/roles/org_member`, { label: 'x' })
    expect(builtIn.status).toBe(403)
    const made = await admin.post(`/v1/orgs/${w.orgId}/roles`, {
      key: 'release_manager',
      scope: 'app',
      slot: 'app',
      label: 'Release manager',
      permissions: ['app.read', 'bundle.update'],
      priority: 45,
    })
    expect(made.status).toBe(201)
    const user = await s.user('Releaser')
    await admin.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: user },
      role: 'release_manager',
      resourceId: w.appId,
    })
    expect(await check(user, 'bundle.update', { type: 'app', id: w.appId })).toBe(true)
    await admin.patch(`/v1/orgs/${w.orgId}/roles/release_manager`, { permissions: ['app.read'] })
    expect(await check(user, 'bundle.update', { type: 'app', id: w.appId })).toBe(false)
    const inUse = await admin.delete(`/v1/orgs/${w.orgId}/roles/release_manager`)
    expect([inUse.status, inUse.body.code, inUse.body.details.bindings]).toEqual([409, 'ROLE_IN_USE', 1])
    const reassigned = await admin.delete(
      `/v1/orgs/${w.orgId}/roles/release_manager?bindings=reassign&to=app_uploader`,
    )
    expect(reassigned.status).toBe(200)
    expect(await check(user, 'app.upload_bundle', { type: 'app', id: w.appId })).toBe(true)
    const roles = (await admin.get(`/v1/orgs/${w.orgId}/roles`)).body.items.map((r: { key: string }) => r.key)
    expect(roles).not.toContain('release_manager')
  })

  it('writes an audit row with each change, in the same transaction', async () => {
    const before = await s.ctx.db.selectFrom('audit_log').selectAll().where('org_id', '=', w.orgId).execute()
    await s.as(w.users.admin).patch(`/v1/orgs/${w.orgId}`, { name: 'Acme Audited' })
    const refused = await s
      .as(w.users.admin)
      .patch(`/v1/orgs/${w.orgId}/members/${w.users.creator}`, { roles: ['org_member'] })
    expect(refused.status).toBe(403)
    const after = await s.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('org_id', '=', w.orgId)
      .orderBy('id')
      .execute()
    expect(after.length).toBe(before.length + 1)
    expect(after.at(-1)).toMatchObject({
      action: 'org.updated',
      actor_type: 'user',
      actor_id: w.users.admin,
      target_type: 'org',
      target_id: w.orgId,
      after: expect.objectContaining({ name: 'Acme Audited' }),
    })
    expect(after.at(-1)!.request_id).toBeTruthy()
  })

  it('serves health, readiness with the applied revision, and Prometheus metrics', async () => {
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    const ready = await (await fetch(`${s.url}/readyz`)).json()
    expect(ready).toEqual({
      ready: true,
      revision: s.ctx.engine.revision,
      listening: database === 'postgres',
    })
    const metrics = await (
      await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })
    ).text()
    expect(metrics).toContain('orgkit_http_request_duration_seconds_bucket')
    const echoed = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } })
    expect(echoed.headers.get('x-request-id')).toBe('trace-123')
  })
})

describe('the engine replica', () => {
  it('reloads from a snapshot instead of wedging when the feed holds a change the graph refuses', async () => {
    const s = await startTestServer('pglite')
    try {
      const alice = await s.user('Alice')
      const org = await s.as(alice).post('/v1/orgs', { name: 'Acme' })
      // A change no service writes: a binding for a user that does not exist.
      await s.ctx.db.transaction().execute(async (tx) => {
        const { recordChanges } = await import('@orgkit/store')
        await recordChanges(
          tx,
          [
            {
              op: 'binding.put',
              binding: {
                id: 'x',
                principal: { type: 'user', id: 'ghost' },
                role: 'org_member',
                scope: { type: 'org', id: org.body.id },
              },
            },
          ],
          s.ctx.engine.feedMac,
        )
      })
      const app = await s.as(alice).post(`/v1/orgs/${org.body.id}/resources`, { type: 'app', name: 'Shop' })
      expect(app.status).toBe(201)
      const read = await s.as(alice).post('/v1/check', {
        permission: 'app.delete',
        resource: { type: 'app', id: app.body.id },
        atLeastRevision: app.body.revision,
      })
      expect(read.body).toMatchObject({ allowed: true, revision: app.body.revision })
    } finally {
      await s.stop()
    }
  })
})

describe('constraint violations', () => {
  it('answer a catalogued 409, not a 500, when a unique name is taken', async () => {
    const s = await startTestServer('pglite')
    try {
      const alice = await s.user('Alice')
      const org = await s.as(alice).post('/v1/orgs', { name: 'Acme' })
      expect((await s.as(alice).post(`/v1/orgs/${org.body.id}/groups`, { name: 'QA' })).status).toBe(201)
      const twice = await s.as(alice).post(`/v1/orgs/${org.body.id}/groups`, { name: 'QA' })
      expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_EXISTS'])
    } finally {
      await s.stop()
    }
  })
})
