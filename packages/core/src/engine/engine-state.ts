import type { RoleHandle } from './compiled-model.ts'
import type { Graph } from './graph.ts'
import {
  ApiKeyNode,
  GroupMemberNode,
  GroupNode,
  NO_OVERRIDES,
  NONE_SET,
  OrgNode,
  OverrideNode,
  type Principal,
  ResourceNode,
  type ScopeNode,
  UserNode,
} from './nodes.ts'
import { StateReader, StateWriter } from './state-codec.ts'

/**
 * The engine's state as bytes, and back (issue 25.4): what a load from rows builds, taken as it lies, so
 * that an instance restarts without reading a million rows or building anything again.
 *
 * The big structures are written as their typed arrays: the binding columns, the id tables (UUIDs as their
 * 16 bytes; the tables are hashed again under a fresh seed on restore), the dense index's access and
 * override arenas and its gates. Nodes (orgs, resources, users, groups, keys, custom roles, overrides) are
 * written as ints into one stream, strings interned once; numbers (slots, binding numbers, arena offsets)
 * are kept, so the arrays' cross-references stay valid. Collections are written in their order, so a
 * restored engine walks as the one written did.
 *
 * The bytes carry `STATE_FORMAT` and a fingerprint of the model and the engine's code (state-fingerprint.ts,
 * given by the caller: it reads this module's code);
 * `restoreGraph` refuses any other (a state written by another build or for another model). Integrity (a checksum) and freshness (the
 * change feed) are the store's and the server's to check: this only turns a graph into bytes and back.
 */
export const STATE_FORMAT = 1

export const NO = -1
/** A binding's principal when it is a group: -2 - the group's index (users are their index, ≥ 0). */
export const groupCode = (index: number) => -2 - index

