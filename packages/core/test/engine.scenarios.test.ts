import { describe, expect, it } from 'vitest'
import { Authorizer, type BindingRecord, isOrgkitError, rules, type Snapshot } from '../src/index.ts'
import { capgo, modulesModel, teamsModel } from './support/models.ts'
import { apiKey, app, channel, group, org, user, world } from './support/worlds.ts'

/** One org with an app and two channels; u1 is an App Reader of a1 through nothing but what a test adds. */
function capgoWorld(extra: Partial<Snapshot> = {}): Snapshot {
  return world({
    orgs: [{ id: 'o1', parentId: null }, { id: 'o2', parentId: null }, ...(extra.orgs ?? [])],
    resources: [
      { id: 'a1', orgId: 'o1', type: 'app', parentId: null },
      { id: 'c1', orgId: 'o1', type: 'channel', parentId: 'a1' },
      { id: 'c2', orgId: 'o1', type: 'channel', parentId: 'a1' },
      { id: 'a2', orgId: 'o2', type: 'app', parentId: null },
      ...(extra.resources ?? []),
    ],
    users: [{ id: 'u1', mfaEnabled: false }, { id: 'u2', mfaEnabled: true }, ...(extra.users ?? [])],
    memberships: [
      { orgId: 'o1', userId: 'u1', status: 'active' },
      { orgId: 'o1', userId: 'u2', status: 'active' },
      ...(extra.memberships ?? []),
    ],
    groups: extra.groups ?? [],
    groupMembers: extra.groupMembers ?? [],
    bindings: extra.bindings ?? [],
    overrides: extra.overrides ?? [],
    apiKeys: extra.apiKeys ?? [],
    roles: extra.roles ?? [],
  })
}

const bind = (
  id: string,
  principal: BindingRecord['principal'],
  role: string,
  scope: BindingRecord['scope'],
  expiresAt?: number,
): BindingRecord =>
  expiresAt === undefined ? { id, principal, role, scope } : { id, principal, role, scope, expiresAt }

const reader = bind('b-reader', user('u1'), 'app_reader', app('a1'))

describe('overrides (SPEC 1.2 step 3, seed 001 channel permissions)', () => {
  const qa = { id: 'g-qa', orgId: 'o1' }
  const ops = { id: 'g-ops', orgId: 'o1' }
  const members = [
    { groupId: 'g-qa', userId: 'u1' },
    { groupId: 'g-ops', userId: 'u1' },
  ]

  it('lets an App Reader associate bundles on one channel only (the seed example)', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        bindings: [reader],
        overrides: [
          { principal: user('u1'), resourceId: 'c1', permission: 'channel.promote_bundle', effect: 'allow' },
        ],
      }),
    )
    expect(a.check(user('u1'), 'channel.promote_bundle', channel('c1'))).toEqual({
      allowed: true,
      reason: 'override',
    })
    expect(a.check(user('u1'), 'channel.promote_bundle', channel('c2'))).toEqual({
      allowed: false,
      reason: 'no_grant',
    })
  })

  it('denies what the role gives when an override says deny', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        bindings: [reader],
        overrides: [{ principal: user('u1'), resourceId: 'c1', permission: 'channel.read', effect: 'deny' }],
      }),
    )
    expect(a.check(user('u1'), 'channel.read', channel('c1'))).toEqual({
      allowed: false,
      reason: 'override_deny',
    })
    expect(a.check(user('u1'), 'channel.read', channel('c2')).allowed).toBe(true)
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(true)
  })

  it("puts the user's own override above any group's", () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        groups: [qa],
        groupMembers: [members[0]!],
        overrides: [
          { principal: group('g-qa'), resourceId: 'c1', permission: 'channel.read', effect: 'deny' },
          { principal: user('u1'), resourceId: 'c1', permission: 'channel.read', effect: 'allow' },
        ],
      }),
    )
    expect(a.check(user('u1'), 'channel.read', channel('c1'))).toEqual({ allowed: true, reason: 'override' })
  })

  it('lets deny beat allow among groups', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        groups: [qa, ops],
        groupMembers: members,
        overrides: [
          { principal: group('g-qa'), resourceId: 'c1', permission: 'channel.read_history', effect: 'allow' },
          { principal: group('g-ops'), resourceId: 'c1', permission: 'channel.read_history', effect: 'deny' },
        ],
      }),
    )
    expect(a.check(user('u1'), 'channel.read_history', channel('c1'))).toEqual({
      allowed: false,
      reason: 'override_deny',
    })
    a.apply({
      op: 'override.delete',
      principal: group('g-ops'),
      resourceId: 'c1',
      permission: 'channel.read_history',
    })
    expect(a.check(user('u1'), 'channel.read_history', channel('c1'))).toEqual({
      allowed: true,
      reason: 'override',
    })
  })

  it('refuses an override on a permission that is not overridable', () => {
    const a = new Authorizer(capgo, capgoWorld())
    const put = () =>
      a.apply({
        op: 'override.put',
        override: { principal: user('u1'), resourceId: 'c1', permission: 'channel.delete', effect: 'allow' },
      })
    expect(put).toThrow(expect.objectContaining({ code: 'INVALID_CHANGE' }))
    expect(a.check(user('u1'), 'channel.delete', channel('c1')).allowed).toBe(false)
  })
})

