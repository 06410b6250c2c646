import { BindingTable } from './bindings.ts'
import { invalid } from './change-support.ts'
import type { CompiledModel, RoleHandle } from './compiled-model.ts'
import type { Id, PrincipalRef } from './data.ts'
import { DenseIndex } from './dense.ts'
import type { GraphView } from './graph-view.ts'
import {
  type ApiKeyNode,
  type GroupNode,
  NONE_MAP,
  type OrgNode,
  type Principal,
  type ResourceNode,
  type UserNode,
} from './nodes.ts'

/**
 * The engine's state: every record as a node, indexed for checks. Changes are applied by apply.ts, a
 * module per change kind (change-orgs, change-resources, change-principals, change-bindings); each costs
 * O(what it touches), and deletes cascade as the store's foreign keys do (see `Change`).
 */
export class Graph implements GraphView {
  readonly orgs = new Map<Id, OrgNode>()
  private readonly resourcesById = new NodesById<ResourceNode>()
  private readonly usersById = new NodesById<UserNode>()
  readonly groups = new Map<Id, GroupNode>()
  readonly bindings = new BindingTable()
  readonly apiKeys = new Map<Id, ApiKeyNode>()
  /**
   * Bumped by changes that can stale many users' access indexes at once (access.ts): an org moved, created
   * under another or its teams switch flipped, an org deleted, a custom role edited, a resource moved to
   * another org. Rare writes; every other change clears only the indexes it touches.
   */
  epoch = 0
  /** What a plain check reads, as typed arrays (dense.ts); kept in step by every change. */
  readonly dense: DenseIndex

  constructor(
    readonly compiled: CompiledModel,
    scanLimit?: number,
  ) {
    this.dense = new DenseIndex(compiled.words, compiled.typeDepth, scanLimit)
  }

  get resources(): Map<Id, ResourceNode> {
    return this.resourcesById.all
  }
  get users(): Map<Id, UserNode> {
    return this.usersById.all
  }

  /** Restored resources and users, in order, to be indexed by id later (`NodesById`), into an empty graph. */
  restored(resources: readonly ResourceNode[], users: readonly UserNode[]): void {
    this.resourcesById.defer(resources)
    this.usersById.defer(users)
  }

  /** Indexes up to `budget` more of the restored nodes by id; true once all are (`NodesById.fill`). */
  indexRestored(budget?: number): boolean {
    return this.resourcesById.fill(budget) && this.usersById.fill(budget)
  }

  /** Clears the access index of a user, or of every member of a group (the epoch, for a big group). */
  touch(principal: Principal): void {
    if (!principal.isGroup) this.dense.invalidate(principal)
    else if (principal.members.size > 64) this.epoch++
    else for (const member of principal.members.values()) this.dense.invalidate(member.user)
  }

  // --- lookups that fail on a dangling reference ---------------------------------------------------

  org(id: Id): OrgNode {
    return this.orgs.get(id) ?? invalid(`unknown org "${id}"`, { orgId: id })
  }
  user(id: Id): UserNode {
    return this.users.get(id) ?? invalid(`unknown user "${id}"`, { userId: id })
  }
  group(id: Id): GroupNode {
    return this.groups.get(id) ?? invalid(`unknown group "${id}"`, { groupId: id })
  }
  principal(ref: PrincipalRef): Principal {
    return ref.type === 'group' ? this.group(ref.id) : this.user(ref.id)
  }

  /** The org's handle for a custom role key, created dead if the org has not defined it (yet). */
  customRole(org: OrgNode, key: string): RoleHandle {
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
}

/**
 * Nodes by id, in a Map, except that a restore leaves its nodes in a list, put into the Map on first use or
 * `budget` at a time by `fill` (Authorizer.ownMemory's steps, once the server listens): at 1M bindings the
 * Map inserts of 200k resources and 250k users, and the scavenges of their growing tables, were ~0.25 s of
 * a restore's CPU (issue 25.4). The Map's order is the list's, as it was written.
 */
export class NodesById<T extends { readonly id: Id }> {
  private readonly map = new Map<Id, T>()
  private pending: readonly T[] | null = null
  private next = 0

  /** The Map, every pending node in it first. */
  get all(): Map<Id, T> {
    if (this.pending !== null) this.fill()
    return this.map
  }

  /** `nodes`, none of them in the Map, to be put in it after what it holds, in this order. */
  defer(nodes: readonly T[]): void {
    if (this.pending !== null) this.fill()
    this.pending = nodes.length > 0 ? nodes : null
    this.next = 0
  }

  /** Puts up to `budget` more pending nodes in the Map; true once none is pending. */
  fill(budget = Number.POSITIVE_INFINITY): boolean {
    const pending = this.pending
    if (pending === null) return true
    const map = this.map
    const end = Math.min(pending.length, this.next + budget)
    for (let i = this.next; i < end; i++) map.set(pending[i]!.id, pending[i]!)
    this.next = end
    if (end === pending.length) this.pending = null
    return this.pending === null
  }
}