/** `graph` as bytes, saying it reflects `revision`, under `fingerprint` (state-fingerprint.ts). */
export function encodeGraph(graph: Graph, revision: number, fingerprint: string): Uint8Array {
  const w = new StateWriter()
  const dense = graph.dense
  const compiled = graph.compiled
  w.header(STATE_FORMAT, fingerprint, revision)

  const userIndex = new Map<UserNode, number>()
  for (const user of graph.users.values()) userIndex.set(user, userIndex.size)
  const orgIndex = new Map<OrgNode, number>()
  for (const org of graph.orgs.values()) orgIndex.set(org, orgIndex.size)
  const resourceIndex = new Map<ResourceNode, number>()
  for (const r of graph.resources.values()) resourceIndex.set(r, resourceIndex.size)
  const groupIndex = new Map<GroupNode, number>()
  for (const g of graph.groups.values()) groupIndex.set(g, groupIndex.size)
  const userById = new Map<string, number>()
  for (const [id, user] of graph.users) userById.set(id, userIndex.get(user)!)
  const userOf = (id: string) => userById.get(id) ?? fail(`member "${id}" has no user`)
  const principalCode = (p: Principal) => (p.isGroup ? groupCode(groupIndex.get(p)!) : userIndex.get(p)!)
  const roleIndex = new Map<RoleHandle, number>()
  for (const role of compiled.roles.values()) roleIndex.set(role, roleIndex.size)

  w.int(graph.epoch)
  w.int(dense.userCount)
  w.int(dense.scopes.length)

  // Nodes first (each kind's count, then its fields), links after: a parent may come after its child.
  w.int(graph.orgs.size)
  for (const org of graph.orgs.values()) {
    w.str(org.id)
    w.int(org.slot)
    w.int(org.bindings)
    w.optStr(org.creatorId)
    w.int((org.singleRoleTeams ? 1 : 0) | (org.requireMfa ? 2 : 0))
    w.optStr(org.passwordPolicyId)
    w.int(org.customRoles.size)
    for (const role of org.customRoles.values()) {
      roleIndex.set(role, roleIndex.size)
      w.str(role.key)
      w.int(role.live ? 1 : 0)
      // A handle never filled (a binding naming a key the org has not defined) has no slot.
      w.optStr(role.slot === '' ? null : role.slot)
      if (role.slot === '') continue
      w.str(role.scope)
      w.f64(role.priority)
      w.strs(role.permissions)
    }
  }
  w.int(graph.resources.size)
  for (const r of graph.resources.values()) {
    w.str(r.id)
    w.int(compiled.types.indexOf(r.type))
    w.int(orgIndex.get(r.org)!)
    w.int(r.slot)
    w.int(r.bindings)
  }
  w.int(graph.users.size)
  for (const user of graph.users.values()) {
    w.str(user.id)
    w.int(user.slot)
    w.int(user.bindings)
    w.int(user.mfaEnabled ? 1 : 0)
    w.strs([...user.compliant])
    w.int(user.accessTimed ? 1 : 0)
    if (user.accessTimed) {
      w.f64(user.accessFrom!)
      w.f64(user.accessUntil!)
    }
  }
  w.int(graph.groups.size)
  for (const group of graph.groups.values()) {
    w.str(group.id)
    w.int(orgIndex.get(group.org)!)
    w.optStr(group.role)
    w.int(group.bindings)
    w.int(group.members.size)
    for (const member of group.members.values()) {
      w.int(userIndex.get(member.user)!)
      w.optStr(member.memberRole)
    }
  }

  // Links, in each collection's own order.
  for (const org of graph.orgs.values()) {
    w.int(org.parent === null ? NO : orgIndex.get(org.parent)!)
    w.list(org.children, (child) => orgIndex.get(child)!)
    w.int(org.resources.size)
    for (const [type, set] of org.resources) {
      w.str(type)
      w.list(set, (r) => resourceIndex.get(r)!)
    }
    w.list(org.active, userOf)
    w.list(org.pending, userOf)
  }
  for (const r of graph.resources.values()) {
    w.int(r.parent === null ? NO : resourceIndex.get(r.parent)!)
    w.list(r.children ?? [], (child) => resourceIndex.get(child)!)
  }
  // Overrides by resource, each numbered in that order; principals list theirs by number.
  const overrideIndex = new Map<OverrideNode, number>()
  for (const r of graph.resources.values()) {
    w.int(r.overrides === null ? NO : r.overrides.length)
    for (const o of r.overrides ?? []) {
      overrideIndex.set(o, overrideIndex.size)
      w.int(principalCode(o.principal))
      w.int(o.permissionIndex)
      w.int(o.effect === 'allow' ? 1 : 0)
    }
  }
  for (const user of graph.users.values()) {
    w.list(user.orgs ?? [], (org) => orgIndex.get(org)!)
    w.int(user.orgs === null ? 0 : 1)
    w.list(user.groups.values(), (member) => groupIndex.get(member.group)!)
    w.list(user.overrides, (o) => overrideIndex.get(o)!)
  }
  for (const group of graph.groups.values()) w.list(group.overrides, (o) => overrideIndex.get(o)!)
  w.int(graph.apiKeys.size)
  for (const key of graph.apiKeys.values()) {
    w.str(key.id)
    w.int(userIndex.get(key.owner)!)
    w.f64(key.expiresAt)
    w.int(key.revoked ? 1 : 0)
    w.optStrs(key.orgIds)
    w.optStrs(key.resourceIds)
    w.optStrs(key.permissions)
  }

  // The binding columns, and each number's principal, role and scope as codes.
  const t = graph.bindings
  const raw = t.raw()
  const top = raw.pNext.length
  const principals = new Int32Array(top)
  const roles = new Int32Array(top)
  const scopes = new Int32Array(top)
  for (let b = 0; b < top; b++) {
    const p = t.principal[b] ?? null
    principals[b] = p === null ? NO : principalCode(p)
    const role = t.role[b] ?? null
    roles[b] = role === null ? NO : (roleIndex.get(role) ?? fail(`binding ${b} names an unknown role`))
    scopes[b] = t.scope[b]?.slot ?? NO
  }
  w.i32s(raw.pNext)
  w.i32s(raw.pPrev)
  w.i32s(raw.sNext)
  w.i32s(raw.sPrev)
  w.f64s(raw.expiresAt)
  w.i32s(raw.idAt)
  w.i32s(principals)
  w.i32s(roles)
  w.i32s(scopes)
  w.int(raw.free)
  idTable(w, raw.ids)
  // The dense index.
  idTable(w, dense.users.raw())
  idTable(w, dense.orgs.raw())
  idTable(w, dense.resources.raw())
  w.u8s(dense.gates.subarray(0, dense.scopes.length))
  for (const arena of [dense.access.raw(), dense.overrides.raw()]) {
    w.i32s(arena.data)
    w.int(arena.live)
  }
  return w.finish()
}