describe('time-bound bindings', () => {
  it('counts a binding until it expires, and not a moment after', () => {
    let now = 1_000
    const a = new Authorizer(
      capgo,
      capgoWorld({ bindings: [bind('b1', user('u1'), 'app_developer', app('a1'), 2_000)] }),
      {
        clock: () => now,
      },
    )
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1')).allowed).toBe(true)
    now = 2_000
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1'))).toEqual({
      allowed: false,
      reason: 'no_grant',
    })
  })

  it('lets an expired sub-org binding neither grant nor replace the inherited role', () => {
    const a = new Authorizer(
      modulesModel,
      world({
        orgs: [
          { id: 'root', parentId: null },
          { id: 'sub', parentId: 'root' },
        ],
        users: [{ id: 'u1', mfaEnabled: false }],
        memberships: [
          { orgId: 'root', userId: 'u1', status: 'active' },
          { orgId: 'sub', userId: 'u1', status: 'active' },
        ],
        bindings: [
          bind('b1', user('u1'), 'build_write', org('root')),
          bind('b2', user('u1'), 'build_read', org('sub'), 5),
        ],
      }),
      { clock: () => 10 },
    )
    expect(a.check(user('u1'), 'build.write', org('sub')).allowed).toBe(true)
  })
})

describe('policy gate (SPEC 1.2 step 1)', () => {
  it('blocks a member without 2FA where the org (or an org above) requires it, and only there', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        orgs: [{ id: 'o3', parentId: 'o1' }],
        memberships: [{ orgId: 'o3', userId: 'u1', status: 'active' }],
        bindings: [reader, bind('b2', user('u1'), 'org_member', org('o3'))],
      }),
    )
    a.apply({ op: 'org.put', org: { id: 'o1', parentId: null, requireMfa: true } })
    expect(a.check(user('u1'), 'app.read', app('a1'))).toEqual({ allowed: false, reason: 'mfa_required' })
    expect(a.check(user('u1'), 'org.read', org('o3'))).toEqual({ allowed: false, reason: 'mfa_required' })
    a.apply({ op: 'user.put', user: { id: 'u1', mfaEnabled: true } })
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(true)
    expect(a.check(user('u1'), 'org.read', org('o3')).allowed).toBe(true)
  })

  it.each([true, false])(
    "lets a request's own second factor (Subject.mfa, a host token's amr) through the 2FA gate, for that question only (dense %s)",
    (dense) => {
      const a = new Authorizer(capgo, capgoWorld({ orgs: [], bindings: [reader] }), { dense })
      a.apply({ op: 'org.put', org: { id: 'o1', parentId: null, requireMfa: true } })
      const withFactor = { type: 'user' as const, id: 'u1', mfa: true }
      expect(a.check(user('u1'), 'app.read', app('a1')).reason).toBe('mfa_required')
      expect(a.check(withFactor, 'app.read', app('a1'))).toEqual({ allowed: true, reason: 'role' })
      // The gate stays for the same user asked about without it: the fact is the request's, not the user's.
      expect(a.check(user('u1'), 'app.read', app('a1')).reason).toBe('mfa_required')
      expect(a.listResources(withFactor, 'app.read', 'app')).toEqual(['a1'])
      expect(a.listResources(user('u1'), 'app.read', 'app')).toEqual([])
      expect(a.explain(withFactor, 'app.read', app('a1')).allowed).toBe(true)
      expect(a.rolesAt(withFactor, app('a1')).map((r) => r.key)).toEqual(['app_reader'])
      expect(a.rolesAt(user('u1'), app('a1'))).toEqual([])
      // It passes the 2FA rule only: an org's password policy still gates.
      a.apply({ op: 'org.put', org: { id: 'o1', parentId: null, requireMfa: true, passwordPolicyId: 'p' } })
      expect(a.check(withFactor, 'app.read', app('a1')).reason).toBe('password_policy')
    },
  )

  it("blocks a member whose password doesn't meet the org's policy until it does", () => {
    const a = new Authorizer(capgo, capgoWorld({ orgs: [], bindings: [reader] }))
    a.apply({ op: 'org.put', org: { id: 'o1', parentId: null, passwordPolicyId: 'len12' } })
    expect(a.check(user('u1'), 'app.read', app('a1'))).toEqual({ allowed: false, reason: 'password_policy' })
    expect(a.explain(user('u1'), 'app.read', app('a1')).decidedBy).toEqual({
      kind: 'policy',
      orgId: 'o1',
      rule: 'password',
      policyId: 'len12',
    })
    a.apply({ op: 'user.put', user: { id: 'u1', mfaEnabled: false, compliantPasswordPolicies: ['len12'] } })
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(true)
  })
})

