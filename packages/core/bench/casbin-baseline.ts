/**
 * The baseline: the same capgo data in casbin's RBAC-with-domains model, answering the same query mix.
 *
 * Mapping (approximate on purpose; what casbin cannot say is left out, see docs/performance.md):
 * - request `(sub, dom, app, act)`: the user, the target's org, the target's app (`''` for an org target;
 *   a channel's parent app for a channel) and the permission key;
 * - `p(role, act)`: one rule per (role, permission) of the capgo preset (~130 rules);
 * - `g(user, role, org)` for a user's org-scope binding, written only while the membership is active;
 *   `g(user, role, app)` for an app-scope binding (the app id is the domain);
 * - groups as casbin roles: `g(group, role, org|app)` for the group's binding, and `g(member, group, domain)`
 *   for each active member, once per domain the group has a binding in;
 * - matcher: `r.act == p.act && (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, r.app))`.
 * Not mapped: channel overrides (user-decides / group deny-beats-allow), sub-org slot replacement, team
 * roles, binding expiry, membership changes after load (they rewrite `g` rules), policy gates, API keys.
 */
import type { Adapter, Model as CasbinModel, Enforcer } from 'casbin'
import { newEnforcer, newModelFromString } from 'casbin'
import type { Model, Snapshot } from '../src/index.ts'

export const CASBIN_MODEL = `
[request_definition]
r = sub, dom, app, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, r.app))
`

export interface CasbinRules {
  p: string[][]
  g: string[][]
  /** Bindings left out: a user's org binding without an active membership, or a member not active. */
  skipped: number
}

/** Translates the snapshot into casbin policy rows, as a database adapter would produce them. */
export function casbinRules(model: Model, snapshot: Snapshot): CasbinRules {
  const p: string[][] = []
  for (const [key, role] of Object.entries(model.roles))
    for (const perm of role.permissions) p.push([key, perm])

  const active = new Set<string>()
  for (const m of snapshot.memberships) if (m.status === 'active') active.add(`${m.orgId}|${m.userId}`)
  const groupOrg = new Map<string, string>()
  for (const group of snapshot.groups) groupOrg.set(group.id, group.orgId)
  const groupMembers = new Map<string, string[]>()
  for (const member of snapshot.groupMembers) {
    const orgId = groupOrg.get(member.groupId)!
    if (!active.has(`${orgId}|${member.userId}`)) continue
    const list = groupMembers.get(member.groupId)
    if (list === undefined) groupMembers.set(member.groupId, [member.userId])
    else list.push(member.userId)
  }

  const g: string[][] = []
  const groupDomains = new Set<string>()
  let skipped = 0
  const now = Date.now()
  for (const b of snapshot.bindings) {
    if (b.role === 'team' || (b.expiresAt != null && b.expiresAt <= now)) {
      skipped++
      continue
    }
    const domain = b.scope.id
    if (b.principal.type === 'user') {
      if (b.scope.type === 'org' && !active.has(`${domain}|${b.principal.id}`)) {
        skipped++
        continue
      }
      g.push([b.principal.id, b.role, domain])
      continue
    }
    g.push([b.principal.id, b.role, domain])
    const key = `${b.principal.id}|${domain}`
    if (groupDomains.has(key)) continue
    groupDomains.add(key)
    for (const userId of groupMembers.get(b.principal.id) ?? []) g.push([userId, b.principal.id, domain])
  }
  return { p, g, skipped }
}

/** Hands pre-built rows to casbin's loader (what `Helper.loadPolicyLine` does, without CSV parsing). */
class RowsAdapter implements Adapter {
  constructor(private rules: CasbinRules | null) {}

  async loadPolicy(model: CasbinModel): Promise<void> {
    const rules = this.rules
    if (rules === null) return
    const p = model.model.get('p')?.get('p')
    const g = model.model.get('g')?.get('g')
    if (!p || !g) throw new Error('casbin model lacks p or g')
    for (const row of rules.p) p.policy.push(row)
    for (const row of rules.g) g.policy.push(row)
    this.rules = null
  }
  async savePolicy(): Promise<boolean> {
    return true
  }
  async addPolicy(): Promise<void> {}
  async removePolicy(): Promise<void> {}
  async removeFilteredPolicy(): Promise<void> {}
}

export async function loadCasbin(rules: CasbinRules): Promise<Enforcer> {
  return newEnforcer(newModelFromString(CASBIN_MODEL), new RowsAdapter(rules))
}
