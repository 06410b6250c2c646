import type { CompiledPermission } from './compiled-model.ts'
import type { Decision, Id, Target } from './data.ts'
import { ALLOW_OVERRIDE, ALLOW_ROLE, DENY_NO_GRANT, DENY_OVERRIDE } from './evaluate.ts'
import type { OrgNode, OverrideNode, ResourceNode, UserNode } from './nodes.ts'

/**
 * Dense copies of what a plain check reads, in typed arrays indexed by slot numbers, so that the common
 * check touches a few cache lines instead of a dozen objects scattered over the heap (docs/performance.md).
 *
 * - Every user, org and resource gets a slot when it is created; orgs and resources share one numbering
 *   (scopes). Slots are never reused: a deleted id leaves its slot dead, so nothing stale can point at a
 *   new node. The id → slot Maps are what a check looks up; their keys are copied into one run at load.
 * - `scopeRows`, four ints a scope: its type's index, its org's slot, its parent's slot (-1 at the top),
 *   and where its overrides sit in `overrides` (-1: none).
 * - `gates`, a byte per scope (orgs only): 0 open, 1 two-factor only, 2 a password policy.
 * - `userRows`, four ints a user: where the user's access entries start in `access`, how many there are,
 *   the graph epoch they were built at, and flags (valid, time-bound, two-factor on).
 * - `access`: each user's access index (access.ts) as entries of a scope slot and the permission words.
 * - `overrides`: per resource with overrides, their count and then (permission, principal, effect)
 *   triples; a user principal is its slot, a group -1.
 *
 * `check` answers when these arrays decide alone, and returns null otherwise: an unknown id, a user whose
 * index is stale or time-bound, a gate with a password policy or a failing two-factor rule, a group's
 * override on the permission. The object walk in evaluate.ts answers those, from the same graph.
 */
export class DenseIndex {
  readonly userSlots = new Map<Id, number>()
  readonly orgSlots = new Map<Id, number>()
  readonly resourceSlots = new Map<Id, number>()
  /** Scope nodes by slot, for walks that start from the arrays (listResources). */
  readonly scopes: (OrgNode | ResourceNode | null)[] = []
  scopeRows = new Int32Array(SCOPE_STRIDE * 1024)
  gates = new Uint8Array(1024)
  userRows = new Int32Array(USER_STRIDE * 1024)
  readonly access: Arena
  /** For users with more than `scanLimit` entries: each entry's offset from the start, by scope slot. */
  private readonly bigAccess = new Map<number, Map<number, number>>()
  readonly overrides: Arena
  private userCount = 0
  /** Entries per access index: the scope slot, then `words` permission words. */
  readonly entryStride: number

  /**
   * @param words permission words per entry (`CompiledModel.words`)
   * @param typeDepth per type index, how many resources sit above one of that type (org: -1)
   */
  constructor(
    readonly words: number,
    private readonly typeDepth: readonly number[],
    /** Entries beyond which a user's index is looked up through a Map instead of scanned. */
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
    const user = this.userSlots.get(userId)
    if (user === undefined) return null
    const row = user * USER_STRIDE
    const userRows = this.userRows
    const flags = userRows[row + 3]!
    if ((flags & (VALID | TIMED)) !== VALID || userRows[row + 2] !== epoch) return null
    const rows = this.scopeRows
    let scope: number
    let org: number
    let parent = -1
    let grandparent = -1
    if (permission.onIndex === 0) {
      const slot = this.orgSlots.get(target.id)
      if (slot === undefined) return null
      scope = org = slot
    } else {
      const slot = this.resourceSlots.get(target.id)
      if (slot === undefined) return null
      const at = slot * SCOPE_STRIDE
      if (rows[at] !== permission.onIndex) return null
      scope = slot
      org = rows[at + 1]!
      const depth = this.typeDepth[permission.onIndex]!
      if (depth > 0) {
        parent = rows[at + 2]!
        if (depth > 1) {
          if (depth > 2) return null
          grandparent = rows[parent * SCOPE_STRIDE + 2]!
        }
      }
    }
    // 1. The gate, before anything can allow.
    const gate = this.gates[org]!
    if (gate !== OPEN && (gate !== MFA_ONLY || (flags & MFA) === 0)) return null
    // 3. Overrides on the target: the user's own decides; a group's needs the walk.
    if (permission.overridable && scope !== org) {
      const run = rows[scope * SCOPE_STRIDE + 3]!
      if (run >= 0) {
        const data = this.overrides.data
        const end = run + 1 + data[run]! * 3
        let groupOverride = false
        for (let i = run + 1; i < end; i += 3) {
          if (data[i] !== permission.index) continue
          const principal = data[i + 1]
          if (principal === user) return data[i + 2] === ALLOW ? ALLOW_OVERRIDE : DENY_OVERRIDE
          if (principal === GROUP) groupOverride = true
        }
        if (groupOverride) return null
      }
    }
    // 4. Roles: one pass over the user's entries for the target, the resources above it and its org.
    const data = this.access.data
    const stride = this.entryStride
    const word = 1 + permission.word
    const bit = permission.bit
    const start = userRows[row]!
    const count = userRows[row + 1]!
    if (count > this.scanLimit) {
      const offsets = this.bigAccess.get(user)!
      for (const at of [scope, parent, grandparent, org]) {
        const offset = offsets.get(at)
        if (offset !== undefined && (data[start + offset + word]! & bit) !== 0) return ALLOW_ROLE
      }
      return DENY_NO_GRANT
    }
    const end = start + count * stride
    for (let i = start; i < end; i += stride) {
      const at = data[i]
      if (at === scope || at === org || at === parent || at === grandparent) {
        if ((data[i + word]! & bit) !== 0) return ALLOW_ROLE
      }
    }
    return DENY_NO_GRANT
  }