describe('groups', () => {
  const qaWorld = () =>
    capgoWorld({
      groups: [{ id: 'g-qa', orgId: 'o1' }],
      groupMembers: [{ groupId: 'g-qa', userId: 'u1' }],
      bindings: [bind('bg', group('g-qa'), 'app_developer', app('a1'))],
    })

  it('gives every member what the group is bound to (seed 001 "QA Team")', () => {
    const a = new Authorizer(capgo, qaWorld())
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1'))).toEqual({ allowed: true, reason: 'role' })
    expect(a.check(user('u2'), 'app.upload_bundle', app('a1')).allowed).toBe(false)
    a.apply({ op: 'groupMember.delete', groupId: 'g-qa', userId: 'u1' })
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1')).allowed).toBe(false)
  })

  it('gives nothing through a group while the membership is only pending, or once it is removed', () => {
    const a = new Authorizer(capgo, qaWorld())
    a.apply({ op: 'membership.put', membership: { orgId: 'o1', userId: 'u1', status: 'pending' } })
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1')).allowed).toBe(false)
    a.apply({ op: 'membership.put', membership: { orgId: 'o1', userId: 'u1', status: 'active' } })
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1')).allowed).toBe(true)
    a.apply({ op: 'membership.delete', orgId: 'o1', userId: 'u1' })
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1')).allowed).toBe(false)
  })

  it('combines the roles of all of a user’s groups', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        groups: [
          { id: 'g1', orgId: 'o1' },
          { id: 'g2', orgId: 'o1' },
        ],
        groupMembers: [
          { groupId: 'g1', userId: 'u1' },
          { groupId: 'g2', userId: 'u1' },
        ],
        bindings: [
          bind('b1', group('g1'), 'org_billing_admin', org('o1')),
          bind('b2', group('g2'), 'app_uploader', app('a1')),
        ],
      }),
    )
    expect(a.check(user('u1'), 'org.update_billing', org('o1')).allowed).toBe(true)
    expect(a.check(user('u1'), 'app.upload_bundle', app('a1')).allowed).toBe(true)
    expect(a.check(user('u1'), 'app.delete', app('a1')).allowed).toBe(false)
  })
})

