import type { RoleHandle } from './compiled-model.ts'
import type { GraphView } from './graph-view.ts'
import {
  type GroupMemberNode,
  NONE,
  OrgNode,
  type ResourceNode,
  type ScopeNode,
  type UserNode,
} from './nodes.ts'

/**
 * The per-user access index: what steps 6 and 7 of the decision procedure (docs/decision-procedure.md)
 * come to for one user, precomputed. For every scope where the user's roles (own and groups') count, one
 * entry: the scope's slot, then the OR of the permission bits (`RoleHandle.bits`) of every role that
 * counts there, after slots, membership, group applicability, team resolution and expiry. Org entries
 * exist for every org a counted role reaches (the bound org and the orgs below it); resource entries for
 * every resource bound directly. A check then ORs nothing: it finds the entry of the target, of each
 * resource above it and of its org, and tests one bit. The entries live in the dense index (dense.ts).
 *
 * The index is exact while (a) nothing it was built from changed and (b) the clock stays inside the
 * window in which no binding it saw crosses its expiry. The graph invalidates a user's index on every
 * change to the user's bindings, memberships and groups, and to the bindings and role of the user's
 * groups; changes that can reach many users (an org moved or its teams switch flipped, a custom role
 * edited, a resource moved to another org, an org deleted) bump `graph.epoch` instead, which stales every
 * index. A stale index is rebuilt by the next check that needs it. The policy gate and overrides are not
 * in the index: a check reads them live.
 */

/** The role a binding gives this principal: a team binding resolves per member (SPEC 1.3). */
export function roleOf(graph: GraphView, b: number, member: GroupMemberNode | null): RoleHandle | null {
  const t = graph.bindings
  const scopeType = t.scope[b]!.type
  let role = t.role[b] ?? null
  if (role === null) {
    if (member === null) return null
    const group = member.group
    const key = group.org.singleRoleTeams ? group.role : (member.memberRole ?? group.role)
    if (key === null) return null
    role = graph.roleFor(graph.compiled.teamRoleKey(key, scopeType), t.orgOf(b)) ?? null
    if (role === null) return null
  }
  return role.live && role.scope === scopeType ? role : null
}

/** A group counts for a check in `org` when it sits in org's chain and its user is an active member there. */
export function groupApplies(member: GroupMemberNode, org: OrgNode, user: UserNode): boolean {
  const groupOrg = member.group.org
  return org.isWithin(groupOrg) && groupOrg.active.has(user.id)
}

/** Rebuilds the user's index if it is stale. */
export function ensureAccess(graph: GraphView, user: UserNode, now: number): void {
  if (
    !graph.dense.accessValid(user, graph.epoch) ||
    (user.accessTimed && (now < user.accessFrom! || now >= user.accessUntil!))
  ) {
    buildAccess(graph, user, now)
  }
}

/** The validity window of an index being built: it stays exact while `from <= now < until`. */
interface Window {
  from: number
  until: number
}

export function seen(graph: GraphView, b: number, now: number, window: Window): boolean {
  const expiresAt = graph.bindings.expiresAt[b]!
  if (expiresAt <= now) {
    if (expiresAt > window.from) window.from = expiresAt
    return false
  }
  if (expiresAt < window.until) window.until = expiresAt
  return true
}

export function orInto(entries: number[], at: number, role: RoleHandle, words: number): void {
  const bits = role.bits
  for (let w = 0; w < words; w++) entries[at + 1 + w] = (entries[at + 1 + w] as number) | bits[w]!
}

/** A principal's bindings grouped by scope, for one build (lists are short; this keeps builds linear). */
type ByScope = Map<ScopeNode, number[]>

export function byScope(graph: GraphView, head: number): ByScope | null {
  if (head === NONE) return null
  const t = graph.bindings
  const map: ByScope = new Map()
  for (let b = head; b !== NONE; b = t.pNext[b]!) {
    const scope = t.scope[b]!
    const list = map.get(scope)
    if (list === undefined) map.set(scope, [b])
    else list.push(b)
  }
  return map
}