  // --- slots --------------------------------------------------------------------------------------

  addUser(user: UserNode): void {
    const slot = this.userCount++
    if ((slot + 1) * USER_STRIDE > this.userRows.length) this.userRows = grown(this.userRows)
    user.slot = slot
    this.userRows[slot * USER_STRIDE + 3] = 0
    this.userSlots.set(user.id, slot)
  }

  deleteUser(user: UserNode): void {
    this.invalidate(user)
    this.userSlots.delete(user.id)
  }

  setMfa(user: UserNode): void {
    const at = user.slot * USER_STRIDE + 3
    this.userRows[at] = user.mfaEnabled ? this.userRows[at]! | MFA : this.userRows[at]! & ~MFA
  }

  addOrg(org: OrgNode): void {
    org.slot = this.newScope(org, 0)
    this.orgSlots.set(org.id, org.slot)
  }

  deleteOrg(org: OrgNode): void {
    this.orgSlots.delete(org.id)
    this.scopes[org.slot] = null
  }

  /** After the org's gate changed (graph.refreshChains). */
  setGate(org: OrgNode): void {
    this.gates[org.slot] = !org.gated ? OPEN : org.gatePolicies.length === 0 ? MFA_ONLY : POLICY
  }

  addResource(resource: ResourceNode, typeIndex: number): void {
    resource.slot = this.newScope(resource, typeIndex)
    this.resourceSlots.set(resource.id, resource.slot)
    this.placeResource(resource)
  }

  /** After a resource's org or parent changed. */
  placeResource(resource: ResourceNode): void {
    const at = resource.slot * SCOPE_STRIDE
    this.scopeRows[at + 1] = resource.org.slot
    this.scopeRows[at + 2] = resource.parent === null ? -1 : resource.parent.slot
  }

  deleteResource(resource: ResourceNode): void {
    this.writeOverrides(resource, null)
    this.resourceSlots.delete(resource.id)
    this.scopes[resource.slot] = null
  }

  private newScope(node: OrgNode | ResourceNode, typeIndex: number): number {
    const slot = this.scopes.length
    this.scopes.push(node)
    if ((slot + 1) * SCOPE_STRIDE > this.scopeRows.length) this.scopeRows = grown(this.scopeRows)
    if (slot + 1 > this.gates.length) this.gates = grown(this.gates)
    const at = slot * SCOPE_STRIDE
    this.scopeRows[at] = typeIndex
    this.scopeRows[at + 1] = slot
    this.scopeRows[at + 2] = -1
    this.scopeRows[at + 3] = -1
    return slot
  }

  // --- overrides ----------------------------------------------------------------------------------

  /** Rewrites the resource's override run from its list (`user` slots for users, -1 for groups). */
  writeOverrides(resource: ResourceNode, list: readonly OverrideNode[] | null): void {
    const at = resource.slot * SCOPE_STRIDE + 3
    const old = this.scopeRows[at]!
    if (old >= 0) this.overrides.free(1 + this.overrides.data[old]! * 3)
    this.scopeRows[at] = -1
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
    this.scopeRows[at] = run
  }

  // --- access indexes -----------------------------------------------------------------------------

  /** Whether the user's index was built at `epoch` and nothing since has staled it. */
  accessValid(user: UserNode, epoch: number): boolean {
    const row = user.slot * USER_STRIDE
    return (this.userRows[row + 3]! & VALID) !== 0 && this.userRows[row + 2] === epoch
  }

