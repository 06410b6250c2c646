import { ensureAccess, groupApplies, roleOf } from './access.ts'
import type { CompiledPermission, RoleHandle } from './compiled-model.ts'
import type { Decision } from './data.ts'
import {
  ALLOW_OVERRIDE,
  ALLOW_ROLE,
  DENY_KEY_EXPIRED,
  DENY_KEY_REVOKED,
  DENY_KEY_SCOPE,
  DENY_MFA,
  DENY_NO_GRANT,
  DENY_OVERRIDE,
  DENY_PASSWORD,
} from './decisions.ts'
import type { GraphView } from './graph-view.ts'
import {
  type ApiKeyNode,
  type GroupMemberNode,
  NONE,
  type OrgNode,
  type ResourceNode,
  type UserNode,
} from './nodes.ts'

/**
 * The decision procedure of SPEC 1.2, in one place. `check` calls it with no trace and it returns at the
 * first decisive fact; `explain` and `rankAt` call it with a trace and read what it saw. One walk for
 * all three, so an explanation can never disagree with the decision it explains.
 */

/** Why a binding did or did not count. */
export type BindingStatus = 'grants' | 'counted' | 'expired' | 'replaced' | 'not_member' | 'unresolved'

export interface TracedBinding {
  /** Its number in `graph.bindings`. */
  binding: number
  /** The role it resolved to (for a team binding, the member's), if any. */
  role: RoleHandle | null
  /** Set when the binding is a group's and the user reaches it through that group. */
  member: GroupMemberNode | null
  status: BindingStatus
}

export type TraceFact =
  | { kind: 'policy'; org: OrgNode; rule: 'mfa' | 'password'; policyId?: string }
  | { kind: 'key'; key: ApiKeyNode; rule: 'revoked' | 'expired' | 'orgs' | 'resources' | 'permissions' }
  | {
      kind: 'override'
      resource: ResourceNode
      user: UserNode
      member: GroupMemberNode | null
      effect: 'allow' | 'deny'
    }
  | ({ kind: 'binding' } & TracedBinding)

export interface Trace {
  facts: TraceFact[]
}

const expired = (graph: GraphView, b: number, now: number) => graph.bindings.expiresAt[b]! <= now

/** A principal's bindings on a resource (or one above it) all count: a union, no slots. */
function resourceGrant(
  graph: GraphView,
  bindings: number,
  scope: ResourceNode,
  index: number,
  now: number,
  member: GroupMemberNode | null,
  trace: Trace | null,
): boolean {
  const t = graph.bindings
  for (let b = bindings; b !== NONE; b = t.pNext[b]!) {
    if (t.scope[b] !== scope) continue
    if (expired(graph, b, now)) {
      if (trace)
        trace.facts.push({ kind: 'binding', binding: b, role: t.role[b] ?? null, member, status: 'expired' })
      continue
    }
    const role = roleOf(graph, b, member)
    const grants = role !== null && role.grants[index] === 1
    if (trace) {
      const status = role === null ? 'unresolved' : grants ? 'grants' : 'counted'
      trace.facts.push({ kind: 'binding', binding: b, role, member, status })
    }
    if (grants) return true
  }
  return false
}

/**
 * Org-scope bindings along the org chain, nearest first. Per slot, only the nearest org where the
 * principal holds a role of that slot counts: a sub-org's roles replace inherited ones, and "None" (no
 * role there) inherits (seed 004). `user` is set for a user's own bindings, which count only where the
 * user is an active member.
 */
