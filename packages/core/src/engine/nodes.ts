import { ORG } from '../model/model.ts'
import type { RoleHandle } from './compiled-model.ts'
import type { Effect, Id } from './data.ts'

/** The end of a list of bindings (bindings.ts), and no binding. */
export const NONE = -1

/**
 * The engine's in-memory graph. Records become nodes that point at each other, so a check walks pointers
 * and a handful of Map lookups, and a change touches only the nodes it names.
 */
export class OrgNode {
  /** A scope's type: `org` here, the resource type on a ResourceNode. */
  readonly type = ORG
  parent: OrgNode | null = null
  children: Set<OrgNode> = NONE_SET as unknown as Set<OrgNode>
  /** This org first, then its ancestors up to the root. */
  chain: OrgNode[] = [this]
  /**
   * `[this]`: the `orgs` of every user who is a member of this org alone, one list for all of them (at 1M
   * bindings, a list per user was 500k of a restore's 1.6M objects). Never changed: graph.ts makes a new list
   * to add or remove an org.
   */
  readonly alone: readonly OrgNode[] = [this]
  creatorId: Id | null = null
  singleRoleTeams = false
  requireMfa = false
  passwordPolicyId: string | null = null
  /** The policy gate over the whole chain, recomputed when an org above changes. */
  gateMfa = false
  /** Either part of the gate applies: one field for checks to read in the common, ungated case. */
  gated = false
  gatePolicies: readonly string[] = []
  readonly resources = new Map<string, Set<ResourceNode>>()
  /** The ids of `resources`, per type, for listResources: built on demand, dropped when they change. */
  resourceIds: Map<string, readonly Id[]> | null = null
  groups: Set<GroupNode> = NONE_SET as unknown as Set<GroupNode>
  /**
   * Members by status, keyed by the users' own id strings. Two Sets rather than one Map of statuses: a Set
   * entry is a slot smaller, and there is one per membership (850k at scale). Most orgs have no pending.
   */
  active = new Set<Id>()
  pending: Set<Id> = NONE_SET as unknown as Set<Id>
  customRoles: Map<string, RoleHandle> = noneMap()
  /** Every binding at this org, any principal: the head of its list in the `BindingTable`. */
  bindings = NONE
  /** Its number among the scopes of the dense index (dense.ts). */
  slot = -1

  constructor(readonly id: Id) {}

  get depth(): number {
    return this.chain.length - 1
  }

  /** Sets the user's status; true when the user was not a member before. */
  setMember(userId: Id, status: 'active' | 'pending'): boolean {
    if (status === 'active') {
      const size = this.active.size
      const was = this.pending.delete(userId)
      this.active.add(userId)
      return !was && this.active.size > size
    }
    const was = this.active.delete(userId)
    if (this.pending === (NONE_SET as unknown)) this.pending = new Set()
    const size = this.pending.size
    this.pending.add(userId)
    return !was && this.pending.size > size
  }

  /** Whether the user was a member. */
  deleteMember(userId: Id): boolean {
    return this.active.delete(userId) || this.pending.delete(userId)
  }

  /** True when `ancestor` is this org or above it. O(1): chains are arrays. */
  isWithin(ancestor: OrgNode): boolean {
    const offset = this.chain.length - ancestor.chain.length
    return offset >= 0 && this.chain[offset] === ancestor
  }
}

export class ResourceNode {
  parent: ResourceNode | null = null
  children: ResourceNode[] | null = null
  /** Overrides on this resource, any principal and permission (a few); null while it has none. */
  overrides: OverrideNode[] | null = null
  /** Every binding on this resource, any principal: the head of its list in the `BindingTable`. */
  bindings = NONE
  /** Its number among the scopes of the dense index (dense.ts). */
  slot = -1
  /** Where its record's fields sit in the dense index's resource table, as of `recordMoves` (IdTable). */
  record = -1
  recordMoves = -1

  constructor(
    readonly id: Id,
    readonly type: string,
    public org: OrgNode,
  ) {}
}

/**
 * Shared empty collections: most principals have no groups, keys or overrides, and a million empty Maps
 * cost tens of megabytes. Never written to: the graph swaps in a real one on the first insert.
 */
class NoneMap extends Map<never, never> {
  override set(): never {
    throw new Error('NONE_MAP is shared by every principal and never written to')
  }
}
class NoneSet extends Set<never> {
  override add(): never {
    throw new Error('NONE_SET is shared by every principal and never written to')
  }
}
export const NONE_MAP: Map<never, never> = new NoneMap()
export const NONE_SET: Set<never> = new NoneSet()
export const noneMap = <K, V>() => NONE_MAP as unknown as Map<K, V>

/** One override, listed on its resource and on its principal. */
export class OverrideNode {
  constructor(
    readonly principal: Principal,
    readonly resource: ResourceNode,
    readonly permissionIndex: number,
    public effect: Effect,
  ) {}
}

/** The shared empty list of a principal without overrides (never written to: replaced on first insert). */
export const NO_OVERRIDES: readonly OverrideNode[] = Object.freeze([])

abstract class PrincipalNode {
  /**
   * Every binding of the principal, any scope, newest first: the head of its list in the `BindingTable`
   * (bindings.ts). A principal holds a handful; checks read the access index (access.ts), built from it.
   */
  bindings = NONE
  overrides: readonly OverrideNode[] = NO_OVERRIDES
  constructor(readonly id: Id) {}
}

export class UserNode extends PrincipalNode {
  readonly isGroup = false
  mfaEnabled = false
  compliant: ReadonlySet<string> = NONE_SET
  /**
   * The orgs where the user is a member (the status is in `OrgNode.members`), for cascading deletes. May be
   * an org's shared `alone` list: replaced, never changed in place.
   */
  orgs: readonly OrgNode[] | null = null
  groups: Map<Id, GroupMemberNode> = noneMap()
  apiKeys: Set<ApiKeyNode> = NONE_SET as unknown as Set<ApiKeyNode>
  /** Its number in the dense index (dense.ts), which holds its access index (access.ts). */
  slot = -1
  /** Where its record's fields sit in the dense index's user table, as of `recordMoves` (IdTable). */
  record = -1
  recordMoves = -1
  /** The access index is exact while `accessFrom <= now < accessUntil` (and the dense index has it). */
  accessFrom: number | null = null
  accessUntil: number | null = null
  /** Whether the window is bounded at all (most users hold no time-bound binding): no clock test if not. */
  accessTimed = false
}

export class GroupNode extends PrincipalNode {
  readonly isGroup = true
  role: string | null = null
  readonly members = new Map<Id, GroupMemberNode>()
  constructor(
    id: Id,
    readonly org: OrgNode,
  ) {
    super(id)
  }
}

export type Principal = UserNode | GroupNode

export class GroupMemberNode {
  constructor(
    readonly group: GroupNode,
    readonly user: UserNode,
    public memberRole: string | null,
  ) {}
}

export type ScopeNode = OrgNode | ResourceNode

export class ApiKeyNode {
  constructor(
    readonly id: Id,
    readonly owner: UserNode,
    /** Epoch ms; Infinity for never. */
    readonly expiresAt: number,
    readonly revoked: boolean,
    readonly orgIds: ReadonlySet<Id> | null,
    readonly resourceIds: ReadonlySet<Id> | null,
    readonly permissions: ReadonlySet<string> | null,
  ) {}
}
