import { describe, expect, it } from 'vitest'
import { Authorizer, type ErrorCode, isOrgkitError, rules } from '../src/index.ts'
import { capgo } from './support/models.ts'
import { org, user, world } from './support/worlds.ts'

function codeOf(f: () => void): ErrorCode | 'ok' {
  try {
    f()
    return 'ok'
  } catch (error) {
    if (isOrgkitError(error)) return error.code
    throw error
  }
}

const role = (key: string) => ({ key, ...capgo.roles[key]! })

/** An org where `actor` holds `actorRole`; the facts the rules need, taken from the engine. */
function actorWith(actorRole: string) {
  const a = new Authorizer(
    capgo,
    world({
      orgs: [{ id: 'o1', parentId: null }],
      users: [{ id: 'actor', mfaEnabled: false }],
      memberships: [{ orgId: 'o1', userId: 'actor', status: 'active' }],
      bindings: [{ id: 'b', principal: user('actor'), role: actorRole, scope: org('o1') }],
    }),
  )
  const subject = user('actor')
  return {
    id: 'actor',
    permissions: a.permissionsAt(subject, org('o1')),
    rank: a.rankAt(subject, org('o1')),
    isOwner: a.rolesAt(subject, org('o1')).some((r) => rules.isOwnerRole(capgo, r.key)),
  }
}

describe('no escalation (SPEC 2)', () => {
  it.each([
    ['org_super_admin', 'org_super_admin', 'ok'],
    ['org_super_admin', 'org_billing_admin', 'ok'],
    ['org_admin', 'org_admin', 'ok'],
    ['org_admin', 'org_member', 'ok'],
    // App Admin may delete bundles and channels, which Admin may not (SPEC 7): granting it would escalate.
    ['org_admin', 'app_admin', 'ESCALATION'],
    ['org_admin', 'app_developer', 'ok'],
    ['org_admin', 'org_billing_admin', 'ESCALATION'],
    ['org_admin', 'org_super_admin', 'OWNER_REQUIRED'],
    ['org_billing_admin', 'org_member', 'ESCALATION'],
    ['org_member', 'app_reader', 'ok'],
  ] as const)('%s granting %s → %s', (actorRole, granted, expected) => {
    const actor = actorWith(actorRole)
    expect(codeOf(() => rules.assertCanChangeRole(capgo, actor, null, role(granted)))).toBe(expected)
  })

  it('refuses a role that outranks the actor even when the permissions match', () => {
    const actor = { id: 'a', permissions: new Set(['app.read']), rank: 20, isOwner: false }
    expect(
      codeOf(() => rules.assertCanGrant(actor, { key: 'x', permissions: ['app.read'], priority: 21 })),
    ).toBe('RANK_TOO_LOW')
    expect(
      codeOf(() => rules.assertCanGrant(actor, { key: 'x', permissions: ['app.read'], priority: 20 })),
    ).toBe('ok')
    expect(
      codeOf(() =>
        rules.assertCanGrant({ ...actor, rank: null }, { key: 'x', permissions: [], priority: 0 }),
      ),
    ).toBe('RANK_TOO_LOW')
  })

  it('refuses demoting someone who outranks the actor', () => {
    const admin = actorWith('org_admin')
    expect(
      codeOf(() => rules.assertCanChangeRole(capgo, admin, role('org_billing_admin'), role('org_member'))),
    ).toBe('ok')
    expect(
      codeOf(() => rules.assertCanChangeRole(capgo, admin, role('org_super_admin'), role('org_member'))),
    ).toBe('OWNER_REQUIRED')
    const uploader = { ...actorWith('org_member'), rank: 30 }
    expect(codeOf(() => rules.assertCanChangeRole(capgo, uploader, role('app_developer'), null))).toBe(
      'RANK_TOO_LOW',
    )
  })

  it('lets an allow override through only for a permission the actor holds', () => {
    const member = actorWith('org_member')
    expect(codeOf(() => rules.assertCanAllow(member, 'channel.read', 'allow'))).toBe('ok')
    expect(codeOf(() => rules.assertCanAllow(member, 'channel.promote_bundle', 'allow'))).toBe('ESCALATION')
    expect(codeOf(() => rules.assertCanAllow(member, 'channel.promote_bundle', 'deny'))).toBe('ok')
  })

  it("checks each of a group's roles at its own scope before adding a member", () => {
    const admin = actorWith('org_admin')
    expect(
      codeOf(() => rules.assertCanAddToGroup([{ role: role('app_developer'), actorAtScope: admin }])),
    ).toBe('ok')
    expect(
      codeOf(() => rules.assertCanAddToGroup([{ role: role('org_billing_admin'), actorAtScope: admin }])),
    ).toBe('ESCALATION')
  })
})

describe('owners and the creator (SPEC 2, seed 001 constraints)', () => {
  it('never lets the last owner be removed or demoted', () => {
    const one = new Set(['u1'])
    expect(codeOf(() => rules.assertKeepsOwner(capgo, one, 'u1', null))).toBe('LAST_OWNER')
    expect(codeOf(() => rules.assertKeepsOwner(capgo, one, 'u1', ['org_admin']))).toBe('LAST_OWNER')
    expect(codeOf(() => rules.assertKeepsOwner(capgo, one, 'u1', ['org_super_admin']))).toBe('ok')
    expect(codeOf(() => rules.assertKeepsOwner(capgo, one, 'u2', null))).toBe('ok')
    expect(codeOf(() => rules.assertKeepsOwner(capgo, new Set(['u1', 'u2']), 'u1', null))).toBe('ok')
  })

  it("keeps the creator's role out of others' hands", () => {
    expect(codeOf(() => rules.assertNotCreatorsRole({ creatorId: 'c' }, 'admin', 'c'))).toBe(
      'CREATOR_ROLE_LOCKED',
    )
    expect(codeOf(() => rules.assertNotCreatorsRole({ creatorId: 'c' }, 'c', 'c'))).toBe('ok')
    expect(codeOf(() => rules.assertNotCreatorsRole({ creatorId: 'c' }, 'admin', 'u'))).toBe('ok')
  })

  it('refuses a time-bound owner role', () => {
    expect(codeOf(() => rules.assertOwnerRoleHasNoExpiry(capgo, 'org_super_admin', 5))).toBe(
      'OWNER_ROLE_NO_EXPIRY',
    )
    expect(codeOf(() => rules.assertOwnerRoleHasNoExpiry(capgo, 'org_admin', 5))).toBe('ok')
  })

  it('holds one role per slot where the slot is single', () => {
    expect(codeOf(() => rules.assertSlotFree(capgo, 'org', ['org_member'], 'org_admin'))).toBe('SLOT_TAKEN')
    expect(codeOf(() => rules.assertSlotFree(capgo, 'org', [], 'org_admin'))).toBe('ok')
  })
})