/**
 * Org-scope bindings of one principal along `chain`, as `orgGrant` in evaluate.ts counts them: per slot,
 * only the nearest org where the principal holds a live role of that slot; a user's own only where the
 * user is an active member.
 */
export function orgBitsInto(
  graph: GraphView,
  bindings: ByScope,
  chain: readonly OrgNode[],
  now: number,
  user: UserNode | null,
  member: GroupMemberNode | null,
  entries: number[],
  at: number,
  window: Window,
): void {
  const words = graph.compiled.words
  let decided = 0
  for (let i = 0; i < chain.length; i++) {
    const org = chain[i]!
    const list = bindings.get(org)
    if (list === undefined) continue
    if (user !== null && !org.active.has(user.id)) continue
    let here = 0
    for (const b of list) {
      if (!seen(graph, b, now, window)) continue
      const role = roleOf(graph, b, member)
      if (role === null || (decided & role.slotBit) !== 0) continue
      here |= role.slotBit
      orInto(entries, at, role, words)
    }
    decided |= here
  }
}

/** Bindings on one resource: all count (a union). */
export function resourceBitsInto(
  graph: GraphView,
  list: readonly number[] | undefined,
  now: number,
  member: GroupMemberNode | null,
  entries: number[],
  at: number,
  window: Window,
): void {
  if (list === undefined) return
  for (const b of list) {
    if (!seen(graph, b, now, window)) continue
    const role = roleOf(graph, b, member)
    if (role !== null) orInto(entries, at, role, graph.compiled.words)
  }
}

export function addTree(org: OrgNode, into: Set<OrgNode>): void {
  if (into.has(org)) return
  into.add(org)
  for (const child of org.children) addTree(child, into)
}

/** Builds the user's index from the graph (O(the user's bindings and groups' bindings × orgs reached)). */
export function buildAccess(graph: GraphView, user: UserNode, now: number): void {
  const words = graph.compiled.words
  const window: Window = { from: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY }
  const entries: number[] = []
  const own = byScope(graph, user.bindings)
  const groups: { member: GroupMemberNode; bindings: ByScope }[] = []
  for (const member of user.groups.values()) {
    const bindings = byScope(graph, member.group.bindings)
    if (bindings !== null) groups.push({ member, bindings })
  }

  // Scopes: every org where some principal of the user holds an org-scope binding, and every org below
  // it; every resource bound directly.
  const orgs = new Set<OrgNode>()
  const resources = new Set<ResourceNode>()
  for (const bindings of [own, ...groups.map((g) => g.bindings)]) {
    for (const scope of bindings?.keys() ?? []) {
      if (scope instanceof OrgNode) addTree(scope, orgs)
      else resources.add(scope)
    }
  }
  for (const org of orgs) {
    const at = entries.length
    entries.push(org.slot)
    for (let w = 0; w < words; w++) entries.push(0)
    if (own !== null) orgBitsInto(graph, own, org.chain, now, user, null, entries, at, window)
    for (const { member, bindings } of groups) {
      if (groupApplies(member, org, user))
        orgBitsInto(graph, bindings, org.chain, now, null, member, entries, at, window)
    }
    dropIfEmpty(entries, at, words)
  }
  for (const resource of resources) {
    const at = entries.length
    entries.push(resource.slot)
    for (let w = 0; w < words; w++) entries.push(0)
    resourceBitsInto(graph, own?.get(resource), now, null, entries, at, window)
    for (const { member, bindings } of groups) {
      if (groupApplies(member, resource.org, user))
        resourceBitsInto(graph, bindings.get(resource), now, member, entries, at, window)
    }
    dropIfEmpty(entries, at, words)
  }

  // Stored only when bounded: a field that only ever held null and some doubles costs nothing when null.
  const timed = window.from !== Number.NEGATIVE_INFINITY || window.until !== Number.POSITIVE_INFINITY
  user.accessTimed = timed
  user.accessFrom = timed ? window.from : null
  user.accessUntil = timed ? window.until : null
  graph.dense.writeAccess(user, entries, graph.epoch, timed)
}

export function dropIfEmpty(entries: number[], at: number, words: number): void {
  for (let w = 0; w < words; w++) if (entries[at + 1 + w] !== 0) return
  entries.length = at
}