  /** Drops the user's index: the next check rebuilds it. */
  invalidate(user: UserNode): void {
    const row = user.slot * USER_STRIDE
    const rows = this.userRows
    if ((rows[row + 3]! & VALID) === 0) return
    if (rows[row + 1]! > this.scanLimit) this.bigAccess.delete(user.slot)
    this.access.free(rows[row + 1]! * this.entryStride)
    rows[row + 1] = 0
    rows[row + 3] = rows[row + 3]! & ~(VALID | TIMED)
  }

  /**
   * Stores the user's freshly built index: `entries` is the scope slot and `words` words per entry.
   * `timed` marks an index with an expiry window, which only the object walk reads.
   */
  writeAccess(user: UserNode, entries: readonly number[], epoch: number, timed: boolean): void {
    this.invalidate(user)
    const start = this.access.alloc(entries.length)
    this.access.data.set(entries, start)
    const row = user.slot * USER_STRIDE
    const rows = this.userRows
    const count = entries.length / this.entryStride
    rows[row] = start
    rows[row + 1] = count
    if (count > this.scanLimit) {
      const offsets = new Map<number, number>()
      for (let i = 0; i < entries.length; i += this.entryStride) offsets.set(entries[i]!, i)
      this.bigAccess.set(user.slot, offsets)
    }
    rows[row + 2] = epoch
    rows[row + 3] = (rows[row + 3]! & MFA) | VALID | (timed ? TIMED : 0)
  }

  /** Where the user's entries start in `access.data` (valid until the next write of any index). */
  accessStart(user: UserNode): number {
    return this.userRows[user.slot * USER_STRIDE]!
  }

  /** Where they end. */
  accessEnd(user: UserNode): number {
    const row = user.slot * USER_STRIDE
    return this.userRows[row]! + this.userRows[row + 1]! * this.entryStride
  }

  /** Word `word` of the user's permission bits at a scope (0 without an entry there). */
  accessBits(user: UserNode, scope: number, word: number): number {
    const data = this.access.data
    if (this.userRows[user.slot * USER_STRIDE + 1]! > this.scanLimit) {
      const offset = this.bigAccess.get(user.slot)!.get(scope)
      return offset === undefined ? 0 : data[this.accessStart(user) + offset + 1 + word]!
    }
    const stride = this.entryStride
    for (let i = this.accessStart(user), end = this.accessEnd(user); i < end; i += stride)
      if (data[i] === scope) return data[i + 1 + word]!
    return 0
  }

  /** Rewrites the id Maps with their keys copied in slot order, next to each other (after a load). */
  packKeys(): void {
    for (const map of [this.userSlots, this.orgSlots, this.resourceSlots]) {
      const entries = [...map]
      map.clear()
      for (const [id, slot] of entries) map.set(flatCopy(id), slot)
    }
  }

  private compactAccess(arena: Arena): void {
    const rows = this.userRows
    const stride = this.entryStride
    arena.repack((copy) => {
      for (let slot = 0; slot < this.userCount; slot++) {
        const row = slot * USER_STRIDE
        if ((rows[row + 3]! & VALID) !== 0) rows[row] = copy(rows[row]!, rows[row + 1]! * stride)
      }
    })
  }

  private compactOverrides(arena: Arena): void {
    const rows = this.scopeRows
    arena.repack((copy) => {
      for (let slot = 0; slot < this.scopes.length; slot++) {
        const at = slot * SCOPE_STRIDE + 3
        const run = rows[at]!
        if (run >= 0) rows[at] = copy(run, 1 + arena.data[run]! * 3)
      }
    })
  }
}

const SCOPE_STRIDE = 4
const USER_STRIDE = 4
// User flags.
const VALID = 1
const TIMED = 2
const MFA = 4
// Gates.
const OPEN = 0
const MFA_ONLY = 1
const POLICY = 2
// Override runs.
const GROUP = -1
const ALLOW = 1
const DENY = 0

/**
 * Runs of ints in one array, appended at the end; a rewritten run leaves its old place dead until a
 * compaction (when the array is full and at most half of it is live) copies the live runs to a new one.
 */
export class Arena {
  data = new Int32Array(1024)
  private top = 0
  private live = 0

  constructor(private readonly compact: (arena: Arena) => void) {}

  alloc(length: number): number {
    if (this.top + length > this.data.length) {
      if (this.live * 2 <= this.data.length && this.live + length <= this.data.length / 2) this.compact(this)
      while (this.top + length > this.data.length) this.data = grown(this.data)
    }
    const at = this.top
    this.top += length
    this.live += length
    return at
  }

  free(length: number): void {
    this.live -= length
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

function grown<T extends Int32Array | Uint8Array>(array: T): T {
  const next = new (array.constructor as new (length: number) => T)(array.length * 2)
  next.set(array)
  return next
}

/** A fresh, flat copy of a string (V8 keeps short slices and concatenations as views of the original). */
function flatCopy(s: string): string {
  return s.split('').join('')
}
