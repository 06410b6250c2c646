import type { CompiledPermission } from './compiled-model.ts'
import type { Decision, Id, Target } from './data.ts'
import { ALLOW_OVERRIDE, ALLOW_ROLE, DENY_NO_GRANT, DENY_OVERRIDE } from './decisions.ts'
import { IdTable } from './id-table.ts'
import type { OrgNode, OverrideNode, ResourceNode, UserNode } from './nodes.ts'
import { ownCopy } from './state-codec.ts'

/**
 * Dense copies of what a plain check reads, in typed arrays, so that the common check touches a handful
 * of cache lines instead of a dozen objects scattered over the heap (docs/performance-journal.md).
 *
 * - Every user, org and resource gets a slot number when it is created; orgs and resources share one
 *   numbering (scopes). Slots are never reused: a deleted id leaves its slot dead, so nothing stale can
 *   point at a new node.
 * - `users`, `orgs` and `resources` are id tables (id-table.ts): a lookup by id lands on the record's
 *   fields. A user's: its slot, where its access entries start in `access`, how many there are, the graph
 *   epoch they were built at, and flags (valid, time-bound, two-factor on). A scope's: its slot, its
 *   type's index, its org's slot, its parent's slot (-1 at the top), and where its overrides sit in
 *   `overrides` (-1: none).
 * - `gates`, a byte per scope slot (orgs only): 0 open, 1 two-factor only, 2 a password policy.
 * - `access`: each user's access index (access.ts), as entries of a scope slot and the permission words.
 * - `overrides`: per resource with overrides, their count and then (permission, principal, effect)
 *   triples; a user principal is its slot, a group -1.
 *
 * `check` answers when these arrays decide alone, and returns null otherwise: an unknown id, a user whose
 * index is stale or time-bound, a gate with a password policy or a failing two-factor rule, a group's
 * override on the permission, a resource type more than one level under another. The object walk in
 * evaluate.ts answers those, from the same graph.
 */
export class DenseIndex {
  readonly users = new IdTable(USER_FIELDS)
  readonly orgs = new IdTable(SCOPE_FIELDS)
  readonly resources = new IdTable(SCOPE_FIELDS)
  /** Scope nodes by slot, for walks that start from the arrays (listResources). */
  readonly scopes: (OrgNode | ResourceNode | null)[] = []
  gates = new Uint8Array(1024)
  readonly access: Arena
  /** For users with more than `scanLimit` entries: each entry's offset from the start, by scope slot. */
  private readonly bigAccess = new Map<number, Map<number, number>>()
  readonly overrides: Arena
  /** Slots given to users so far (never reused). */
  userCount = 0
  /** The org slot of the last `check` that returned a decision (read by usage metering). */
  decidedIn = -1
  /** Entries per access index: the scope slot, then `words` permission words. */
  readonly entryStride: number

  /**
   * @param words permission words per entry (`CompiledModel.words`)
   * @param typeDepth per type index, how many resources sit above one of that type (org: -1)
   * @param scanLimit entries beyond which a user's index is looked up through a Map instead of scanned
   */
  constructor(
    readonly words: number,
    private readonly typeDepth: readonly number[],
    private readonly scanLimit = 32,
  ) {
    this.entryStride = 1 + words
    this.access = new Arena((arena) => this.compactAccess(arena))
    this.overrides = new Arena((arena) => this.compactOverrides(arena))
  }

  // --- the check --------------------------------------------------------------------------------