function orgGrant(
  graph: GraphView,
  bindings: number,
  chain: readonly OrgNode[],
  index: number,
  now: number,
  user: UserNode | null,
  member: GroupMemberNode | null,
  trace: Trace | null,
): boolean {
  const t = graph.bindings
  let decided = 0
  for (let i = 0; i < chain.length; i++) {
    const org = chain[i]!
    let b = bindings
    while (b !== NONE && t.scope[b] !== org) b = t.pNext[b]!
    if (b === NONE) continue
    if (user !== null && !org.active.has(user.id)) {
      if (trace)
        for (; b !== NONE; b = t.pNext[b]!)
          if (t.scope[b] === org) trace.facts.push(bindingFact(b, member, 'not_member'))
      continue
    }
    let here = 0
    for (; b !== NONE; b = t.pNext[b]!) {
      if (t.scope[b] !== org) continue
      if (expired(graph, b, now)) {
        if (trace) trace.facts.push(bindingFact(b, member, 'expired'))
        continue
      }
      const role = roleOf(graph, b, member)
      if (role === null) {
        if (trace) trace.facts.push(bindingFact(b, member, 'unresolved'))
        continue
      }
      if ((decided & role.slotBit) !== 0) {
        if (trace) trace.facts.push({ kind: 'binding', binding: b, role, member, status: 'replaced' })
        continue
      }
      here |= role.slotBit
      const grants = role.grants[index] === 1
      if (trace)
        trace.facts.push({ kind: 'binding', binding: b, role, member, status: grants ? 'grants' : 'counted' })
      if (grants) return true
    }
    decided |= here
  }
  return false
}

function bindingFact(b: number, member: GroupMemberNode | null, status: BindingStatus): TraceFact {
  return { kind: 'binding', binding: b, role: null, member, status }
}

/**
 * May `user` do `permission` on `resource` (or on `org` itself when resource is null)? Steps 1 to 4 and 6
 * of SPEC 1.2. A permission index of -1 never grants: with a trace, that lists every counted role.
 * `mfa`: this request proved a second factor (`Subject.mfa`), which passes the 2FA gate as `mfaEnabled`.
 */
export function decideForUser(
  graph: GraphView,
  user: UserNode,
  permission: CompiledPermission | null,
  org: OrgNode,
  resource: ResourceNode | null,
  now: number,
  trace: Trace | null,
  mfa = false,
): Decision {
  // 1. Policy gate, over the org and every org above it.
  if (org.gated) {
    if (org.gateMfa && !user.mfaEnabled && !mfa) {
      if (trace) trace.facts.push({ kind: 'policy', org: gateOrg(org, (o) => o.requireMfa), rule: 'mfa' })
      return DENY_MFA
    }
    const policies = org.gatePolicies
    for (let i = 0; i < policies.length; i++) {
      const policyId = policies[i]!
      if (!user.compliant.has(policyId)) {
        if (trace) {
          const where = gateOrg(org, (o) => o.passwordPolicyId === policyId)
          trace.facts.push({ kind: 'policy', org: where, rule: 'password', policyId })
        }
        return DENY_PASSWORD
      }
    }
  }
  const index = permission === null ? -1 : permission.index

  // 3. Overrides, on the resource itself: the user's own decides; else among groups deny beats allow.
  if (resource !== null && permission?.overridable && resource.overrides !== null) {
    let allowedBy: GroupMemberNode | null = null
    let deniedBy: GroupMemberNode | null = null
    for (const o of resource.overrides) {
      if (o.permissionIndex !== index) continue
      const principal = o.principal
      if (principal === user) {
        if (trace) trace.facts.push({ kind: 'override', resource, user, member: null, effect: o.effect })
        return o.effect === 'allow' ? ALLOW_OVERRIDE : DENY_OVERRIDE
      }
      if (!principal.isGroup || deniedBy !== null) continue
      const member = user.groups.get(principal.id)
      if (member === undefined || !groupApplies(member, org, user)) continue
      if (o.effect === 'deny') deniedBy = member
      else allowedBy ??= member
    }
    if (deniedBy !== null) {
      if (trace) trace.facts.push({ kind: 'override', resource, user, member: deniedBy, effect: 'deny' })
      return DENY_OVERRIDE
    }
    if (allowedBy !== null) {
      if (trace) trace.facts.push({ kind: 'override', resource, user, member: allowedBy, effect: 'allow' })
      return ALLOW_OVERRIDE
    }
  }

  // 4. Roles. Without a trace, from the user's access index (access.ts): the same facts, precomputed.
  if (trace === null) {
    if (permission === null) return DENY_NO_GRANT
    ensureAccess(graph, user, now)
    const dense = graph.dense
    const word = permission.word
    const bit = permission.bit
    for (let r = resource; r !== null; r = r.parent) {
      if ((dense.accessBits(user, r.slot, word) & bit) !== 0) return ALLOW_ROLE
    }
    return (dense.accessBits(user, org.slot, word) & bit) !== 0 ? ALLOW_ROLE : DENY_NO_GRANT
  }

  // 4a. Bindings on the resource and the resources above it (union).
  const hasGroups = user.groups.size > 0
  for (let r = resource; r !== null; r = r.parent) {
    if (resourceGrant(graph, user.bindings, r, index, now, null, trace)) return ALLOW_ROLE
    if (hasGroups) {
      for (const member of user.groups.values()) {
        const groupBindings = member.group.bindings
        if (groupBindings === NONE || !groupApplies(member, org, user)) continue
        if (resourceGrant(graph, groupBindings, r, index, now, member, trace)) return ALLOW_ROLE
      }
    }
  }

  // 4b. Org-scope bindings along the org chain, per principal and slot.
  const chain = org.chain
  if (orgGrant(graph, user.bindings, chain, index, now, user, null, trace)) return ALLOW_ROLE
  if (hasGroups) {
    for (const member of user.groups.values()) {
      const groupBindings = member.group.bindings
      if (groupBindings === NONE || !groupApplies(member, org, user)) continue
      if (orgGrant(graph, groupBindings, chain, index, now, null, member, trace)) return ALLOW_ROLE
    }
  }
  return DENY_NO_GRANT
}

