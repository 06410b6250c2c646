import { describe, expect, it } from 'vitest'
import { Authorizer, type BindingRecord, presets, rules } from '../src/index.ts'
import { group, org, user, world } from './support/worlds.ts'

/** The seeds' own words, sentence by sentence, against the `projects`, `teams` and `modules` presets. */
const bind = (
  id: string,
  principal: BindingRecord['principal'],
  role: string,
  scope: BindingRecord['scope'],
): BindingRecord => ({ id, principal, role, scope })
const project = (id: string) => ({ type: 'project', id }) as const
const repo = (id: string) => ({ type: 'repository', id }) as const

describe('projects preset = seed 002 (APImetrics Organizations)', () => {
  const model = presets.projects!
  // The service keeps DEFAULT (every member) and ADMIN as groups bound to org_member / org_admin.
  const base = () =>
    world({
      orgs: [{ id: 'acme', parentId: null }],
      resources: [
        { id: 'p1', orgId: 'acme', type: 'project', parentId: null },
        { id: 'p2', orgId: 'acme', type: 'project', parentId: null },
      ],
      users: ['ada', 'bob', 'cy', 'ext'].map((id) => ({ id, mfaEnabled: id !== 'cy' })),
      memberships: ['ada', 'bob', 'cy'].map((userId) => ({
        orgId: 'acme',
        userId,
        status: 'active' as const,
      })),
      groups: [
        { id: 'DEFAULT', orgId: 'acme' },
        { id: 'ADMIN', orgId: 'acme' },
        { id: 'QA', orgId: 'acme' },
      ],
      groupMembers: [
        ...['ada', 'bob', 'cy'].map((userId) => ({ groupId: 'DEFAULT', userId })),
        { groupId: 'ADMIN', userId: 'ada' },
        { groupId: 'QA', userId: 'bob' },
      ],
      bindings: [
        bind('d', group('DEFAULT'), 'org_member', org('acme')),
        bind('a', group('ADMIN'), 'org_admin', org('acme')),
      ],
    })

  it('"Accounts with the ADMIN role can access the Organization Admin page"; DEFAULT accounts cannot', () => {
    const a = new Authorizer(model, base())
    for (const p of [
      'org.update_settings',
      'org.read_audit',
      'org.manage_security',
      'org.invite_user',
      'org.create_project',
    ]) {
      expect(a.check(user('ada'), p, org('acme')).allowed).toBe(true)
      expect(a.check(user('bob'), p, org('acme')).allowed).toBe(false)
    }
    expect(a.check(user('bob'), 'org.read', org('acme')).allowed).toBe(true)
  })

  it('"instead of giving a specific account access to a project, you can give access to a Role"', () => {
    const a = new Authorizer(model, base())
    expect(a.check(user('bob'), 'project.read', project('p1')).allowed).toBe(false)
    a.apply({ op: 'binding.put', binding: bind('q', group('QA'), 'project_editor', project('p1')) })
    expect(a.check(user('bob'), 'project.write', project('p1')).allowed).toBe(true)
    expect(a.check(user('cy'), 'project.read', project('p1')).allowed).toBe(false)
    a.apply({ op: 'binding.put', binding: bind('all', group('DEFAULT'), 'project_viewer', project('p2')) })
    expect(a.listPrincipals('project.read', project('p2')).sort()).toEqual(['ada', 'bob', 'cy'])
  })

  it('gives an external account (project access, no membership) that project only — the seed’s blue', () => {
    const a = new Authorizer(model, base())
    a.apply({ op: 'binding.put', binding: bind('x', user('ext'), 'project_viewer', project('p1')) })
    expect(a.check(user('ext'), 'project.read', project('p1')).allowed).toBe(true)
    expect(a.check(user('ext'), 'project.read', project('p2')).allowed).toBe(false)
    expect(a.check(user('ext'), 'org.read', org('acme')).allowed).toBe(false)
  })

  it('"enforce 2-factor authentication for all users in the Organization"', () => {
    const a = new Authorizer(model, base())
    a.apply({ op: 'org.put', org: { id: 'acme', parentId: null, requireMfa: true } })
    expect(a.check(user('cy'), 'org.read', org('acme')).reason).toBe('mfa_required')
    expect(a.check(user('bob'), 'org.read', org('acme')).allowed).toBe(true)
  })
})