  /**
   * The decision for a user when the arrays alone decide it; null when the object walk must. Never a
   * different answer from the walk: the property tests run both (`AuthorizerOptions.dense`).
   */
  check(userId: Id, permission: CompiledPermission, target: Target, epoch: number): Decision | null {
    // Both lookups before either record is read: the two chains of cache misses can then overlap.
    const onIndex = permission.onIndex
    const scopes = onIndex === 0 ? this.orgs : this.resources
    const user = this.users.find(userId)
    const at = scopes.find(target.id)
    if (user < 0 || at < 0) return null
    const u = this.users.pool
    const flags = u[user + FLAGS]!
    if ((flags & (VALID | TIMED)) !== VALID || u[user + EPOCH] !== epoch) return null
    const s = scopes.pool
    const scope = s[at + SLOT]!
    let org = scope
    let parent = -1
    if (onIndex !== 0) {
      if (s[at + TYPE] !== onIndex) return null
      org = s[at + ORG_SLOT]!
      const depth = this.typeDepth[onIndex]!
      if (depth > 0) {
        if (depth > 1) return null
        parent = s[at + PARENT]!
      }
    }
    this.decidedIn = org
    // 1. The gate, before anything can allow.
    const gate = this.gates[org]!
    if (gate !== OPEN && (gate !== MFA_ONLY || (flags & MFA) === 0)) return null
    // 3. Overrides on the target: the user's own decides; a group's needs the walk.
    if (permission.overridable && onIndex !== 0) {
      const run = s[at + OVERRIDES]!
      if (run >= 0) {
        const data = this.overrides.data
        const end = run + 1 + data[run]! * 3
        const self = u[user + SLOT]
        let groupOverride = false
        for (let i = run + 1; i < end; i += 3) {
          if (data[i] !== permission.index) continue
          const principal = data[i + 1]
          if (principal === self) return data[i + 2] === ALLOW ? ALLOW_OVERRIDE : DENY_OVERRIDE
          if (principal === GROUP) groupOverride = true
        }
        if (groupOverride) return null
      }
    }
    // 4. Roles: one pass over the user's entries for the target, the resource above it and its org.
    const data = this.access.data
    const stride = this.entryStride
    const word = 1 + permission.word
    const bit = permission.bit
    const start = u[user + START]!
    const count = u[user + COUNT]!
    if (count > this.scanLimit) {
      const offsets = this.bigAccess.get(u[user + SLOT]!)!
      for (const where of [scope, parent, org]) {
        const offset = offsets.get(where)
        if (offset !== undefined && (data[start + offset + word]! & bit) !== 0) return ALLOW_ROLE
      }
      return DENY_NO_GRANT
    }
    const end = start + count * stride
    for (let i = start; i < end; i += stride) {
      const where = data[i]
      if (where === scope || where === org || where === parent) {
        if ((data[i + word]! & bit) !== 0) return ALLOW_ROLE
      }
    }
    return DENY_NO_GRANT
  }

  /** Rebuilds the Maps of users with more than `scanLimit` entries (after engine-state.ts restored the arrays). */
  indexBigAccess(): void {
    const pool = this.users.pool
    const stride = this.entryStride
    const data = this.access.data
    this.users.forEach((at) => {
      const count = pool[at + COUNT]!
      if ((pool[at + FLAGS]! & VALID) === 0 || count <= this.scanLimit) return
      const offsets = new Map<number, number>()
      const start = pool[at + START]!
      for (let i = 0; i < count * stride; i += stride) offsets.set(data[start + i]!, i)
      this.bigAccess.set(pool[at + SLOT]!, offsets)
    })
  }

  /** Gives back the spare room of every array (after a bulk load). */
  trim(): void {
    for (const table of [this.users, this.orgs, this.resources]) table.trim()
    this.access.trim()
    this.overrides.trim()
  }

  /** The id of the org a scope lives in (itself, for an org), or null when there is no such scope. */
  orgIdOf(typeIndex: number, id: Id): Id | null {
    if (typeIndex < 0) return null
    const table = typeIndex === 0 ? this.orgs : this.resources
    const at = table.find(id)
    if (at < 0) return null
    const pool = table.pool
    if (typeIndex !== 0 && pool[at + TYPE] !== typeIndex) return null
    return this.scopes[pool[at + ORG_SLOT]!]?.id ?? null
  }

  // --- users and scopes ---------------------------------------------------------------------------

  addUser(user: UserNode): void {
    user.slot = this.userCount++
    const at = this.users.insert(user.id)
    this.users.pool[at + SLOT] = user.slot
  }

  deleteUser(user: UserNode): void {
    this.invalidate(user)
    this.users.delete(user.id)
    user.record = -1
  }

  setMfa(user: UserNode): void {
    const at = this.record(this.users, user) + FLAGS
    const pool = this.users.pool
    pool[at] = user.mfaEnabled ? pool[at]! | MFA : pool[at]! & ~MFA
  }

  addOrg(org: OrgNode): void {
    org.slot = this.newScope(org)
    const at = this.orgs.insert(org.id)
    const pool = this.orgs.pool
    pool[at + SLOT] = org.slot
    pool[at + ORG_SLOT] = org.slot
    pool[at + PARENT] = -1
    pool[at + OVERRIDES] = -1
  }

  deleteOrg(org: OrgNode): void {
    this.orgs.delete(org.id)
    this.scopes[org.slot] = null
  }

  /** After the org's gate changed (graph.refreshChains). */
  setGate(org: OrgNode): void {
    this.gates[org.slot] = !org.gated ? OPEN : org.gatePolicies.length === 0 ? MFA_ONLY : POLICY
  }

