import { type Model, ORG, TEAM_ROLE } from '../model/model.ts'
import { Authorizer } from './authorizer.ts'
import { SNAPSHOT_KINDS, type Snapshot, type Target } from './data.ts'

/** What changing the model from one to another does to stored data (issue 23.3, `orgkit model diff`). */
export interface ModelImpact {
  /** Roles the new model lacks that bindings still name, and no `removedRoles` entry moves. */
  orphaned: { role: string; bindings: number; orgs: number }[]
  /** Roles the new model lacks whose bindings its `removedRoles` moves. */
  moved: { role: string; to: string; bindings: number }[]
  /** Per permission whose holders change: how many people gain it somewhere, how many lose it somewhere. */
  permissions: { permission: string; gain: number; lose: number }[]
  /** Custom roles naming permissions the new model lacks: they lose those permissions. */
  customRoles: { orgId: string; key: string; dropped: string[] }[]
}

/** A binding's role the model neither has, nor the binding's org defines (a custom role), nor `team`. */
export function lacksRole(model: Model, customKeys: ReadonlySet<string>, orgId: string, role: string) {
  if (model.roles[role] || customKeys.has(`${orgId}/${role}`)) return false
  return !(role === TEAM_ROLE && model.teamLevels)
}

/**
 * Loads the stored records under both models and compares, person by person, the permissions each holds
 * at every scope they are bound at (their orgs, their and their groups' bindings' resources): what the
 * engine would answer before and after. Under the new model, bindings of removed roles move as its
 * `removedRoles` says, or are gone; custom roles keep only the permissions it still has.
 */
export function modelImpact(from: Model, to: Model, snapshot: Snapshot, now = Date.now()): ModelImpact {
  const orgOf = new Map(snapshot.resources.map((r) => [r.id, r.orgId]))
  const bindingOrg = (scope: Target) => (scope.type === ORG ? scope.id : orgOf.get(scope.id)!)
  const customKeys = new Set(snapshot.roles.map((r) => `${r.orgId}/${r.key}`))
  const missing = new Map<string, { bindings: number; orgs: Set<string> }>()
  const bindings = snapshot.bindings.flatMap((b) => {
    const orgId = bindingOrg(b.scope)
    if (!lacksRole(to, customKeys, orgId, b.role)) return [b]
    const entry = missing.get(b.role) ?? { bindings: 0, orgs: new Set() }
    entry.bindings++
    entry.orgs.add(orgId)
    missing.set(b.role, entry)
    const target = to.removedRoles?.[b.role]
    return target && to.roles[target] ? [{ ...b, role: target }] : []
  })
  const known = new Set(Object.keys(to.permissions))
  const customRoles: ModelImpact['customRoles'] = []
  const roles = snapshot.roles.map((r) => {
    const dropped = r.permissions.filter((p) => !known.has(p))
    if (dropped.length > 0) customRoles.push({ orgId: r.orgId, key: r.key, dropped })
    return dropped.length > 0 ? { ...r, permissions: r.permissions.filter((p) => known.has(p)) } : r
  })
  const before = load(from, snapshot, now)
  const after = load(to, { ...snapshot, bindings, roles }, now)
  return {
    orphaned: [...missing]
      .filter(([role]) => !(to.removedRoles?.[role] && to.roles[to.removedRoles[role]!]))
      .map(([role, m]) => ({ role, bindings: m.bindings, orgs: m.orgs.size })),
    moved: [...missing]
      .filter(([role]) => to.removedRoles?.[role] && to.roles[to.removedRoles[role]!])
      .map(([role, m]) => ({ role, to: to.removedRoles![role]!, bindings: m.bindings })),
    permissions: holderChanges(snapshot, before, after),
    customRoles,
  }
}

function load(model: Model, snapshot: Snapshot, now: number): Authorizer {
  const loading = Authorizer.loading(model, { clock: () => now })
  for (const kind of SNAPSHOT_KINDS) loading.add({ kind, records: snapshot[kind] } as never)
  return loading.done()
}

/** Every scope each person is bound at: their orgs, their own bindings' and their groups' bindings'. */
function scopesByPerson(snapshot: Snapshot): Map<string, Map<string, Target>> {
  const byGroup = new Map<string, string[]>()
  for (const m of snapshot.groupMembers) byGroup.set(m.groupId, [...(byGroup.get(m.groupId) ?? []), m.userId])
  const scopes = new Map<string, Map<string, Target>>()
  const add = (userId: string, target: Target) => {
    const mine = scopes.get(userId) ?? new Map<string, Target>()
    mine.set(`${target.type}:${target.id}`, target)
    scopes.set(userId, mine)
  }
  for (const m of snapshot.memberships) add(m.userId, { type: ORG, id: m.orgId })
  for (const b of snapshot.bindings) {
    if (b.principal.type === 'user') add(b.principal.id, b.scope)
    else for (const userId of byGroup.get(b.principal.id) ?? []) add(userId, b.scope)
  }
  return scopes
}

function holderChanges(snapshot: Snapshot, before: Authorizer, after: Authorizer) {
  const counts = new Map<string, { gain: number; lose: number }>()
  for (const [userId, targets] of scopesByPerson(snapshot)) {
    const gained = new Set<string>()
    const lost = new Set<string>()
    const subject = { type: 'user' as const, id: userId }
    for (const target of targets.values()) {
      const had = before.permissionsAt(subject, target)
      const has = after.permissionsAt(subject, target)
      for (const p of had) if (!has.has(p)) lost.add(p)
      for (const p of has) if (!had.has(p)) gained.add(p)
    }
    for (const [set, field] of [
      [gained, 'gain'],
      [lost, 'lose'],
    ] as const)
      for (const p of set) {
        const c = counts.get(p) ?? { gain: 0, lose: 0 }
        c[field]++
        counts.set(p, c)
      }
  }
  return [...counts]
    .map(([permission, c]) => ({ permission, ...c }))
    .sort((a, b) => a.permission.localeCompare(b.permission))
}
