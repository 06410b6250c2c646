import { OrgkitError } from '../errors.ts'
import { ORG, TEAM_ROLE } from '../model/model.ts'
import { BindingTable } from './bindings.ts'
import type { CompiledModel, RoleHandle } from './compiled-model.ts'
import type {
  ApiKeyRecord,
  BindingRecord,
  Change,
  CustomRoleRecord,
  GroupRecord,
  Id,
  OrgRecord,
  OverrideRecord,
  PrincipalRef,
  ResourceRecord,
  Snapshot,
  SnapshotPart,
  UserRecord,
} from './data.ts'
import { SNAPSHOT_KINDS } from './data.ts'
import { DenseIndex } from './dense.ts'
import type { GraphView } from './graph-view.ts'
import {
  ApiKeyNode,
  GroupMemberNode,
  GroupNode,
  NO_OVERRIDES,
  NONE,
  NONE_MAP,
  NONE_SET,
  OrgNode,
  OverrideNode,
  type Principal,
  ResourceNode,
  UserNode,
} from './nodes.ts'

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new OrgkitError('INVALID_CHANGE', message, details)
}

/**
 * The engine's state: every record as a node, indexed for checks, and kept current by `apply`. Each change
 * costs O(what it touches); deletes cascade as the store's foreign keys do (see `Change`).
 */
export class Graph implements GraphView {
  readonly orgs = new Map<Id, OrgNode>()
  readonly resources = new Map<Id, ResourceNode>()
  readonly users = new Map<Id, UserNode>()
  readonly groups = new Map<Id, GroupNode>()
  readonly bindings = new BindingTable()
  readonly apiKeys = new Map<Id, ApiKeyNode>()
  /**
   * Bumped by changes that can stale many users' access indexes at once (access.ts): an org moved, created
   * under another or its teams switch flipped, an org deleted, a custom role edited, a resource moved to
   * another org. Rare writes; every other change clears only the indexes it touches.
   */
  epoch = 0
  /** What a plain check reads, as typed arrays (dense.ts); kept in step by every change below. */
  readonly dense: DenseIndex

  constructor(
    readonly compiled: CompiledModel,
    scanLimit?: number,
  ) {
    this.dense = new DenseIndex(compiled.words, compiled.typeDepth, scanLimit)
  }

  load(snapshot: Snapshot): void {
    const loader = this.loader()
    for (const kind of SNAPSHOT_KINDS) loader.add({ kind, records: snapshot[kind] } as SnapshotPart)
    loader.end()
  }

