import { beforeAll, describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

/**
 * Issue 23.4: an org as a file. Export it, plan a changed file (nothing written), apply it (one transaction,
 * each change through its use case and audited), apply it again (no-op); a file naming what doesn't exist,
 * or making a change its caller may not, is refused whole.
 */
describe.each(DATABASES)('config as code (%s)', (database) => {
  const { s, w } = useCapgoServer(database)
  const email: Record<string, string> = {}
  beforeAll(async () => {
    const members = (await s.platform.get(`/v1/orgs/${w.orgId}/members`)).body.items as {
      userId: string
      email: string
    }[]
    for (const [role, id] of Object.entries(w.users))
      email[role] = members.find((m) => m.userId === id)?.email ?? ''
  }, 60_000)

  const org = () => `/v1/orgs/${w.orgId}`
  const exported = async () => (await s.platform.get(`${org()}/config`)).body
  const auditCount = async () =>
    ((await s.platform.get(`${org()}/audit-logs?limit=500`)).body.items as unknown[]).length
  const may = async (userId: string, permission: string, id: string, type = 'channel') =>
    (await s.as(userId).post('/v1/check', { permission, resource: { type, id } })).body.allowed as boolean

  it('exports the org by name: people by email, resources by type:path, no ids', async () => {
    const doc = await exported()
    expect(doc.version).toBe(1)
    expect(doc.settings).toEqual({ requireMfa: false, passwordPolicy: null, apiKeyPolicy: null })
    expect(doc.bindings).toContainEqual({ user: email.appReader, role: 'app_reader', on: 'app:Shop' })
    expect(doc.bindings).toContainEqual({ user: email.admin, role: 'org_admin' })
    expect(JSON.stringify(doc)).not.toContain(w.orgId)
  })

  it('plans without writing, applies in one write with its audit entries, and a second apply is a no-op', async () => {
    const before = await exported()
    const doc = {
      ...before,
      settings: { ...before.settings, apiKeyPolicy: { requireExpiry: true, maxDays: 30 } },
      customRoles: [
        {
          key: 'release_manager',
          scope: 'app',
          slot: 'app',
          label: 'Release manager',
          permissions: ['app.read', 'channel.read', 'channel.promote_bundle'],
          priority: 45,
        },
      ],
      groups: [...before.groups, { name: 'Release', members: [email.member] }],
      bindings: [
        ...before.bindings.filter(
          (b: { user?: string }) => b.user !== email.appReader && b.user !== email.appUploader,
        ),
        { user: email.appUploader, role: 'app_developer', on: 'app:Shop' },
        { group: 'Release', role: 'release_manager', on: 'app:Shop' },
      ],
      overrides: [
        {
          group: 'Release',
          on: 'channel:Shop/production',
          permission: 'channel.promote_bundle',
          effect: 'deny',
        },
      ],
    }
    const expected = [
      { action: 'update', kind: 'settings', name: 'security policy' },
      { action: 'create', kind: 'role', name: 'release_manager' },
      { action: 'create', kind: 'group', name: 'Release' },
      { action: 'create', kind: 'groupMember', name: `${email.member} in Release` },
      {
        action: 'update',
        kind: 'binding',
        name: `user:${email.appUploader} → app_uploader on app:Shop → app_developer`,
      },
      { action: 'create', kind: 'binding', name: 'group:Release → release_manager on app:Shop' },
      { action: 'delete', kind: 'binding', name: `user:${email.appReader} → app_reader on app:Shop` },
      {
        action: 'create',
        kind: 'override',
        name: 'group:Release channel.promote_bundle on channel:Shop/production: deny',
      },
    ]
    const audits = await auditCount()
    const plan = await s.as(w.users.creator).post(`${org()}/config/plan`, doc)
    expect(plan.status).toBe(200)
    expect(plan.body.changes).toEqual(expected)
    expect(await exported()).toEqual(before)
    expect(await auditCount()).toBe(audits)

    const applied = await s.as(w.users.creator).post(`${org()}/config/apply`, doc)
    expect(applied.status).toBe(200)
    expect(applied.body.changes).toEqual(expected)
    // The engine has it as the reply comes: the group's new custom role, less the override.
    expect(await may(w.users.member, 'channel.promote_bundle', w.stagingId)).toBe(true)
    expect(await may(w.users.member, 'channel.promote_bundle', w.productionId)).toBe(false)
    expect(await may(w.users.appReader, 'app.read', w.appId, 'app')).toBe(false)
    const actions = (
      (await s.platform.get(`${org()}/audit-logs?limit=500`)).body.items as { action: string }[]
    )
      .slice(0, (await auditCount()) - audits)
      .map((e) => e.action)
      .sort()
    expect(actions).toEqual(
      [
        'binding.created',
        'binding.deleted',
        'binding.updated',
        'group.created',
        'group.member_set',
        'org.security_changed',
        'override.set',
        'role.created',
      ].sort(),
    )

    const after = await exported()
    const again = await s.as(w.users.creator).post(`${org()}/config/apply`, after)
    expect(again.body).toEqual({ changes: [], revision: applied.body.revision })
    expect(await s.as(w.users.creator).post(`${org()}/config/apply`, doc)).toMatchObject({
      body: { changes: [] },
    })
  })

  it('refuses a file naming what does not exist with every error, changing nothing', async () => {
    const before = await exported()
    const audits = await auditCount()
    const reply = await s.platform.post(`${org()}/config/apply`, {
      ...before,
      groups: [...before.groups, { name: 'New team', members: ['nobody@example.com'] }],
      bindings: [
        ...before.bindings,
        { group: 'Ghosts', role: 'app_reader', on: 'app:Shop' },
        { user: email.member, role: 'no_such_role' },
        { user: email.member, role: 'app_reader', on: 'app:Nope' },
      ],
    })
    expect(reply.status).toBe(400)
    expect(reply.body.code).toBe('VALIDATION_FAILED')
    expect(reply.body.details.errors.map((e: { at: string }) => e.at).sort()).toEqual(
      [
        `bindings[${before.bindings.length}].group`,
        `bindings[${before.bindings.length + 1}].role`,
        `bindings[${before.bindings.length + 2}].on`,
        `groups[${before.groups.length}].members[0]`,
      ].sort(),
    )
    expect(await exported()).toEqual(before)
    expect(await auditCount()).toBe(audits)
  })

  it('refuses a file one of whose changes its caller may not make, and rolls back the ones before it', async () => {
    const before = await exported()
    // The admin may create groups, but not make anyone Super Admin (above their own rank).
    const reply = await s.as(w.users.admin).post(`${org()}/config/apply`, {
      ...before,
      groups: [...before.groups, { name: 'Should not stay', members: [] }],
      bindings: before.bindings.map((b: { user?: string; role: string }) =>
        b.user === email.member ? { ...b, role: 'org_super_admin' } : b,
      ),
    })
    expect(reply.status).toBe(403)
    expect(await exported()).toEqual(before)
  })
})
