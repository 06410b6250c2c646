import { presets } from '@orgkit/core'
import fc from 'fast-check'
import {
  bindings,
  type Changed,
  customRoles,
  type Executor,
  groups,
  members,
  orgs,
  overrides,
  resources,
  type Tx,
} from '../../src/index.ts'

/**
 * The random writes of org-model.property: a step is plain numbers and flags, and `writeFor` turns it into
 * one repository write that fits the rows as they are (picking existing rows by index, in id order), so a
 * seed replays the same writes and a shrunk sequence stays valid.
 */
const capgo = presets.capgo!
export const NOW = 1_700_000_000_000
export const TYPES = ['org', 'app', 'channel'] as const
export const ON = Object.fromEntries(
  TYPES.map((type) => [
    type,
    Object.keys(capgo.permissions).filter((k) => capgo.permissions[k]!.on === type),
  ]),
) as Record<(typeof TYPES)[number], string[]>
const OVERRIDABLE = Object.keys(capgo.permissions).filter((k) => capgo.permissions[k]!.overridable)
const MODEL_ROLES = (scope: string) =>
  Object.keys(capgo.roles).filter((key) => capgo.roles[key]!.scope === scope)
/** Custom role keys: a binding may name one its org doesn't define (yet, or any more). */
const CUSTOM = ['c1', 'c2'] as const
const GROUP_ROLES = [null, ...MODEL_ROLES('app'), 'org_admin', 'c1'] as const
const MEMBER_ROLES = [null, ...MODEL_ROLES('app'), 'c2'] as const
/** Absent mostly; else far past, just expired, expiring exactly now, just alive, far future. */
const EXPIRIES = [null, null, null, NOW - 86_400_000, NOW - 1, NOW, NOW + 1, NOW + 86_400_000] as const

/** Ids from a per-run counter: a seed names the same rows every time, and ordering by id is stable. */
export const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
export const short = (id: string) => `#${Number.parseInt(id.slice(-12), 16)}`
const pick = <T>(items: readonly T[], n: number): T | undefined =>
  items.length === 0 ? undefined : items[n % items.length]

type Kind = (typeof KINDS)[number][0]
export const KINDS = [
  ['org.insert', 4],
  ['org.update', 3],
  ['org.delete', 1],
  ['membership.upsert', 4],
  ['membership.delete', 1],
  ['group.insert', 2],
  ['group.update', 1],
  ['group.delete', 1],
  ['groupMember.upsert', 3],
  ['groupMember.delete', 1],
  ['binding.insert', 6],
  ['binding.setRole', 2],
  ['binding.delete', 1],
  ['override.upsert', 3],
  ['override.delete', 1],
  ['resource.insert', 4],
  ['resource.rename', 1],
  ['resource.delete', 1],
  ['role.insert', 2],
  ['role.update', 2],
  ['role.delete', 1],
] as const

export const stepArb = fc.record({
  kind: fc.oneof(...KINDS.map(([kind, weight]) => ({ weight, arbitrary: fc.constant<Kind>(kind) }))),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  flag: fc.boolean(),
  other: fc.boolean(),
  status: fc.constantFrom('active', 'active', 'pending'),
  effect: fc.constantFrom('allow', 'deny'),
  permissions: fc.array(fc.nat(), { maxLength: 6 }),
  priority: fc.integer({ min: 0, max: 100 }),
})
export type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never

/** Every row a step picks from, in id order. */
export async function readRows(db: Executor) {
  return {
    users: (await db.selectFrom('users').select('id').orderBy('id').execute()).map((u) => u.id),
    orgs: await db.selectFrom('orgs').select(['id', 'parent_id']).orderBy('id').execute(),
    resources: await db.selectFrom('resources').selectAll().orderBy('id').execute(),
    memberships: await db
      .selectFrom('memberships')
      .selectAll()
      .orderBy('org_id')
      .orderBy('user_id')
      .execute(),
    groups: await db.selectFrom('groups').selectAll().orderBy('id').execute(),
    groupMembers: await db
      .selectFrom('group_members')
      .selectAll()
      .orderBy('group_id')
      .orderBy('user_id')
      .execute(),
    bindings: await db.selectFrom('bindings').selectAll().orderBy('id').execute(),
    overrides: await db.selectFrom('overrides').selectAll().orderBy('id').execute(),
    roles: await db.selectFrom('custom_roles').selectAll().orderBy('org_id').orderBy('key').execute(),
  }
}
export type Rows = Awaited<ReturnType<typeof readRows>>