export function idTable(w: StateWriter, raw: { pool: Int32Array; dead: number; size: number }): void {
  w.i32s(raw.pool)
  w.int(raw.dead)
  w.int(raw.size)
}

export function readIdTable(r: StateReader): { pool: Int32Array; dead: number; size: number } {
  return { pool: r.i32s(), dead: r.int(), size: r.int() }
}

/** The revision a state says it reflects, without restoring it (null: not a state of this format). */
export function stateRevision(bytes: Uint8Array): number | null {
  try {
    return new StateReader(bytes).header().revision
  } catch {
    return null
  }
}

/**
 * Restores `bytes` (`encodeGraph`) into `graph`, which must be new and empty. Throws on a state of another
 * format or `fingerprint` (another model or build), or one that does not hold together; the caller then loads from rows. The graph's arrays
 * are views of `bytes` (state-codec.ts), which it writes to from then on: the bytes are the graph's.
 */
export function restoreGraph(graph: Graph, bytes: Uint8Array, fingerprint: string): { revision: number } {
  const r = new StateReader(bytes)
  const compiled = graph.compiled
  const { format, model, revision } = r.header()
  if (format !== STATE_FORMAT) fail(`engine state format ${format}, expected ${STATE_FORMAT}`)
  if (model !== fingerprint) fail('engine state written for another model')
  if (graph.orgs.size + graph.users.size + graph.resources.size !== 0) fail('restore into a new engine only')
  const dense = graph.dense
  graph.epoch = r.int()
  dense.userCount = r.int()
  const scopeCount = r.int()
  const scopeBySlot: (ScopeNode | null)[] = new Array(scopeCount).fill(null)
  const roles: RoleHandle[] = [...compiled.roles.values()]

  const orgs: OrgNode[] = new Array(r.int())
  for (let i = 0; i < orgs.length; i++) {
    const org = new OrgNode(r.str())
    org.slot = r.int()
    org.bindings = r.int()
    org.creatorId = r.optStr()
    const flags = r.int()
    org.singleRoleTeams = (flags & 1) !== 0
    org.requireMfa = (flags & 2) !== 0
    org.passwordPolicyId = r.optStr()
    const customRoles = r.int()
    if (customRoles > 0) org.customRoles = new Map()
    for (let k = 0; k < customRoles; k++) {
      const role = compiled.newRoleHandle(r.str(), org.id)
      const live = r.int() === 1
      const slot = r.optStr()
      if (slot !== null) {
        const scope = r.str()
        const priority = r.f64()
        compiled.fillRole(role, scope, slot, r.strs(), priority)
      }
      role.live = live
      org.customRoles.set(role.key, role)
      roles.push(role)
    }
    orgs[i] = org
    graph.orgs.set(org.id, org)
    scopeBySlot[org.slot] = org
  }
  const resources: ResourceNode[] = new Array(r.int())
  for (let i = 0; i < resources.length; i++) {
    const id = r.str()
    const type = compiled.types[r.int()] ?? fail('a resource of an unknown type')
    const resource = new ResourceNode(id, type, orgs[r.int()]!)
    resource.slot = r.int()
    resource.bindings = r.int()
    resources[i] = resource
    scopeBySlot[resource.slot] = resource
  }
  const users: UserNode[] = new Array(r.int())
  for (let i = 0; i < users.length; i++) {
    const user = new UserNode(r.str())
    user.slot = r.int()
    user.bindings = r.int()
    user.mfaEnabled = r.int() === 1
    const compliant = r.strs()
    if (compliant.length > 0) user.compliant = new Set(compliant)
    if (r.int() === 1) {
      user.accessTimed = true
      user.accessFrom = r.f64()
      user.accessUntil = r.f64()
    }
    users[i] = user
  }
  // Indexed by id on first use, or a slice at a time once the server listens (Graph.indexRestored).
  graph.restored(resources, users)
  const groups: GroupNode[] = new Array(r.int())
  for (let i = 0; i < groups.length; i++) {
    const group = new GroupNode(r.str(), orgs[r.int()]!)
    group.role = r.optStr()
    group.bindings = r.int()
    for (let m = r.int(); m > 0; m--) {
      const user = users[r.int()]!
      group.members.set(user.id, new GroupMemberNode(group, user, r.optStr()))
    }
    if (group.org.groups === (NONE_SET as unknown)) group.org.groups = new Set()
    group.org.groups.add(group)
    groups[i] = group
    graph.groups.set(group.id, group)
  }
  const principal = (code: number): Principal =>
    code >= 0 ? users[code]! : (groups[-2 - code] ?? fail(`no principal ${code}`))

  for (const org of orgs) {
    const parent = r.int()
    org.parent = parent === NO ? null : orgs[parent]!
    const children = r.ints()
    if (children.length > 0) org.children = new Set(Array.from(children, (c) => orgs[c]!))
    for (let types = r.int(); types > 0; types--) {
      const type = r.str()
      org.resources.set(type, new Set(Array.from(r.ints(), (x) => resources[x]!)))
    }
    const active = r.ints()
    if (active.length > 0) {
      const ids: string[] = new Array(active.length)
      for (let k = 0; k < active.length; k++) ids[k] = users[active[k]!]!.id
      // Through the constructor: one builtin call, where an add per member costs one each.
      org.active = new Set(ids)
    }
    const pending = r.ints()
    if (pending.length > 0) org.pending = new Set(Array.from(pending, (u) => users[u]!.id))
  }
  for (const org of orgs) {
    org.chain = org.parent === null ? [org] : []
  }
  for (const org of orgs) chainOf(org)
  for (const org of orgs) gateOf(org)
  for (const resource of resources) {
    const parent = r.int()
    resource.parent = parent === NO ? null : resources[parent]!
    const children = r.int()
    if (children > 0) {
      const list: ResourceNode[] = new Array(children)
      for (let k = 0; k < children; k++) list[k] = resources[r.int()]!
      resource.children = list
    }
  }
  const overrides: OverrideNode[] = []
  for (const resource of resources) {
    const count = r.int()
    if (count === NO) continue
    resource.overrides = []
    for (let k = 0; k < count; k++) {
      const o = new OverrideNode(principal(r.int()), resource, r.int(), r.int() === 1 ? 'allow' : 'deny')
      resource.overrides.push(o)
      overrides.push(o)
    }
  }
  const overrideList = (list: Int32Array) =>
    list.length === 0 ? NO_OVERRIDES : Array.from(list, (o) => overrides[o]!)
  for (const user of users) {
    // Lists read an int at a time: a view per list would cost an object per user.
    const orgCount = r.int()
    let list: readonly OrgNode[]
    if (orgCount === 1) list = orgs[r.int()]!.alone
    else {
      const own: OrgNode[] = new Array(orgCount)
      for (let k = 0; k < orgCount; k++) own[k] = orgs[r.int()]!
      list = own
    }
    if (r.int() === 1) user.orgs = list
    const memberOf = r.int()
    if (memberOf > 0) {
      user.groups = new Map()
      for (let k = 0; k < memberOf; k++) {
        const group = groups[r.int()]!
        user.groups.set(group.id, group.members.get(user.id) ?? fail('a group membership on one side only'))
      }
    }
    if (r.peek() === 0) r.int()
    else user.overrides = overrideList(r.ints())
  }
  for (const group of groups) group.overrides = overrideList(r.ints())
  for (let k = r.int(); k > 0; k--) {
    const id = r.str()
    const owner = users[r.int()]!
    const expiresAt = r.f64()
    const revoked = r.int() === 1
    const orgIds = r.optStrs()
    const resourceIds = r.optStrs()
    const permissions = r.optStrs()
    const key = new ApiKeyNode(
      id,
      owner,
      expiresAt,
      revoked,
      orgIds && new Set(orgIds),
      resourceIds && new Set(resourceIds),
      permissions && new Set(permissions),
    )
    graph.apiKeys.set(id, key)
    if (owner.apiKeys === (NONE_SET as unknown)) owner.apiKeys = new Set()
    owner.apiKeys.add(key)
  }

  const raw = {
    pNext: r.i32s(),
    pPrev: r.i32s(),
    sNext: r.i32s(),
    sPrev: r.i32s(),
    expiresAt: r.f64s(),
    idAt: r.i32s(),
  }
  const principalCodes = r.i32s()
  const roleCodes = r.i32s()
  const scopeCodes = r.i32s()
  const free = r.int()
  const ids = readIdTable(r)
  const top = raw.pNext.length
  const bPrincipal: (Principal | null)[] = new Array(top)
  const bRole: (RoleHandle | null)[] = new Array(top)
  const bScope: (ScopeNode | null)[] = new Array(top)
  for (let b = 0; b < top; b++) {
    const p = principalCodes[b]!
    bPrincipal[b] = p === NO ? null : principal(p)
    const role = roleCodes[b]!
    bRole[b] = role === NO ? null : (roles[role] ?? fail(`binding ${b}: no role ${role}`))
    const scope = scopeCodes[b]!
    bScope[b] = scope === NO ? null : (scopeBySlot[scope] ?? fail(`binding ${b}: no scope ${scope}`))
  }
  graph.bindings.restore({ ...raw, ids, free }, bPrincipal, bRole, bScope)

  dense.users.restore(readIdTable(r))
  dense.orgs.restore(readIdTable(r))
  dense.resources.restore(readIdTable(r))
  const gates = r.u8s()
  dense.gates = new Uint8Array(Math.max(1024, scopeCount))
  dense.gates.set(gates)
  dense.scopes.length = 0
  for (const scope of scopeBySlot) dense.scopes.push(scope)
  dense.access.restore({ data: r.i32s(), live: r.int() })
  dense.overrides.restore({ data: r.i32s(), live: r.int() })
  dense.indexBigAccess()
  r.end()
  return { revision }
}

/** The chain of an org (itself, then its ancestors), computed parents first. */
export function chainOf(org: OrgNode): OrgNode[] {
  if (org.chain.length > 0) return org.chain
  org.chain = [org, ...chainOf(org.parent!)]
  return org.chain
}

/** The org's policy gate over its chain, as change-orgs' refreshChains computes it (the dense gates are restored). */
export function gateOf(org: OrgNode): void {
  const policies: string[] = []
  for (let i = org.chain.length - 1; i >= 0; i--) {
    const id = org.chain[i]!.passwordPolicyId
    if (id !== null && !policies.includes(id)) policies.push(id)
  }
  org.gateMfa = org.chain.some((o) => o.requireMfa)
  org.gatePolicies = policies
  org.gated = org.gateMfa || policies.length > 0
}

export function fail(message: string): never {
  throw new Error(`engine state: ${message}`)
}