/** Whether the policy gate (step 3) lets the user through in `org` (`mfa`: as in `decideForUser`). */
export function passesGate(user: UserNode, org: OrgNode, mfa = false): boolean {
  if (!org.gated) return true
  if (org.gateMfa && !user.mfaEnabled && !mfa) return false
  const policies = org.gatePolicies
  for (let i = 0; i < policies.length; i++) if (!user.compliant.has(policies[i]!)) return false
  return true
}

/** The nearest org of the chain that imposes a rule (for explanations). */
function gateOrg(org: OrgNode, imposes: (o: OrgNode) => boolean): OrgNode {
  return org.chain.find(imposes) ?? org
}

/**
 * An API key: its own state and limits first, then its owner's decision (SPEC 1.2 step 5: the
 * intersection of what the owner may do now and what the key allows).
 */
export function decideForKey(
  graph: GraphView,
  key: ApiKeyNode,
  permission: CompiledPermission,
  org: OrgNode,
  resource: ResourceNode | null,
  now: number,
  trace: Trace | null,
): Decision {
  if (key.revoked) {
    if (trace) trace.facts.push({ kind: 'key', key, rule: 'revoked' })
    return DENY_KEY_REVOKED
  }
  if (key.expiresAt <= now) {
    if (trace) trace.facts.push({ kind: 'key', key, rule: 'expired' })
    return DENY_KEY_EXPIRED
  }
  if (key.orgIds !== null && !org.chain.some((o) => key.orgIds!.has(o.id))) {
    if (trace) trace.facts.push({ kind: 'key', key, rule: 'orgs' })
    return DENY_KEY_SCOPE
  }
  if (key.resourceIds !== null && !withinResources(resource, key.resourceIds)) {
    if (trace) trace.facts.push({ kind: 'key', key, rule: 'resources' })
    return DENY_KEY_SCOPE
  }
  if (key.permissions !== null && !key.permissions.has(permission.key)) {
    if (trace) trace.facts.push({ kind: 'key', key, rule: 'permissions' })
    return DENY_KEY_SCOPE
  }
  return decideForUser(graph, key.owner, permission, org, resource, now, trace)
}

function withinResources(resource: ResourceNode | null, ids: ReadonlySet<string>): boolean {
  for (let r = resource; r !== null; r = r.parent) if (ids.has(r.id)) return true
  return false
}