/** The org and everything below it (a new parent must lie outside it: the schema allows cycles, the engine not). */
function subtree(rows: Rows, id: string): Set<string> {
  const below = new Set([id])
  for (let grew = true; grew; ) {
    grew = false
    for (const o of rows.orgs)
      if (o.parent_id !== null && below.has(o.parent_id) && !below.has(o.id)) grew = below.add(o.id) !== null
  }
  return below
}

/** A binding's roles at a scope: the model's of that scope, custom keys, and `team` for a group. */
const rolesAt = (scope: string, group: boolean) => [
  ...MODEL_ROLES(scope),
  ...CUSTOM,
  ...(group ? ['team'] : []),
]

/** A custom role's fields, its permissions among those at or below its scope. */
function customRoleFields(p: Step, scope: (typeof TYPES)[number] = TYPES[p.c % 3]!) {
  const below = TYPES.slice(TYPES.indexOf(scope)).flatMap((type) => ON[type])
  return {
    scope,
    slot: p.flag ? 'org' : 'app',
    label: `role ${p.priority}`,
    description: '',
    permissions: [...new Set(p.permissions.map((n) => pick(below, n)!))],
    priority: p.priority,
  }
}

export interface Write {
  label: string
  run(tx: Tx): Promise<Changed<unknown>>
}