  /**
   * Takes a snapshot in parts, kind by kind in `SNAPSHOT_KINDS` order. Orgs and resources may come before
   * their parents: such a record waits until its parent arrives, and one still waiting when its kind ends
   * (a missing parent, or a cycle) makes the load throw.
   */
  loader(): { add(part: SnapshotPart): void; end(): void } {
    let at = 0
    const waiting = new Map<Id, (OrgRecord | ResourceRecord)[]>()
    const tree = <T extends OrgRecord | ResourceRecord>(
      records: readonly T[],
      loaded: ReadonlyMap<Id, unknown>,
      put: (record: T) => void,
    ) => {
      for (const record of records) {
        if (record.parentId !== null && !loaded.has(record.parentId)) {
          const siblings = waiting.get(record.parentId)
          if (siblings) siblings.push(record)
          else waiting.set(record.parentId, [record])
          continue
        }
        // The record, then whatever waited for it, and for those, depth first.
        const ready: T[] = [record]
        for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
          put(next)
          const children = waiting.get(next.id)
          if (children) {
            waiting.delete(next.id)
            ready.push(...(children as T[]))
          }
        }
      }
    }
    const settle = () => {
      for (const [parentId, [child]] of waiting)
        invalid(`"${child!.id}" names parent "${parentId}", which is missing or in a cycle with it`)
    }
    return {
      add: (part) => {
        const kind = SNAPSHOT_KINDS.indexOf(part.kind)
        if (kind < at) invalid(`snapshot part "${part.kind}" after "${SNAPSHOT_KINDS[at]}"`)
        if (kind > at) settle()
        at = kind
        switch (part.kind) {
          case 'orgs':
            return tree(part.records, this.orgs, (org) => this.putOrg(org))
          case 'resources':
            return tree(part.records, this.resources, (r) => this.putResource(r))
          case 'users':
            for (const user of part.records) this.putUser(user)
            return
          case 'memberships':
            for (const membership of part.records) this.apply({ op: 'membership.put', membership })
            return
          case 'roles':
            for (const role of part.records) this.putRole(role)
            return
          case 'groups':
            for (const group of part.records) this.putGroup(group)
            return
          case 'groupMembers':
            for (const member of part.records) this.apply({ op: 'groupMember.put', member })
            return
          case 'bindings':
            for (const binding of part.records) this.putBinding(binding)
            return
          case 'overrides':
            for (const override of part.records) this.putOverride(override)
            return
          case 'apiKeys':
            for (const apiKey of part.records) this.putApiKey(apiKey)
            return
        }
      },
      end: settle,
    }
  }

  apply(change: Change): void {
    switch (change.op) {
      case 'org.put':
        this.putOrg(change.org)
        return
      case 'org.delete':
        this.deleteOrg(this.orgs.get(change.id))
        return
      case 'resource.put':
        this.putResource(change.resource)
        return
      case 'resource.delete':
        this.deleteResource(this.resources.get(change.id))
        return
      case 'user.put':
        this.putUser(change.user)
        return
      case 'user.delete':
        this.deleteUser(this.users.get(change.id))
        return
      case 'membership.put': {
        const { orgId, userId, status } = change.membership
        const org = this.org(orgId)
        const user = this.user(userId)
        // Keys are the nodes' own id strings: the records' copies can then be collected.
        if (org.setMember(user.id, status))
          user.orgs = user.orgs === null ? org.alone : append(user.orgs, org)
        this.dense.invalidate(user)
        return
      }
      case 'membership.delete': {
        const org = this.orgs.get(change.orgId)
        const user = this.users.get(change.userId)
        if (org && user && org.deleteMember(user.id)) {
          leave(user, org)
          this.dense.invalidate(user)
        }
        return
      }
      case 'group.put':
        this.putGroup(change.group)
        return
      case 'group.delete':
        this.deleteGroup(this.groups.get(change.id))
        return
      case 'groupMember.put': {
        const { groupId, userId, memberRole } = change.member
        const group = this.group(groupId)
        const user = this.user(userId)
        const existing = group.members.get(userId)
        this.dense.invalidate(user)
        if (existing) existing.memberRole = memberRole ?? null
        else {
          const member = new GroupMemberNode(group, user, memberRole ?? null)
          group.members.set(user.id, member)
          if (user.groups === (NONE_MAP as unknown)) user.groups = new Map()
          user.groups.set(group.id, member)
        }
        return
      }
      case 'groupMember.delete': {
        this.groups.get(change.groupId)?.members.delete(change.userId)
        const user = this.users.get(change.userId)
        if (user) {
          user.groups.delete(change.groupId)
          this.dense.invalidate(user)
        }
        return
      }
      case 'binding.put':
        this.putBinding(change.binding)
        return
      case 'binding.delete':
        this.deleteBinding(this.bindings.find(change.id))
        return
      case 'override.put':
        this.putOverride(change.override)
        return
      case 'override.delete':
        this.deleteOverride(change.principal, change.resourceId, change.permission)
        return
      case 'apiKey.put':
        this.putApiKey(change.apiKey)
        return
      case 'apiKey.delete': {
        const key = this.apiKeys.get(change.id)
        if (key) this.deleteApiKey(key)
        return
      }
      case 'role.put':
        this.putRole(change.role)
        return
      case 'role.delete': {
        const role = this.orgs.get(change.orgId)?.customRoles.get(change.key)
        // The handle stays, dead, so bindings still naming the key come back to life if it is re-created.
        if (role) {
          role.live = false
          this.epoch++
        }
        return
      }
      default:
        invalid(`unknown change ${(change as { op: string }).op}`)
    }
  }

  /** Clears the access index of a user, or of every member of a group (the epoch, for a big group). */
  private touch(principal: Principal): void {
    if (!principal.isGroup) this.dense.invalidate(principal)
    else if (principal.members.size > 64) this.epoch++
    else for (const member of principal.members.values()) this.dense.invalidate(member.user)
  }

  // --- lookups that fail on a dangling reference ---------------------------------------------------

  private org(id: Id): OrgNode {
    return this.orgs.get(id) ?? invalid(`unknown org "${id}"`, { orgId: id })
  }
  private user(id: Id): UserNode {
    return this.users.get(id) ?? invalid(`unknown user "${id}"`, { userId: id })
  }
  private group(id: Id): GroupNode {
    return this.groups.get(id) ?? invalid(`unknown group "${id}"`, { groupId: id })
  }
  private principal(ref: PrincipalRef): Principal {
    return ref.type === 'group' ? this.group(ref.id) : this.user(ref.id)
  }

  /** The org's handle for a custom role key, created dead if the org has not defined it (yet). */
  private customRole(org: OrgNode, key: string): RoleHandle {
    let role = org.customRoles.get(key)
    if (!role) {
      role = this.compiled.newRoleHandle(key, org.id)
      if (org.customRoles === (NONE_MAP as unknown)) org.customRoles = new Map()
      org.customRoles.set(key, role)
    }
    return role
  }

  /** A role key as a binding at `org` means it: the model's role, or that org's custom role. */
  roleFor(key: string, org: OrgNode): RoleHandle | undefined {
    return this.compiled.roles.get(key) ?? org.customRoles.get(key)
  }

  // --- orgs --------------------------------------------------------------------------------------

  private putOrg(record: OrgRecord): void {
    let org = this.orgs.get(record.id)
    const parent = record.parentId === null ? null : this.org(record.parentId)
    if (org && parent?.isWithin(org)) invalid(`moving org "${record.id}" under itself makes a cycle`)
    const singleRoleTeams = record.singleRoleTeams === true
    if (!org) {
      org = new OrgNode(record.id)
      this.orgs.set(org.id, org)
      this.dense.addOrg(org)
      // A new sub-org inherits roles bound above it: their holders' indexes need an entry for it.
      if (parent !== null) this.epoch++
    } else if (org.parent !== parent || org.singleRoleTeams !== singleRoleTeams) this.epoch++
    org.creatorId = record.creatorId ?? null
    org.singleRoleTeams = singleRoleTeams
    org.requireMfa = record.requireMfa === true
    org.passwordPolicyId = record.passwordPolicyId ?? null
    if (org.parent !== parent) {
      org.parent?.children.delete(org)
      org.parent = parent
      if (parent !== null) {
        if (parent.children === (NONE_SET as unknown)) parent.children = new Set()
        parent.children.add(org)
      }
    }
    this.refreshChains(org)
  }

  /** Recomputes the chain and policy gate of `org` and everything below it. */
  private refreshChains(org: OrgNode): void {
    const parent = org.parent
    org.chain = parent ? [org, ...parent.chain] : [org]
    org.gateMfa = org.requireMfa || (parent?.gateMfa ?? false)
    const policies = parent ? [...parent.gatePolicies] : []
    if (org.passwordPolicyId !== null && !policies.includes(org.passwordPolicyId))
      policies.push(org.passwordPolicyId)
    org.gatePolicies = policies
    org.gated = org.gateMfa || policies.length > 0
    this.dense.setGate(org)
    for (const child of org.children) this.refreshChains(child)
  }

  private deleteOrg(org: OrgNode | undefined): void {
    if (!org) return
    this.epoch++
    for (const child of [...org.children]) this.deleteOrg(child)
    for (const resources of org.resources.values()) {
      for (const resource of [...resources]) if (resource.parent === null) this.deleteResource(resource)
    }
    for (const group of [...org.groups]) this.deleteGroup(group)
    this.deleteScopeBindings(org.bindings)
    for (const userId of [...org.active, ...org.pending]) {
      const user = this.users.get(userId)
      if (user) leave(user, org)
    }
    for (const role of org.customRoles.values()) role.live = false
    org.parent?.children.delete(org)
    this.orgs.delete(org.id)
    this.dense.deleteOrg(org)
  }

  // --- resources -----------------------------------------------------------------------------------

  private putResource(record: ResourceRecord): void {
    const def = Object.hasOwn(this.compiled.model.resourceTypes, record.type)
      ? this.compiled.model.resourceTypes[record.type]
      : undefined
    if (!def) invalid(`unknown resource type "${record.type}"`, { type: record.type })
    const org = this.org(record.orgId)
    let parent: ResourceNode | null = null
    if (def.parent === ORG) {
      if (record.parentId !== null)
        invalid(`a ${record.type} sits directly under its org, not under a resource`)
    } else {
      if (record.parentId === null) invalid(`a ${record.type} needs a parent ${def.parent}`)
      parent = this.resources.get(record.parentId!) ?? invalid(`unknown resource "${record.parentId}"`)
      if (parent.type !== def.parent)
        invalid(`a ${record.type}'s parent must be a ${def.parent}, not a ${parent.type}`)
      if (parent.org !== org) invalid(`resource "${record.id}" and its parent are in different orgs`)
    }
    let resource = this.resources.get(record.id)
    if (resource && resource.type !== record.type) invalid(`resource "${record.id}" cannot change type`)
    if (!resource) {
      resource = new ResourceNode(record.id, record.type, org)
      this.resources.set(resource.id, resource)
      this.dense.addResource(resource, this.compiled.types.indexOf(resource.type))
      setOf(org.resources, resource.type).add(resource)
      org.resourceIds = null
    }
    if (resource.parent !== parent) {
      if (resource.parent?.children) removeFrom(resource.parent.children, resource)
      resource.parent = parent
      if (parent) {
        parent.children = append(parent.children, resource)
      }
      this.dense.placeResource(resource)
    }
    if (resource.org !== org) {
      this.rehome(resource, org)
      this.epoch++
    }
  }

  /** Moves a resource and everything below it to another org (an app transfer). */
  private rehome(resource: ResourceNode, org: OrgNode): void {
    resource.org.resources.get(resource.type)?.delete(resource)
    resource.org.resourceIds = null
    resource.org = org
    this.dense.placeResource(resource)
    setOf(org.resources, resource.type).add(resource)
    org.resourceIds = null
    // A custom role key means the role of the org the binding lives in: now the new org's.
    const t = this.bindings
    for (let b = resource.bindings; b !== NONE; b = t.sNext[b]!) {
      const role = t.role[b] ?? null
      if (role !== null && role.orgId !== null) t.role[b] = this.customRole(org, role.key)
    }
    for (const child of resource.children ?? []) this.rehome(child, org)
  }

  private deleteResource(resource: ResourceNode | undefined): void {
    if (!resource) return
    for (const child of [...(resource.children ?? [])]) this.deleteResource(child)
    this.deleteScopeBindings(resource.bindings)
    for (const o of resource.overrides ?? []) removeFrom(o.principal.overrides as OverrideNode[], o)
    if (resource.parent?.children) removeFrom(resource.parent.children, resource)
    resource.org.resources.get(resource.type)?.delete(resource)
    resource.org.resourceIds = null
    this.resources.delete(resource.id)
    this.dense.deleteResource(resource)
  }

  // --- users, groups, roles, keys ----------------------------------------------------------------

  private putUser(record: UserRecord): void {
    let user = this.users.get(record.id)
    if (!user) {
      user = new UserNode(record.id)
      this.users.set(user.id, user)
      this.dense.addUser(user)
    }
    user.mfaEnabled = record.mfaEnabled
    this.dense.setMfa(user)
    const compliant = record.compliantPasswordPolicies ?? []
    user.compliant = compliant.length === 0 ? (NONE_SET as ReadonlySet<string>) : new Set(compliant)
  }

  private deleteUser(user: UserNode | undefined): void {
    if (!user) return
    this.deletePrincipal(user)
    for (const org of user.orgs ?? []) org.deleteMember(user.id)
    for (const member of user.groups.values()) member.group.members.delete(user.id)
    for (const key of [...user.apiKeys]) this.deleteApiKey(key)
    this.users.delete(user.id)
    this.dense.deleteUser(user)
  }

  private putGroup(record: GroupRecord): void {
    const org = this.org(record.orgId)
    let group = this.groups.get(record.id)
    if (group && group.org !== org) invalid(`group "${record.id}" cannot move to another org`)
    if (!group) {
      group = new GroupNode(record.id, org)
      this.groups.set(group.id, group)
      if (org.groups === (NONE_SET as unknown)) org.groups = new Set()
      org.groups.add(group)
    }
    group.role = record.role ?? null
    this.touch(group)
  }

  private deleteGroup(group: GroupNode | undefined): void {
    if (!group) return
    this.touch(group)
    this.deletePrincipal(group)
    for (const member of group.members.values()) member.user.groups.delete(group.id)
    group.org.groups.delete(group)
    this.groups.delete(group.id)
  }

  /** Removes a principal's bindings and overrides. */
  private deletePrincipal(principal: Principal): void {
    const t = this.bindings
    for (let b = principal.bindings; b !== NONE; ) {
      const next = t.pNext[b]!
      this.deleteBinding(b)
      b = next
    }
    for (const o of principal.overrides) {
      const list = o.resource.overrides!
      removeFrom(list, o)
      if (list.length === 0) o.resource.overrides = null
      this.dense.writeOverrides(o.resource, o.resource.overrides)
    }
    principal.overrides = NO_OVERRIDES
  }

  private putRole(record: CustomRoleRecord): void {
    const org = this.org(record.orgId)
    if (this.compiled.roles.has(record.key)) {
      invalid(`role key "${record.key}" is a built-in role of the model`, { role: record.key })
    }
    const role = this.customRole(org, record.key)
    this.epoch++
    this.compiled.fillRole(role, record.scope, record.slot, record.permissions, record.priority)
  }

  private putApiKey(record: ApiKeyRecord): void {
    const owner = this.user(record.ownerId)
    const existing = this.apiKeys.get(record.id)
    if (existing) this.deleteApiKey(existing)
    const key = new ApiKeyNode(
      record.id,
      owner,
      record.expiresAt ?? Number.POSITIVE_INFINITY,
      record.revoked === true,
      record.orgIds ? new Set(record.orgIds) : null,
      record.resourceIds ? new Set(record.resourceIds) : null,
      record.permissions ? new Set(record.permissions) : null,
    )
    this.apiKeys.set(key.id, key)
    if (owner.apiKeys === (NONE_SET as unknown)) owner.apiKeys = new Set()
    owner.apiKeys.add(key)
  }

  private deleteApiKey(key: ApiKeyNode): void {
    key.owner.apiKeys.delete(key)
    this.apiKeys.delete(key.id)
  }

  // --- bindings ------------------------------------------------------------------------------------

  private putBinding(record: BindingRecord): void {
    const principal = this.principal(record.principal)
    const scopeOrg = record.scope.type === ORG ? this.org(record.scope.id) : null
    const scopeResource =
      scopeOrg === null
        ? (this.resources.get(record.scope.id) ?? invalid(`unknown resource "${record.scope.id}"`))
        : null
    if (scopeResource && scopeResource.type !== record.scope.type) {
      invalid(`resource "${record.scope.id}" is a ${scopeResource.type}, not a ${record.scope.type}`)
    }
    const org = (scopeOrg ?? scopeResource!.org) as OrgNode
    let role: RoleHandle | null = null
    if (record.role === TEAM_ROLE) {
      if (!principal.isGroup) invalid(`only a group can hold the "${TEAM_ROLE}" role`)
    } else {
      const builtIn = this.compiled.roles.get(record.role)
      if (builtIn && builtIn.scope !== record.scope.type) {
        throw new OrgkitError(
          'ROLE_SCOPE_MISMATCH',
          `role "${record.role}" binds at ${builtIn.scope}, not at ${record.scope.type}`,
          { role: record.role, scope: record.scope.type },
        )
      }
      // Anything else names a custom role of the org: resolved lazily, so a binding may outlive its role
      // (then it grants nothing) exactly as it does in the database, and a fresh load agrees with apply.
      role = builtIn ?? this.customRole(org, record.role)
    }
    const scope = scopeOrg ?? scopeResource!
    // Only now, with the new binding known to be valid: a put that throws leaves the old one in place.
    const t = this.bindings
    this.deleteBinding(t.find(record.id))
    const b = t.add(record.id, principal, role, scope, record.expiresAt ?? Number.POSITIVE_INFINITY)
    this.touch(principal)
    const pHead = principal.bindings
    if (pHead !== NONE) {
      t.pNext[b] = pHead
      t.pPrev[pHead] = b
    }
    principal.bindings = b
    const sHead = scope.bindings
    if (sHead !== NONE) {
      t.sNext[b] = sHead
      t.sPrev[sHead] = b
    }
    scope.bindings = b
  }

  private deleteBinding(b: number): void {
    const t = this.bindings
    if (!t.isLive(b)) return
    const principal = t.principal[b]!
    const scope = t.scope[b]!
    this.touch(principal)
    const pPrev = t.pPrev[b]!
    const pNext = t.pNext[b]!
    if (pPrev !== NONE) t.pNext[pPrev] = pNext
    else principal.bindings = pNext
    if (pNext !== NONE) t.pPrev[pNext] = pPrev
    const sPrev = t.sPrev[b]!
    const sNext = t.sNext[b]!
    if (sPrev !== NONE) t.sNext[sPrev] = sNext
    else scope.bindings = sNext
    if (sNext !== NONE) t.sPrev[sNext] = sPrev
    t.remove(b)
  }

  private deleteScopeBindings(head: number): void {
    const t = this.bindings
    for (let b = head; b !== NONE; ) {
      const next = t.sNext[b]!
      this.deleteBinding(b)
      b = next
    }
  }

  // --- overrides -----------------------------------------------------------------------------------

  private putOverride(record: OverrideRecord): void {
    const resource =
      this.resources.get(record.resourceId) ?? invalid(`unknown resource "${record.resourceId}"`)
    const permission = this.compiled.permissionFor(record.permission, resource.type)
    if (!permission.overridable) {
      invalid(`permission "${record.permission}" cannot be overridden`, { permission: record.permission })
    }
    const principal = this.principal(record.principal)
    const existing = findOverride(resource, principal, permission.index)
    if (existing) existing.effect = record.effect
    else {
      const override = new OverrideNode(principal, resource, permission.index, record.effect)
      resource.overrides = append(resource.overrides, override)
      principal.overrides = append(principal.overrides as OverrideNode[], override)
    }
    this.dense.writeOverrides(resource, resource.overrides)
  }

  private deleteOverride(ref: PrincipalRef, resourceId: Id, permissionKey: string): void {
    const resource = this.resources.get(resourceId)
    const permission = this.compiled.permissions.get(permissionKey)
    if (!resource || !permission) return
    const principal = ref.type === 'group' ? this.groups.get(ref.id) : this.users.get(ref.id)
    const override = principal && findOverride(resource, principal, permission.index)
    if (!override) return
    removeFrom(resource.overrides!, override)
    if (resource.overrides!.length === 0) resource.overrides = null
    removeFrom(principal.overrides as OverrideNode[], override)
    this.dense.writeOverrides(resource, resource.overrides)
  }
}

function findOverride(resource: ResourceNode, principal: Principal, index: number): OverrideNode | undefined {
  return resource.overrides?.find((o) => o.principal === principal && o.permissionIndex === index)
}

/**
 * Appends. Short arrays are replaced by an exactly sized copy: `push` reserves 16 spare slots, and the
 * graph holds hundreds of thousands of such arrays (a user's orgs, a resource's overrides, an app's
 * channels) that rarely grow.
 */
function append<T>(array: readonly T[] | null, item: T): T[] {
  if (array === null) return [item]
  if (array.length < 16) return array.concat([item])
  const grown = array as T[]
  grown.push(item)
  return grown
}

/** Takes `org` out of the user's orgs: a new list, as the one there may be shared (`OrgNode.alone`). */
function leave(user: UserNode, org: OrgNode): void {
  user.orgs = user.orgs!.filter((o) => o !== org)
}

function removeFrom<T>(array: T[], item: T): void {
  const at = array.indexOf(item)
  if (at >= 0) array.splice(at, 1)
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  return set
}
