import { describe, expect, it } from 'vitest'
import { Authorizer, presets } from '../src/index.ts'
import { markdownRows, user, world } from './support/worlds.ts'

/** Seed 000's "Permission Breakdown", pasted verbatim and parsed: 18 rows × 5 levels, every cell. */
const SEED_000 = `
| Permission | Read | Upload | Write | Admin | Super Admin |
|---|---|---|---|---|---|
| Show app stats | ✅ | ✅ | ✅ | ✅ | ✅ |
| Show app channels | ✅ | ✅ | ✅ | ✅ | ✅ |
| Show devices | ✅ | ✅ | ✅ | ✅ | ✅ |
| Show logs | ✅ | ✅ | ✅ | ✅ | ✅ |
| Show bundles | ✅ | ✅ | ✅ | ✅ | ✅ |
| Delete app | ❌ | ❌ | ❌ | ❌ | ✅ |
| Delete channel | ❌ | ❌ | ❌ | ✅ | ✅ |
| Delete version | ❌ | ❌ | ✅ | ✅ | ✅ |
| Change org’s settings | ❌ | ❌ | ❌ | ✅ | ✅ |
| Manage org users | ❌ | ❌ | ❌ | ✅ | ✅ |
| Alter channel settings | ❌ | ❌ | ✅ | ✅ | ✅ |
| Upload new version | ❌ | ✅ | ✅ | ✅ | ✅ |
| Alter devices | ❌ | ❌ | ✅ | ✅ | ✅ |
| Change channel’s current version | ❌ | ❌ | ✅ | ✅ | ✅ |
| Create new channel | ❌ | ❌ | ❌ | ✅ | ✅ |
| Alter version (metadata) | ❌ | ❌ | ✅ | ✅ | ✅ |
| Manage billing | ❌ | ❌ | ❌ | ❌ | ✅ |
| Delete a version unsafely | ❌ | ❌ | ❌ | ❌ | ✅ |
`

/** SPEC 7's mapping of seed 000's rows onto Capgo's keys. */
const ROW_TO_PERMISSION: Record<string, string> = {
  'Show app stats': 'app.read',
  'Show app channels': 'app.read_channels',
  'Show devices': 'app.read_devices',
  'Show logs': 'app.read_logs',
  'Show bundles': 'app.read_bundles',
  'Delete app': 'app.delete',
  'Delete channel': 'channel.delete',
  'Delete version': 'bundle.delete',
  'Change org’s settings': 'org.update_settings',
  'Manage org users': 'org.update_user_roles',
  'Alter channel settings': 'channel.update_settings',
  'Upload new version': 'app.upload_bundle',
  'Alter devices': 'app.manage_devices',
  'Change channel’s current version': 'channel.promote_bundle',
  'Create new channel': 'app.create_channel',
  'Alter version (metadata)': 'bundle.update',
  'Manage billing': 'org.update_billing',
  'Delete a version unsafely': 'bundle.delete_unsafe',
}
const LEVELS = ['read', 'upload', 'write', 'admin', 'super_admin']
const legacy = presets['capgo-legacy']!

const TARGETS: Record<string, { type: string; id: string }> = {
  org: { type: 'org', id: 'o1' },
  app: { type: 'app', id: 'a1' },
  channel: { type: 'channel', id: 'c1' },
}

function authorizerWith(role: string): Authorizer {
  return new Authorizer(
    legacy,
    world({
      orgs: [{ id: 'o1', parentId: null }],
      resources: [
        { id: 'a1', orgId: 'o1', type: 'app', parentId: null },
        { id: 'c1', orgId: 'o1', type: 'channel', parentId: 'a1' },
      ],
      users: [{ id: 'u1', mfaEnabled: false }],
      memberships: [{ orgId: 'o1', userId: 'u1', status: 'active' }],
      bindings: [{ id: 'b1', principal: user('u1'), role, scope: { type: 'org', id: 'o1' } }],
    }),
  )
}

describe('capgo-legacy preset = seed 000, cell by cell', () => {
  const rows = markdownRows(SEED_000)

  it('has the 18 rows and the five levels', () => {
    expect(rows).toHaveLength(18)
    expect(Object.keys(legacy.roles).sort()).toEqual([...LEVELS].sort())
    for (const [label] of rows) expect(legacy.permissions[ROW_TO_PERMISSION[label!]!]?.label).toBe(label)
  })

  rows.forEach(([label, ...cells]) => {
    const permission = ROW_TO_PERMISSION[label!]!
    cells.forEach((cell, i) => {
      const level = LEVELS[i]!
      const expected = cell === '✅'
      it(`${level} ${expected ? 'may' : 'may not'}: ${label} (${permission})`, () => {
        expect(['✅', '❌']).toContain(cell)
        const target = TARGETS[legacy.permissions[permission]!.on]!
        expect(authorizerWith(level).check(user('u1'), permission, target).allowed).toBe(expected)
      })
    })
  })

  it('ranks the levels read < upload < write < admin < super admin, each containing the one below', () => {
    for (let i = 1; i < LEVELS.length; i++) {
      const lower = legacy.roles[LEVELS[i - 1]!]!
      const higher = legacy.roles[LEVELS[i]!]!
      expect(higher.priority).toBeGreaterThan(lower.priority)
      for (const p of lower.permissions) expect(higher.permissions).toContain(p)
    }
  })

  it('keeps billing and deletion from admins, as the seed says ("Full access except billing and deletion")', () => {
    const admin = authorizerWith('admin')
    for (const p of [
      'org.read_billing',
      'org.update_billing',
      'org.read_invoices',
      'org.delete',
      'org.transfer',
    ]) {
      expect(admin.check(user('u1'), p, TARGETS.org!).allowed).toBe(false)
    }
    expect(admin.check(user('u1'), 'org.invite_user', TARGETS.org!).allowed).toBe(true)
  })
})
