import { describe, expect, it } from 'vitest'
import { Authorizer } from '../src/index.ts'
import { capgo, modulesModel } from './support/models.ts'
import { app, channel, group, org, user, world } from './support/worlds.ts'

// Issue 26.4: who reaches a resource, and every way each does (not only the first that grants).
describe('Authorizer.reach', () => {
  const a = new Authorizer(
    capgo,
    world({
      orgs: [{ id: 'o1', parentId: null }],
      resources: [
        { id: 'a1', orgId: 'o1', type: 'app', parentId: null },
        { id: 'c1', orgId: 'o1', type: 'channel', parentId: 'a1' },
      ],
      users: ['u1', 'u2', 'u3', 'u4'].map((id) => ({ id, mfaEnabled: false })),
      memberships: ['u1', 'u2', 'u3'].map((userId) => ({ orgId: 'o1', userId, status: 'active' as const })),
      groups: [{ id: 'g-qa', orgId: 'o1' }],
      groupMembers: [{ groupId: 'g-qa', userId: 'u1' }],
      bindings: [
        { id: 'b-own', principal: user('u1'), role: 'app_reader', scope: app('a1') },
        { id: 'b-group', principal: group('g-qa'), role: 'app_developer', scope: app('a1') },
        { id: 'b-org', principal: user('u2'), role: 'org_member', scope: org('o1') },
        { id: 'b-billing', principal: user('u3'), role: 'org_billing_admin', scope: org('o1') },
      ],
      overrides: [{ principal: user('u4'), resourceId: 'c1', permission: 'channel.read', effect: 'allow' }],
    }),
  )
  const byUser = (permission: string, target: { type: string; id: string }) =>
    Object.fromEntries(
      a
        .reach(permission, target)
        .map((r) => [
          r.userId,
          r.paths.map((p) =>
            p.kind === 'binding' ? p.bindingId : p.kind === 'override' ? `override:${p.effect}` : p.kind,
          ),
        ]),
    )

  it('lists every counted binding whose role grants it: own, a group’s, an org role; not a role that doesn’t', () => {
    expect(byUser('app.read', app('a1'))).toEqual({ u1: ['b-own', 'b-group'], u2: ['b-org'] })
    const [u1] = a.reach('app.read', app('a1'))
    expect(u1!.paths[1]).toMatchObject({
      principal: group('g-qa'),
      forUser: 'u1',
      role: 'app_developer',
      scope: app('a1'),
    })
  })

  it('reaches a channel through the app above it, its org, and an allow override on it', () => {
    expect(byUser('channel.read', channel('c1'))).toEqual({
      u1: ['b-own', 'b-group'],
      u2: ['b-org'],
      u4: ['override:allow'],
    })
  })

  it('leaves out whom a deny override stops, and answers nothing for a target that does not exist', () => {
    const denied = new Authorizer(
      capgo,
      world({
        orgs: [{ id: 'o1', parentId: null }],
        resources: [
          { id: 'a1', orgId: 'o1', type: 'app', parentId: null },
          { id: 'c1', orgId: 'o1', type: 'channel', parentId: 'a1' },
        ],
        users: [{ id: 'u1', mfaEnabled: false }],
        memberships: [{ orgId: 'o1', userId: 'u1', status: 'active' }],
        bindings: [{ id: 'b-org', principal: user('u1'), role: 'org_member', scope: org('o1') }],
        overrides: [{ principal: user('u1'), resourceId: 'c1', permission: 'channel.read', effect: 'deny' }],
      }),
    )
    expect(denied.reach('channel.read', channel('c1'))).toEqual([])
    expect(denied.reach('app.read', app('a1')).map((r) => r.userId)).toEqual(['u1'])
    expect(a.reach('app.read', app('nope'))).toEqual([])
  })

  it('names a role held in a parent org (inherited), and only the nearest where a sub-org replaces it', () => {
    const m = new Authorizer(
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
          { orgId: 'root', userId: 'u2', status: 'active' },
          { orgId: 'sub', userId: 'u2', status: 'active' },
        ],
        bindings: [
          { id: 'b-root1', principal: user('u1'), role: 'build_read', scope: org('root') },
          { id: 'b-root2', principal: user('u2'), role: 'build_write', scope: org('root') },
          { id: 'b-sub2', principal: user('u2'), role: 'build_read', scope: org('sub') },
        ],
      }),
    )
    const reach = Object.fromEntries(
      m.reach('profile.read', { type: 'profile', id: 'p1' }).map((r) => [r.userId, r.paths]),
    )
    expect(reach.u1).toEqual([expect.objectContaining({ bindingId: 'b-root1', scope: org('root') })])
    expect(reach.u2).toEqual([expect.objectContaining({ bindingId: 'b-sub2', scope: org('sub') })])
  })
})
