import { describe, expect, it } from 'vitest'
import { Authorizer, presets } from '../src/index.ts'
import { markdownRows, user, world } from './support/worlds.ts'

/**
 * SPEC section 7 (seed 001), pasted verbatim and parsed: every role × permission cell is asserted, allowed
 * and denied. The preset is never consulted for the expectations, so a wrong cell in it fails here.
 */
const SPEC_7 = `
| permission (on) | super admin | admin | billing mgr | member | app admin | app developer | app uploader | app reader |
|---|---|---|---|---|---|---|---|---|
| org.read, org.read_members (org) | ✅ | ✅ | org.read only | ✅ | | | | |
| org.update_settings, org.invite_user, org.update_user_roles, org.manage_groups, org.read_audit, org.manage_webhooks, org.manage_apikeys, org.create_app, org.read_access (org) | ✅ | ✅ | | | | | | |
| org.manage_security, org.delete, org.transfer (org) | ✅ | | | | | | | |
| org.read_billing, org.update_billing, org.read_invoices, org.read_billing_audit (org) | ✅ | | ✅ | | | | | |
| read permissions (app, channel) | ✅ | ✅ | | ✅ | ✅ | ✅ | ✅ | ✅ |
| app.upload_bundle (app) | ✅ | ✅ | | | ✅ | ✅ | ✅ | |
| app.manage_devices, app.build_native, bundle.update (app); channel.promote_bundle, channel.update_settings (channel) | ✅ | ✅ | | | ✅ | ✅ | | |
| app.update_settings, app.create_channel, app.update_user_roles, app.read_audit (app) | ✅ | ✅ | | | ✅ | | | |
| bundle.delete (app), channel.delete (channel) | ✅ | | | | ✅ | | | |
| app.delete, app.transfer (app) | ✅ | | | | | | | |
`
/** "Read permissions" as SPEC 7 lists them. */
const READ_PERMISSIONS = [
  'app.read',
  'app.read_bundles',
  'app.read_channels',
  'app.read_logs',
  'app.read_devices',
  'channel.read',
  'channel.read_history',
]
const ROLES = [
  'org_super_admin',
  'org_admin',
  'org_billing_admin',
  'org_member',
  'app_admin',
  'app_developer',
  'app_uploader',
  'app_reader',
]

const keysIn = (cell: string) => cell.match(/[a-z_]+\.[a-z_]+/g) ?? []

/** role → permission → expected, from the table alone. */
function expectations(): Map<string, Map<string, boolean>> {
  const table = new Map(ROLES.map((role) => [role, new Map<string, boolean>()]))
  for (const [first, ...cells] of markdownRows(SPEC_7)) {
    const rowKeys = first!.startsWith('read permissions') ? READ_PERMISSIONS : keysIn(first!)
    cells.forEach((cell, i) => {
      const granted = cell === '✅' ? rowKeys : keysIn(cell.replace(/ only$/, ''))
      for (const key of rowKeys) table.get(ROLES[i]!)!.set(key, granted.includes(key))
    })
  }
  return table
}

const capgo = presets.capgo!

function authorizerWith(role: string): Authorizer {
  const scope = capgo.roles[role]!.scope === 'org' ? { type: 'org', id: 'o1' } : { type: 'app', id: 'a1' }
  return new Authorizer(
    capgo,
    world({
      orgs: [{ id: 'o1', parentId: null }],
      resources: [
        { id: 'a1', orgId: 'o1', type: 'app', parentId: null },
        { id: 'c1', orgId: 'o1', type: 'channel', parentId: 'a1' },
      ],
      users: [{ id: 'u1', mfaEnabled: false }],
      memberships: [{ orgId: 'o1', userId: 'u1', status: 'active' }],
      bindings: [{ id: 'b1', principal: user('u1'), role, scope }],
    }),
  )
}

const TARGETS: Record<string, { type: string; id: string }> = {
  org: { type: 'org', id: 'o1' },
  app: { type: 'app', id: 'a1' },
  channel: { type: 'channel', id: 'c1' },
}

describe('capgo preset = SPEC section 7, cell by cell', () => {
  const table = expectations()

  it('declares exactly the permissions of the table, on the types it names', () => {
    const tableKeys = [...table.get('org_super_admin')!.keys()].sort()
    expect(Object.keys(capgo.permissions).sort()).toEqual(tableKeys)
    let typed = 0
    for (const [first] of markdownRows(SPEC_7)) {
      // "a.x, a.y (app); c.z (channel)" or "a.x (app), c.z (channel)": each run of keys, then its type.
      for (const [, keys, on] of first!.matchAll(/((?:[a-z_]+\.[a-z_]+(?:,\s*)?)+)\s*\((\w+)\)/g)) {
        for (const key of keysIn(keys!)) {
          expect(capgo.permissions[key]!.on, key).toBe(on)
          typed++
        }
      }
    }
    expect(typed).toBe(39 - READ_PERMISSIONS.length)
    expect(table.get('org_super_admin')!.size).toBe(39)
  })

  it('marks channel Read, History and Associate bundle overridable, and nothing else', () => {
    const overridable = Object.entries(capgo.permissions).filter(([, p]) => p.overridable)
    expect(overridable.map(([k]) => k).sort()).toEqual([
      'channel.promote_bundle',
      'channel.read',
      'channel.read_history',
    ])
  })

  for (const role of ROLES) {
    describe(role, () => {
      const authorizer = authorizerWith(role)
      for (const [permission, expected] of table.get(role)!) {
        it(`${expected ? 'allows' : 'denies'} ${permission}`, () => {
          const target = TARGETS[capgo.permissions[permission]!.on]!
          const decision = authorizer.check(user('u1'), permission, target)
          expect(decision.allowed).toBe(expected)
          expect(decision.reason).toBe(expected ? 'role' : 'no_grant')
        })
      }
    })
  }

  it('orders org roles Super Admin, Admin, Billing Manager, Member by priority (seed 001 member list)', () => {
    const byPriority = ['org_super_admin', 'org_admin', 'org_billing_admin', 'org_member'].map(
      (k) => capgo.roles[k]!.priority,
    )
    expect([...byPriority].sort((a, b) => b - a)).toEqual(byPriority)
    expect(new Set(byPriority).size).toBe(4)
  })

  it('makes the creator a super admin, the only owner role, and invitees members by default', () => {
    expect(capgo.org).toMatchObject({
      creatorRole: 'org_super_admin',
      ownerRoles: ['org_super_admin'],
      defaultRole: 'org_member',
    })
  })
})