  addResource(resource: ResourceNode, typeIndex: number): void {
    resource.slot = this.newScope(resource)
    const at = this.resources.insert(resource.id)
    const pool = this.resources.pool
    pool[at + SLOT] = resource.slot
    pool[at + TYPE] = typeIndex
    pool[at + OVERRIDES] = -1
    this.placeResource(resource)
  }

  /** After a resource's org or parent changed. */
  placeResource(resource: ResourceNode): void {
    const at = this.record(this.resources, resource)
    const pool = this.resources.pool
    pool[at + ORG_SLOT] = resource.org.slot
    pool[at + PARENT] = resource.parent === null ? -1 : resource.parent.slot
  }

  deleteResource(resource: ResourceNode): void {
    this.writeOverrides(resource, null)
    this.resources.delete(resource.id)
    resource.record = -1
    this.scopes[resource.slot] = null
  }

  private newScope(node: OrgNode | ResourceNode): number {
    const slot = this.scopes.length
    this.scopes.push(node)
    if (slot + 1 > this.gates.length) this.gates = grown(this.gates, slot + 1)
    return slot
  }

  // --- overrides ----------------------------------------------------------------------------------

  /** Rewrites the resource's override run from its list. */
  writeOverrides(resource: ResourceNode, list: readonly OverrideNode[] | null): void {
    const field = this.record(this.resources, resource) + OVERRIDES
    const old = this.resources.pool[field]!
    if (old >= 0) this.overrides.free(1 + this.overrides.data[old]! * 3)
    this.resources.pool[field] = -1
    if (list === null || list.length === 0) return
    const run = this.overrides.alloc(1 + list.length * 3)
    const data = this.overrides.data
    data[run] = list.length
    let i = run + 1
    for (const o of list) {
      data[i++] = o.permissionIndex
      data[i++] = o.principal.isGroup ? GROUP : o.principal.slot
      data[i++] = o.effect === 'allow' ? ALLOW : DENY
    }
    this.resources.pool[field] = run
  }

  // --- access indexes -----------------------------------------------------------------------------

  /** Whether the user's index was built at `epoch` and nothing since has staled it. */
  accessValid(user: UserNode, epoch: number): boolean {
    const at = this.users.fieldsOf(user)
    const pool = this.users.pool
    return at >= 0 && (pool[at + FLAGS]! & VALID) !== 0 && pool[at + EPOCH] === epoch
  }

  /** Drops the user's index: the next check rebuilds it. */
  invalidate(user: UserNode): void {
    const at = this.users.fieldsOf(user)
    if (at < 0) return
    const pool = this.users.pool
    if ((pool[at + FLAGS]! & VALID) === 0) return
    const count = pool[at + COUNT]!
    if (count > this.scanLimit) this.bigAccess.delete(user.slot)
    this.access.free(count * this.entryStride)
    pool[at + COUNT] = 0
    pool[at + FLAGS] = pool[at + FLAGS]! & ~(VALID | TIMED)
  }

  /**
   * Stores the user's freshly built index: `entries` is the scope slot and `words` words per entry.
   * `timed` marks an index with an expiry window, which only the object walk reads.
   */
  writeAccess(user: UserNode, entries: readonly number[], epoch: number, timed: boolean): void {
    this.invalidate(user)
    const start = this.access.alloc(entries.length)
    this.access.data.set(entries, start)
    const count = entries.length / this.entryStride
    const at = this.record(this.users, user)
    const pool = this.users.pool
    pool[at + START] = start
    pool[at + COUNT] = count
    pool[at + EPOCH] = epoch
    pool[at + FLAGS] = (pool[at + FLAGS]! & MFA) | VALID | (timed ? TIMED : 0)
    if (count > this.scanLimit) {
      const offsets = new Map<number, number>()
      for (let i = 0; i < entries.length; i += this.entryStride) offsets.set(entries[i]!, i)
      this.bigAccess.set(user.slot, offsets)
    }
  }

  /** Where the user's entries start in `access.data` (valid until the next write of any index). */
  accessStart(user: UserNode): number {
    return this.users.pool[this.record(this.users, user) + START]!
  }

  /** Where they end. */
  accessEnd(user: UserNode): number {
    const at = this.record(this.users, user)
    return this.users.pool[at + START]! + this.users.pool[at + COUNT]! * this.entryStride
  }