/** The write a step means against the rows as they are, or null when it fits nothing there. */
export function writeFor(rows: Rows, p: Step, next: () => string): Write | null {
  const user = pick(rows.users, p.b)!
  const org = pick(rows.orgs, p.a)
  const group = pick(rows.groups, p.a)
  const apps = rows.resources.filter((r) => r.type === 'app')
  const channels = rows.resources.filter((r) => r.type === 'channel')
  switch (p.kind) {
    case 'org.insert': {
      const id = next()
      const parentId = p.flag ? (org?.id ?? null) : null
      const creatorId = p.other ? user : null
      return {
        label: `org.insert ${short(id)} under ${parentId && short(parentId)}`,
        run: (tx) => orgs.insertOrg(tx, { id, parentId, name: `org ${short(id)}`, creatorId }),
      }
    }
    case 'org.update': {
      if (!org) return null
      const patch: orgs.OrgPatch = {}
      if (p.c & 1) {
        const below = subtree(rows, org.id)
        const outside = rows.orgs.filter((o) => !below.has(o.id))
        patch.parent_id = p.flag ? (pick(outside, p.b)?.id ?? null) : null
      }
      if (p.c & 2) patch.creator_id = user
      if (p.c & 4) patch.single_role_teams = p.other
      if (p.c & 8) patch.single_role_teams_ever = true
      if (p.c & 16 || Object.keys(patch).length === 0) patch.name = `renamed ${p.priority}`
      return {
        label: `org.update ${short(org.id)} ${JSON.stringify(patch)}`,
        run: (tx) => orgs.updateOrg(tx, org.id, patch, new Date(NOW)),
      }
    }
    case 'org.delete':
      return org ? { label: `org.delete ${short(org.id)}`, run: (tx) => orgs.deleteOrg(tx, org.id) } : null
    case 'membership.upsert': {
      if (!org) return null
      const status = p.status as 'active' | 'pending'
      return {
        label: `membership.upsert ${short(org.id)} ${short(user)} ${status}`,
        run: (tx) => members.upsertMembership(tx, org.id, user, status),
      }
    }
    case 'membership.delete': {
      const m = pick(rows.memberships, p.a)
      if (!m) return null
      return {
        label: `membership.delete ${short(m.org_id)} ${short(m.user_id)}`,
        run: (tx) => members.deleteMembership(tx, m.org_id, m.user_id),
      }
    }
    case 'group.insert': {
      if (!org) return null
      const id = next()
      const role = pick(GROUP_ROLES, p.c)!
      return {
        label: `group.insert ${short(id)} in ${short(org.id)} role ${role}`,
        run: (tx) =>
          groups.insertGroup(tx, { id, orgId: org.id, name: `group ${short(id)}`, description: '', role }),
      }
    }
    case 'group.update': {
      if (!group) return null
      const patch: Parameters<typeof groups.updateGroup>[2] = {}
      if (p.c & 1) patch.role = pick(GROUP_ROLES, p.b)!
      if (p.c & 2) patch.description = `about ${p.priority}`
      if (p.c & 4 || Object.keys(patch).length === 0) patch.name = `group ${short(group.id)} ${p.priority}`
      return {
        label: `group.update ${short(group.id)} ${JSON.stringify(patch)}`,
        run: (tx) => groups.updateGroup(tx, group.id, patch),
      }
    }
    case 'group.delete':
      return group
        ? { label: `group.delete ${short(group.id)}`, run: (tx) => groups.deleteGroup(tx, group.id) }
        : null
    case 'groupMember.upsert': {
      if (!group) return null
      const role = pick(MEMBER_ROLES, p.c)!
      return {
        label: `groupMember.upsert ${short(group.id)} ${short(user)} ${role}`,
        run: (tx) => groups.upsertGroupMember(tx, group.id, user, role),
      }
    }
    case 'groupMember.delete': {
      // Mostly a member; else any user of any group, who may not be one (no change then).
      const existing = p.flag ? pick(rows.groupMembers, p.a) : undefined
      const key = existing ?? (group ? { group_id: group.id, user_id: user } : undefined)
      if (!key) return null
      return {
        label: `groupMember.delete ${short(key.group_id)} ${short(key.user_id)}`,
        run: (tx) => groups.deleteGroupMember(tx, key.group_id, key.user_id),
      }
    }
    case 'binding.insert': {
      const scopeType = pick(['org', 'org', 'app', 'app', 'channel'] as const, p.c)!
      const target =
        scopeType === 'org'
          ? org && { id: org.id, orgId: org.id }
          : pick(scopeType === 'app' ? apps : channels, p.b)
      const scope = target && ('orgId' in target ? target : { id: target.id, orgId: target.org_id })
      const principal = p.flag ? group?.id : pick(rows.users, p.a)
      if (!scope || !principal) return null
      const id = next()
      const role = pick(rolesAt(scopeType, p.flag), p.priority)!
      const expiresAt = pick(EXPIRIES, p.permissions.length + p.c)!
      return {
        label: `binding.insert ${short(id)} ${p.flag ? 'group' : 'user'} ${short(principal)} ${role} at ${scopeType} ${short(scope.id)} expires ${expiresAt}`,
        run: (tx) =>
          bindings.insertBinding(tx, {
            id,
            orgId: scope.orgId,
            userId: p.flag ? null : principal,
            groupId: p.flag ? principal : null,
            role,
            scopeType,
            resourceId: scopeType === 'org' ? null : scope.id,
            expiresAt: expiresAt === null ? null : new Date(expiresAt),
            grantedBy: p.other ? user : null,
            reason: p.other ? 'because' : null,
          }),
      }
    }
    case 'binding.setRole': {
      const first = pick(rows.bindings, p.a)
      if (!first) return null
      const alike = rows.bindings.filter((b) => b.scope_type === first.scope_type)
      const chosen = p.flag ? [first, pick(alike, p.b)!] : [first]
      const ids = [...new Set(chosen.map((b) => b.id))]
      const allGroups = chosen.every((b) => b.group_id !== null)
      const role = pick(rolesAt(first.scope_type, allGroups), p.c)!
      return {
        label: `binding.setRole ${ids.map(short).join(',')} ${role}`,
        run: (tx) => bindings.setRole(tx, ids, role),
      }
    }
    case 'binding.delete': {
      const first = pick(rows.bindings, p.a)
      if (!first) return null
      const ids = [...new Set([first.id, ...(p.flag ? [pick(rows.bindings, p.b)!.id] : [])])]
      return {
        label: `binding.delete ${ids.map(short).join(',')}`,
        run: (tx) => bindings.deleteBindings(tx, ids),
      }
    }
    case 'override.upsert': {
      const channel = pick(channels, p.b)
      const principal = p.flag ? group?.id : pick(rows.users, p.a)
      if (!channel || !principal) return null
      const id = next()
      const permission = pick(OVERRIDABLE, p.c)!
      const effect = p.effect as 'allow' | 'deny'
      return {
        label: `override.upsert ${p.flag ? 'group' : 'user'} ${short(principal)} ${permission} ${effect} on ${short(channel.id)}`,
        run: (tx) =>
          overrides.upsertOverride(tx, {
            id,
            orgId: channel.org_id,
            resourceId: channel.id,
            userId: p.flag ? null : principal,
            groupId: p.flag ? principal : null,
            permission,
            effect,
          }),
      }
    }
    case 'override.delete': {
      const first = pick(rows.overrides, p.a)
      if (!first) return null
      const second = p.flag ? pick(rows.overrides, p.b)! : first
      const chosen = second.id === first.id ? [first] : [first, second]
      return {
        label: `override.delete ${chosen.map((o) => short(o.id)).join(',')}`,
        run: (tx) => overrides.deleteOverrides(tx, chosen),
      }
    }
    case 'resource.insert': {
      const app = p.flag ? pick(apps, p.a) : undefined
      if (!app && !org) return null
      const id = next()
      const r = app
        ? { id, orgId: app.org_id, type: 'channel', parentId: app.id, name: `channel ${short(id)}` }
        : { id, orgId: org!.id, type: 'app', parentId: null, name: `app ${short(id)}` }
      return {
        label: `resource.insert ${r.type} ${short(id)} in ${short(r.orgId)}`,
        run: (tx) => resources.insertResource(tx, r),
      }
    }
    case 'resource.rename': {
      const r = pick(rows.resources, p.a)
      if (!r) return null
      return {
        label: `resource.rename ${short(r.id)}`,
        run: (tx) => resources.renameResource(tx, r.id, `renamed ${p.priority}`),
      }
    }
    case 'resource.delete': {
      const r = pick(rows.resources, p.a)
      if (!r) return null
      return { label: `resource.delete ${short(r.id)}`, run: (tx) => resources.deleteResource(tx, r.id) }
    }
    case 'role.insert': {
      const key = pick(CUSTOM, p.b)!
      if (!org || rows.roles.some((r) => r.org_id === org.id && r.key === key)) return null
      const fields = customRoleFields(p)
      return {
        label: `role.insert ${short(org.id)} ${key} ${JSON.stringify(fields)}`,
        run: (tx) => customRoles.insertCustomRole(tx, org.id, key, fields),
      }
    }
    case 'role.update': {
      const role = pick(rows.roles, p.a)
      if (!role) return null
      const { scope: _, ...fields } = customRoleFields(p, role.scope as (typeof TYPES)[number])
      return {
        label: `role.update ${short(role.org_id)} ${role.key} ${JSON.stringify(fields)}`,
        run: (tx) => customRoles.updateCustomRole(tx, role.org_id, role.key, fields),
      }
    }
    case 'role.delete': {
      const role = pick(rows.roles, p.a)
      if (!role) return null
      return {
        label: `role.delete ${short(role.org_id)} ${role.key}`,
        run: (tx) => customRoles.deleteCustomRole(tx, role.org_id, role.key),
      }
    }
  }
}