describe('teams preset = seed 003 (Copia single-role teams)', () => {
  const model = presets.teams!
  const teamWorld = (bindings: BindingRecord[]) =>
    world({
      orgs: [{ id: 'o', parentId: null }],
      resources: [
        { id: 'r1', orgId: 'o', type: 'repository', parentId: null },
        { id: 'r2', orgId: 'o', type: 'repository', parentId: null },
      ],
      users: ['owner', 'user1', 'user2'].map((id) => ({ id, mfaEnabled: false })),
      memberships: ['owner', 'user1', 'user2'].map((userId) => ({
        orgId: 'o',
        userId,
        status: 'active' as const,
      })),
      groups: [
        { id: 'owners', orgId: 'o', role: null },
        { id: 'team-a', orgId: 'o', role: 'read' },
      ],
      groupMembers: [
        { groupId: 'owners', userId: 'owner' },
        { groupId: 'team-a', userId: 'user1', memberRole: 'write' },
        { groupId: 'team-a', userId: 'user2', memberRole: 'read' },
      ],
      bindings: [bind('ob', group('owners'), 'owner', org('o')), ...bindings],
    })
  const levelOf = (a: Authorizer, u: string, r: string) =>
    (['admin', 'write', 'read'] as const).find(
      (l) => a.check(user(u), `repository.${l === 'admin' ? 'admin' : l}`, repo(r)).allowed,
    ) ?? 'none'

  for (const [where, binding] of [
    ['on a chosen repository', bind('t', group('team-a'), 'team', repo('r1'))],
    ['on all repositories', bind('t', group('team-a'), 'team', org('o'))],
  ] as const) {
    it(`runs the seed's example ${where}: Write / Read → Admin / Admin → Write / Read`, () => {
      const a = new Authorizer(model, teamWorld([binding]))
      expect([levelOf(a, 'user1', 'r1'), levelOf(a, 'user2', 'r1')]).toEqual(['write', 'read'])
      const plan = rules.planSingleRoleTeams({
        enable: true,
        current: false,
        everEnabled: false,
        lowestRole: 'read',
        teams: [
          { id: 'owners', role: null, isOwners: true, members: [{ userId: 'owner', memberRole: null }] },
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
      // "all teams besides the Owners team will be set to Read access"
      expect(plan.teamRoles).toEqual([{ groupId: 'team-a', role: 'read' }])
      a.apply({ op: 'org.put', org: { id: 'o', parentId: null, singleRoleTeams: true } })
      expect([levelOf(a, 'user1', 'r1'), levelOf(a, 'user2', 'r1')]).toEqual(['read', 'read'])
      a.apply({ op: 'group.put', group: { id: 'team-a', orgId: 'o', role: 'admin' } })
      expect([levelOf(a, 'user1', 'r1'), levelOf(a, 'user2', 'r1')]).toEqual(['admin', 'admin'])
      a.apply({ op: 'org.put', org: { id: 'o', parentId: null, singleRoleTeams: false } })
      expect([levelOf(a, 'user1', 'r1'), levelOf(a, 'user2', 'r1')]).toEqual(['write', 'read'])
      expect(levelOf(a, 'user1', 'r2')).toBe(where === 'on all repositories' ? 'write' : 'none')
    })
  }

  it('gives the Owners team everything, on every repository', () => {
    const a = new Authorizer(model, teamWorld([]))
    expect(a.check(user('owner'), 'repository.delete', repo('r2')).allowed).toBe(true)
    expect(a.check(user('owner'), 'org.update_settings', org('o')).allowed).toBe(true)
    expect(a.check(user('user1'), 'repository.read', repo('r2')).allowed).toBe(false)
  })
})

describe('modules preset = seed 004 (Appcircle team management)', () => {
  const model = presets.modules!
  const tree = (bindings: BindingRecord[], members: [string, string][]) =>
    new Authorizer(
      model,
      world({
        orgs: [
          { id: 'root', parentId: null },
          { id: 'sub', parentId: 'root' },
        ],
        users: ['creator', 'dev', 'tester'].map((id) => ({ id, mfaEnabled: false })),
        memberships: members.map(([orgId, userId]) => ({ orgId, userId, status: 'active' as const })),
        bindings,
      }),
    )

  it('"The creator of a team starts with the Owner role"; a new member has "read only access"', () => {
    expect(model.org).toMatchObject({
      creatorRole: 'owner',
      ownerRoles: ['owner'],
      defaultRole: 'member',
      personalOrgOnSignup: true,
      subOrgs: true,
    })
    const a = tree(
      [bind('c', user('creator'), 'owner', org('root')), bind('m', user('dev'), 'member', org('root'))],
      [
        ['root', 'creator'],
        ['root', 'dev'],
      ],
    )
    expect(a.check(user('creator'), 'org.invite_user', org('root')).allowed).toBe(true)
    for (const m of ['build', 'signing', 'distribution', 'publish', 'store', 'reports']) {
      expect(a.check(user('dev'), `${m}.read`, org('root')).allowed).toBe(true)
      expect(a.check(user('dev'), `${m}.write`, org('root')).allowed).toBe(false)
    }
  })

  it('combines several roles of one module and of several modules', () => {
    const a = tree(
      [
        bind('m', user('dev'), 'member', org('root')),
        bind('b', user('dev'), 'build_write', org('root')),
        bind('p', user('dev'), 'publish_read', org('root')),
      ],
      [['root', 'dev']],
    )
    expect(a.check(user('dev'), 'build.write', org('root')).allowed).toBe(true)
    expect(a.check(user('dev'), 'publish.write', org('root')).allowed).toBe(false)
  })

  it('"everyone in the root organization will be able to see this sub-organization", roles inherited', () => {
    const a = tree(
      [bind('m', user('dev'), 'member', org('root')), bind('b', user('dev'), 'build_write', org('root'))],
      [['root', 'dev']],
    )
    expect(a.check(user('dev'), 'org.read', org('sub')).allowed).toBe(true)
    expect(a.check(user('dev'), 'build.write', org('sub')).allowed).toBe(true)
  })

  it('"None" in a sub-org module means the root’s role; a direct role replaces it in that module only', () => {
    const a = tree(
      [
        bind('m', user('dev'), 'member', org('root')),
        bind('b', user('dev'), 'build_write', org('root')),
        bind('d', user('dev'), 'distribution_write', org('root')),
        bind('sb', user('dev'), 'build_read', org('sub')),
      ],
      [
        ['root', 'dev'],
        ['sub', 'dev'],
      ],
    )
    expect(a.check(user('dev'), 'build.write', org('sub')).allowed).toBe(false) // replaced
    expect(a.check(user('dev'), 'build.read', org('sub')).allowed).toBe(true)
    expect(a.check(user('dev'), 'distribution.write', org('sub')).allowed).toBe(true) // None: inherited
    expect(a.check(user('dev'), 'build.write', org('root')).allowed).toBe(true)
  })

  it('"If a user is directly added to the sub-organization" they have no role in the root', () => {
    const a = tree(
      [
        bind('t', user('tester'), 'member', org('sub')),
        bind('d', user('tester'), 'distribution_write', org('sub')),
      ],
      [['sub', 'tester']],
    )
    expect(a.check(user('tester'), 'distribution.write', org('sub')).allowed).toBe(true)
    expect(a.check(user('tester'), 'org.read', org('root')).allowed).toBe(false)
  })
})