  /** Word `word` of the user's permission bits at a scope (0 without an entry there). */
  accessBits(user: UserNode, scope: number, word: number): number {
    const at = this.record(this.users, user)
    const pool = this.users.pool
    const start = pool[at + START]!
    const count = pool[at + COUNT]!
    const data = this.access.data
    if (count > this.scanLimit) {
      const offset = this.bigAccess.get(user.slot)!.get(scope)
      return offset === undefined ? 0 : data[start + offset + 1 + word]!
    }
    const stride = this.entryStride
    for (let i = start, end = start + count * stride; i < end; i += stride)
      if (data[i] === scope) return data[i + 1 + word]!
    return 0
  }

  /** The fields of a record the graph holds a node for: a missing one is a bug, never a silent write. */
  private record(table: IdTable, node: UserNode | ResourceNode): number {
    const at = table.fieldsOf(node)
    if (at < 0) throw new Error(`dense index: no record for "${node.id}"`)
    return at
  }

  private compactAccess(arena: Arena): void {
    const stride = this.entryStride
    const pool = this.users.pool
    arena.repack((copy) => {
      this.users.forEach((at) => {
        if ((pool[at + FLAGS]! & VALID) !== 0)
          pool[at + START] = copy(pool[at + START]!, pool[at + COUNT]! * stride)
      })
    })
  }

  private compactOverrides(arena: Arena): void {
    const pool = this.resources.pool
    arena.repack((copy) => {
      this.resources.forEach((at) => {
        const run = pool[at + OVERRIDES]!
        if (run >= 0) pool[at + OVERRIDES] = copy(run, 1 + arena.data[run]! * 3)
      })
    })
  }
}

// A user's fields.
export const SLOT = 0
export const START = 1
export const COUNT = 2
export const EPOCH = 3
export const FLAGS = 4
export const USER_FIELDS = 5
// A scope's fields (the slot first, as a user's).
export const TYPE = 1
export const ORG_SLOT = 2
export const PARENT = 3
export const OVERRIDES = 4
export const SCOPE_FIELDS = 5
// User flags.
export const VALID = 1
export const TIMED = 2
export const MFA = 4
// Gates.
export const OPEN = 0
export const MFA_ONLY = 1
export const POLICY = 2
// Override runs.
export const GROUP = -1
export const ALLOW = 1
export const DENY = 0

/**
 * Runs of ints in one array, appended at the end; a rewritten run leaves its old place dead until the
 * array is full. Then, if a third of it is dead, a compaction copies the live runs to a fresh array of the
 * same size; else the array grows by half. So the array stays within 1.5 times what is live, and each
 * int appended pays for at most a few copies.
 */
export class Arena {
  data = new Int32Array(1024)
  private top = 0
  private live = 0

  constructor(private readonly compact: (arena: Arena) => void) {}

  alloc(length: number): number {
    if (this.top + length > this.data.length) {
      if (3 * (this.live + length) <= 2 * this.data.length) this.compact(this)
      else this.data = grown(this.data, this.top + length)
    }
    const at = this.top
    this.top += length
    this.live += length
    return at
  }

  free(length: number): void {
    this.live -= length
  }

  trim(): void {
    if (this.data.length > this.top) this.data = this.data.slice(0, Math.max(this.top, 1024))
  }

  /** The runs as they lie (engine-state.ts): the array up to its top, and how much of it is live. */
  raw(): { data: Int32Array; live: number } {
    return { data: this.data.subarray(0, this.top), live: this.live }
  }

  /** Takes `raw.data` as it is (a view of the state's bytes, engine-state.ts); `alloc` grows it when full. */
  restore(raw: { data: Int32Array<ArrayBuffer>; live: number }): void {
    this.top = raw.data.length
    this.live = raw.live
    this.data = this.top >= 1024 ? raw.data : grown(raw.data, 1024)
  }

  /** The runs in memory of their own, if they were a view of a restored state. */
  ownMemory(): void {
    this.data = ownCopy(this.data)
  }

  /** Copies the runs `visit` names into a fresh array of the same size; `copy` returns the new start. */
  repack(visit: (copy: (start: number, length: number) => number) => void): void {
    const from = this.data
    const to = new Int32Array(from.length)
    let top = 0
    visit((start, length) => {
      to.set(from.subarray(start, start + length), top)
      top += length
      return top - length
    })
    this.data = to
    this.top = top
    this.live = top
  }
}

/** A copy of the array, half as long again (and at least `least` long). */
export function grown<T extends Int32Array | Uint8Array>(array: T, least = 0): T {
  const length = Math.max(least, Math.ceil(array.length * 1.5))
  const next = new (array.constructor as new (length: number) => T)(length)
  next.set(array)
  return next
}