describe('membership and external accounts', () => {
  it('stops org roles at once when the member is removed', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({ bindings: [bind('b1', user('u1'), 'org_admin', org('o1'))] }),
    )
    expect(a.check(user('u1'), 'org.invite_user', org('o1')).allowed).toBe(true)
    a.apply({ op: 'membership.delete', orgId: 'o1', userId: 'u1' })
    expect(a.check(user('u1'), 'org.invite_user', org('o1')).allowed).toBe(false)
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(false)
  })

  it('gives an external account (no membership) exactly what its resource bindings give (seed 002 blue)', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        users: [{ id: 'ext', mfaEnabled: false }],
        bindings: [bind('b1', user('ext'), 'app_reader', app('a1'))],
      }),
    )
    expect(a.check(user('ext'), 'app.read', app('a1')).allowed).toBe(true)
    expect(a.check(user('ext'), 'channel.read', channel('c2')).allowed).toBe(true)
    expect(a.check(user('ext'), 'org.read', org('o1')).allowed).toBe(false)
    expect(a.check(user('ext'), 'app.read', app('a2')).allowed).toBe(false)
    expect(a.listPrincipals('app.read', app('a1'))).toContain('ext')
  })
})

describe('sub-organizations (seed 004)', () => {
  const tree = (bindings: BindingRecord[], subMembers = ['u1']) =>
    new Authorizer(
      modulesModel,
      world({
        orgs: [
          { id: 'root', parentId: null },
          { id: 'sub', parentId: 'root' },
        ],
        resources: [{ id: 'p1', orgId: 'sub', type: 'profile', parentId: null }],
        users: [
          { id: 'u1', mfaEnabled: false },
          { id: 'u2', mfaEnabled: false },
        ],
        memberships: [
          { orgId: 'root', userId: 'u1', status: 'active' },
          ...subMembers.map((userId) => ({ orgId: 'sub', userId, status: 'active' as const })),
        ],
        bindings,
      }),
    )

  it('lets everyone in the root see the sub-org with inherited roles', () => {
    const a = tree([bind('b1', user('u1'), 'build_write', org('root'))], [])
    expect(a.check(user('u1'), 'build.write', org('sub')).allowed).toBe(true)
    expect(a.check(user('u1'), 'profile.read', { type: 'profile', id: 'p1' }).allowed).toBe(true)
  })

  it('treats "None" in the sub-org as inherit', () => {
    const a = tree([
      bind('b1', user('u1'), 'build_write', org('root')),
      bind('b2', user('u1'), 'publish_read', org('sub')),
    ])
    expect(a.check(user('u1'), 'build.write', org('sub')).allowed).toBe(true)
    expect(a.check(user('u1'), 'publish.read', org('sub')).allowed).toBe(true)
    expect(a.check(user('u1'), 'publish.read', org('root')).allowed).toBe(false)
  })

  it('replaces the inherited role in that slot with a direct one, even a lower one', () => {
    const a = tree([
      bind('b1', user('u1'), 'build_write', org('root')),
      bind('b2', user('u1'), 'build_read', org('sub')),
    ])
    expect(a.check(user('u1'), 'build.write', org('sub'))).toEqual({ allowed: false, reason: 'no_grant' })
    expect(a.check(user('u1'), 'build.read', org('sub')).allowed).toBe(true)
    expect(a.check(user('u1'), 'build.write', org('root')).allowed).toBe(true)
    const facts = a.explain(user('u1'), 'build.write', org('sub')).facts
    expect(facts).toContainEqual(expect.objectContaining({ bindingId: 'b1', status: 'replaced' }))
    a.apply({ op: 'binding.delete', id: 'b2' })
    expect(a.check(user('u1'), 'build.write', org('sub')).allowed).toBe(true)
  })

  it('gives a member added only to the sub-org nothing in the root', () => {
    const a = tree([bind('b1', user('u2'), 'build_write', org('sub'))], ['u2'])
    expect(a.check(user('u2'), 'build.write', org('sub')).allowed).toBe(true)
    expect(a.check(user('u2'), 'build.read', org('root')).allowed).toBe(false)
  })

  it('recomputes inheritance when a sub-org moves, and refuses a cycle', () => {
    const a = tree([bind('b1', user('u1'), 'build_write', org('root'))], [])
    a.apply({ op: 'org.put', org: { id: 'sub', parentId: null } })
    expect(a.check(user('u1'), 'build.write', org('sub')).allowed).toBe(false)
    a.apply({ op: 'org.put', org: { id: 'sub', parentId: 'root' } })
    expect(a.check(user('u1'), 'build.write', org('sub')).allowed).toBe(true)
    expect(() => a.apply({ op: 'org.put', org: { id: 'root', parentId: 'sub' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CHANGE' }),
    )
  })
})

describe('single-role teams (seed 003 worked example)', () => {
  it('goes Write / Read → Admin / Admin → back to Write / Read', () => {
    const a = new Authorizer(
      teamsModel,
      world({
        orgs: [{ id: 'o1', parentId: null }],
        resources: [{ id: 'r1', orgId: 'o1', type: 'repository', parentId: null }],
        users: [
          { id: 'user1', mfaEnabled: false },
          { id: 'user2', mfaEnabled: false },
        ],
        memberships: [
          { orgId: 'o1', userId: 'user1', status: 'active' },
          { orgId: 'o1', userId: 'user2', status: 'active' },
        ],
        groups: [{ id: 'team-a', orgId: 'o1', role: 'read' }],
        groupMembers: [
          { groupId: 'team-a', userId: 'user1', memberRole: 'write' },
          { groupId: 'team-a', userId: 'user2', memberRole: 'read' },
        ],
        bindings: [bind('bt', group('team-a'), 'team', { type: 'repository', id: 'r1' })],
      }),
    )
    const level = (u: string) =>
      (['admin', 'write', 'read'] as const).find(
        (l) => a.check(user(u), `repository.${l}`, { type: 'repository', id: 'r1' }).allowed,
      ) ?? 'none'

    // 1. Owner creates Team A with User 1 set to Write and User 2 set to Read.
    expect([level('user1'), level('user2')]).toEqual(['write', 'read'])
    // 2. Owner enables single-role teams (first time: the team goes to the lowest role) and sets Team A to Admin.
    const plan = rules.planSingleRoleTeams({
      enable: true,
      current: false,
      everEnabled: false,
      lowestRole: 'read',
      teams: [
        {
          id: 'team-a',
          role: 'read',
          isOwners: false,
          members: [
            { userId: 'user1', memberRole: 'write' },
            { userId: 'user2', memberRole: 'read' },
          ],
        },
      ],
    })
    expect(plan.teamRoles).toEqual([{ groupId: 'team-a', role: 'read' }])
    a.apply({ op: 'org.put', org: { id: 'o1', parentId: null, singleRoleTeams: true } })
    expect([level('user1'), level('user2')]).toEqual(['read', 'read'])
    a.apply({ op: 'group.put', group: { id: 'team-a', orgId: 'o1', role: 'admin' } })
    expect([level('user1'), level('user2')]).toEqual(['admin', 'admin'])
    // 3. Owner disables single-role teams: User 1 reverts to Write, User 2 to Read.
    a.apply({ op: 'org.put', org: { id: 'o1', parentId: null, singleRoleTeams: false } })
    expect([level('user1'), level('user2')]).toEqual(['write', 'read'])
  })

  it('keeps a member who used the team role on that role after the first switch resets the team', () => {
    const plan = rules.planSingleRoleTeams({
      enable: true,
      current: false,
      everEnabled: false,
      lowestRole: 'read',
      teams: [
        { id: 'owners', role: 'admin', isOwners: true, members: [{ userId: 'o', memberRole: null }] },
        {
          id: 't',
          role: 'write',
          isOwners: false,
          members: [
            { userId: 'x', memberRole: null },
            { userId: 'y', memberRole: 'admin' },
          ],
        },
      ],
    })
    expect(plan.teamRoles).toEqual([{ groupId: 't', role: 'read' }])
    expect(plan.memberRoles).toEqual([{ groupId: 't', userId: 'x', memberRole: 'write' }])
    const again = rules.planSingleRoleTeams({
      enable: true,
      current: false,
      everEnabled: true,
      lowestRole: 'read',
      teams: [],
    })
    expect(again.teamRoles).toEqual([])
  })
})

describe('API keys (SPEC 1.2 step 5)', () => {
  const keyWorld = (key: Partial<Snapshot['apiKeys'][number]>) =>
    new Authorizer(
      capgo,
      capgoWorld({
        bindings: [
          bind('b1', user('u1'), 'org_admin', org('o1')),
          bind('b2', user('u1'), 'app_reader', app('a2')),
        ],
        apiKeys: [{ id: 'k1', ownerId: 'u1', ...key }],
      }),
      { clock: () => 1_000 },
    )

  it('acts for its owner', () => {
    expect(keyWorld({}).check(apiKey('k1'), 'app.upload_bundle', app('a1'))).toEqual({
      allowed: true,
      reason: 'role',
    })
  })

  it('is refused once revoked or expired', () => {
    expect(keyWorld({ revoked: true }).check(apiKey('k1'), 'app.read', app('a1')).reason).toBe('key_revoked')
    expect(keyWorld({ expiresAt: 1_000 }).check(apiKey('k1'), 'app.read', app('a1')).reason).toBe(
      'key_expired',
    )
    expect(keyWorld({ expiresAt: 1_001 }).check(apiKey('k1'), 'app.read', app('a1')).allowed).toBe(true)
  })

  it('is narrowed to its orgs, resources and permission ceiling', () => {
    const byOrg = keyWorld({ orgIds: ['o2'] })
    expect(byOrg.check(apiKey('k1'), 'app.read', app('a1')).reason).toBe('key_scope')
    expect(byOrg.check(apiKey('k1'), 'app.read', app('a2')).allowed).toBe(true)
    const byResource = keyWorld({ resourceIds: ['a1'] })
    expect(byResource.check(apiKey('k1'), 'channel.read', channel('c1')).allowed).toBe(true)
    expect(byResource.check(apiKey('k1'), 'org.read', org('o1')).reason).toBe('key_scope')
    const byCeiling = keyWorld({ permissions: ['app.read'] })
    expect(byCeiling.check(apiKey('k1'), 'app.read', app('a1')).allowed).toBe(true)
    expect(byCeiling.check(apiKey('k1'), 'app.upload_bundle', app('a1')).reason).toBe('key_scope')
  })

  it('never does more than its owner can do now', () => {
    const a = keyWorld({})
    a.apply({ op: 'binding.delete', id: 'b1' })
    expect(a.check(apiKey('k1'), 'app.upload_bundle', app('a1'))).toEqual({
      allowed: false,
      reason: 'no_grant',
    })
    expect(a.listResources(apiKey('k1'), 'app.read', 'app')).toEqual(['a2'])
  })
})

describe('custom roles', () => {
  const custom = {
    orgId: 'o1',
    key: 'release_manager',
    scope: 'app',
    slot: 'app',
    permissions: ['app.read', 'bundle.update'],
    priority: 45,
  }

  it('grant, narrow on edit, stop on delete and come back when re-created', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({ roles: [custom], bindings: [bind('b1', user('u1'), 'release_manager', app('a1'))] }),
    )
    expect(a.check(user('u1'), 'bundle.update', app('a1')).allowed).toBe(true)
    a.apply({ op: 'role.put', role: { ...custom, permissions: ['app.read'] } })
    expect(a.check(user('u1'), 'bundle.update', app('a1')).allowed).toBe(false)
    a.apply({ op: 'role.delete', orgId: 'o1', key: 'release_manager' })
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(false)
    a.apply({ op: 'role.put', role: custom })
    expect(a.check(user('u1'), 'bundle.update', app('a1')).allowed).toBe(true)
  })

  it('are refused with a permission beyond their scope, and mean their own org’s role in another org', () => {
    const a = new Authorizer(capgo, capgoWorld())
    expect(() => a.apply({ op: 'role.put', role: { ...custom, permissions: ['org.delete'] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CUSTOM_ROLE' }),
    )
    a.apply({ op: 'role.put', role: custom })
    // In o2 the key names o2's role, which does not exist: the binding grants nothing until it does.
    a.apply({ op: 'membership.put', membership: { orgId: 'o2', userId: 'u1', status: 'active' } })
    a.apply({ op: 'binding.put', binding: bind('b9', user('u1'), 'release_manager', app('a2')) })
    expect(a.check(user('u1'), 'app.read', app('a2'))).toEqual({ allowed: false, reason: 'no_grant' })
    a.apply({ op: 'role.put', role: { ...custom, orgId: 'o2' } })
    expect(a.check(user('u1'), 'app.read', app('a2')).allowed).toBe(true)
  })
})

describe('fail-closed inputs', () => {
  const a = new Authorizer(
    capgo,
    capgoWorld({ bindings: [bind('b1', user('u1'), 'org_super_admin', org('o1'))] }),
  )

  it('throws on an unknown permission or a permission on the wrong type', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return isOrgkitError(error) ? error.code : 'other'
      }
      return 'none'
    }
    expect(codeOf(() => a.check(user('u1'), 'app.fly', app('a1')))).toBe('UNKNOWN_PERMISSION')
    expect(codeOf(() => a.check(user('u1'), 'app.read', channel('c1')))).toBe('PERMISSION_TYPE_MISMATCH')
    expect(codeOf(() => a.check(user('u1'), 'app.read', { type: 'planet', id: 'a1' }))).toBe(
      'UNKNOWN_RESOURCE_TYPE',
    )
  })

  it('denies unknown subjects and unknown or mistyped targets', () => {
    expect(a.check(user('nobody'), 'app.read', app('a1'))).toEqual({ allowed: false, reason: 'not_found' })
    expect(a.check(apiKey('nokey'), 'app.read', app('a1'))).toEqual({ allowed: false, reason: 'not_found' })
    expect(a.check(user('u1'), 'app.read', app('nothing'))).toEqual({ allowed: false, reason: 'not_found' })
    expect(a.check(user('u1'), 'channel.read', channel('a1'))).toEqual({
      allowed: false,
      reason: 'not_found',
    })
    expect(a.check(user('u1'), 'org.read', org('a1'))).toEqual({ allowed: false, reason: 'not_found' })
  })

  it('refuses changes with dangling references, and bindings at the wrong scope', () => {
    expect(() =>
      a.apply({ op: 'binding.put', binding: bind('bx', user('ghost'), 'org_member', org('o1')) }),
    ).toThrow()
    expect(() =>
      a.apply({ op: 'binding.put', binding: bind('bx', user('u1'), 'app_admin', org('o1')) }),
    ).toThrow(expect.objectContaining({ code: 'ROLE_SCOPE_MISMATCH' }))
    expect(() => a.apply({ op: 'binding.put', binding: bind('bx', user('u1'), 'team', app('a1')) })).toThrow()
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(true)
  })

  it('leaves a binding in place when a put over its id is refused', () => {
    const b = new Authorizer(
      capgo,
      capgoWorld({ bindings: [bind('b1', user('u1'), 'org_super_admin', org('o1'))] }),
    )
    for (const refused of [
      bind('b1', group('ghost'), 'org_member', org('o1')),
      bind('b1', user('u1'), 'org_member', app('nothing')),
      bind('b1', user('u1'), 'app_admin', org('o1')),
    ])
      expect(() => b.apply({ op: 'binding.put', binding: refused })).toThrow()
    expect(b.check(user('u1'), 'org.delete', org('o1'))).toEqual({ allowed: true, reason: 'role' })
  })
})

describe('deletes cascade like the store', () => {
  it('takes an org’s resources, groups and bindings with it, and a re-created org starts empty', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        groups: [{ id: 'g1', orgId: 'o1' }],
        groupMembers: [{ groupId: 'g1', userId: 'u2' }],
        bindings: [
          bind('b1', user('u1'), 'org_admin', org('o1')),
          bind('b2', group('g1'), 'app_admin', app('a1')),
        ],
      }),
    )
    a.apply({ op: 'org.delete', id: 'o1' })
    expect(a.has(app('a1'))).toBe(false)
    a.apply([
      { op: 'org.put', org: { id: 'o1', parentId: null } },
      { op: 'resource.put', resource: { id: 'a1', orgId: 'o1', type: 'app', parentId: null } },
      { op: 'membership.put', membership: { orgId: 'o1', userId: 'u1', status: 'active' } },
    ])
    expect(a.check(user('u1'), 'app.read', app('a1')).allowed).toBe(false)
    expect(() => a.apply({ op: 'groupMember.put', member: { groupId: 'g1', userId: 'u1' } })).toThrow()
  })
})

describe('bindings at a scope (what a new binding is checked against)', () => {
  const ids = (found: { id: string; role: string }[]) => found.map((b) => `${b.id}:${b.role}`).sort()

  it('lists the principal’s own bindings right at the scope, expired and dead-role ones too', () => {
    const a = new Authorizer(
      capgo,
      capgoWorld({
        groups: [{ id: 'g1', orgId: 'o1' }],
        groupMembers: [{ groupId: 'g1', userId: 'u1' }],
        bindings: [
          bind('b1', user('u1'), 'org_member', org('o1')),
          bind('b2', user('u1'), 'app_reader', app('a1'), 5), // expired (the clock is at 10): still held
          bind('b3', user('u1'), 'release_manager', app('a1')), // o1 has no such custom role (yet)
          bind('b4', user('u1'), 'channel_reader', channel('c1')), // below the app: not at it
          bind('b5', user('u2'), 'app_admin', app('a1')), // another user's
          bind('b6', group('g1'), 'app_admin', app('a1')), // u1's group's
        ],
      }),
      { clock: () => 10 },
    )
    expect(ids(a.bindingsAt(user('u1'), app('a1')))).toEqual(['b2:app_reader', 'b3:release_manager'])
    expect(ids(a.bindingsAt(user('u1'), org('o1')))).toEqual(['b1:org_member'])
    expect(ids(a.bindingsAt(group('g1'), app('a1')))).toEqual(['b6:app_admin'])
    expect(a.bindingsAt(user('u2'), org('o1'))).toEqual([])
    // Unknown principals and scopes, and a resource named as another type, hold nothing.
    expect(a.bindingsAt(user('nobody'), app('a1'))).toEqual([])
    expect(a.bindingsAt(group('u1'), app('a1'))).toEqual([])
    expect(a.bindingsAt(user('u1'), app('c1'))).toEqual([])
    expect(a.bindingsAt(user('u1'), app('missing'))).toEqual([])
  })

  it('follows puts, deletes and cascades, and survives an encode and restore', () => {
    const a = new Authorizer(capgo, capgoWorld({ bindings: [reader] }))
    a.apply({ op: 'binding.put', binding: bind('b2', user('u1'), 'app_developer', app('a1')) })
    a.apply({ op: 'binding.put', binding: { ...reader, role: 'app_admin' } }) // a role change in place
    expect(ids(a.bindingsAt(user('u1'), app('a1')))).toEqual(['b-reader:app_admin', 'b2:app_developer'])
    const restored = Authorizer.restore(capgo, a.encodeState(1)).authorizer
    expect(ids(restored.bindingsAt(user('u1'), app('a1')))).toEqual([
      'b-reader:app_admin',
      'b2:app_developer',
    ])
    a.apply({ op: 'binding.delete', id: 'b2' })
    expect(ids(a.bindingsAt(user('u1'), app('a1')))).toEqual(['b-reader:app_admin'])
    a.apply({ op: 'resource.delete', id: 'a1' })
    expect(a.bindingsAt(user('u1'), app('a1'))).toEqual([])
  })
})
