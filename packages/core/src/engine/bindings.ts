import { TEAM_ROLE } from '../model/model.ts'
import type { RoleHandle } from './compiled-model.ts'
import type { Id } from './data.ts'
import { IdTable } from './id-table.ts'
import { NONE, OrgNode, type Principal, type ScopeNode } from './nodes.ts'
import { ownCopy } from './state-codec.ts'

/**
 * Every role binding, as columns indexed by the binding's number. A binding is in two lists, linked
 * through these columns: its principal's (`pNext`/`pPrev`, from `Principal.bindings`) and its scope's
 * (`sNext`/`sPrev`, from `OrgNode.bindings` / `ResourceNode.bindings`); `NONE` ends a list.
 *
 * Why columns and not a node object per binding: there are a million bindings at scale, and as objects
 * (with their id strings) they took ~144 MB of small objects on V8's heap pages. Every scavenge walks the
 * list of old-generation pages, so its pause grew with them (docs/performance-journal.md). Here the
 * numbers and links are typed arrays, outside V8's pages; the references to principal, role and scope are
 * three plain arrays, each a single large object; the ids sit in an `IdTable`.
 *
 * A removed binding's number is reused by a later `add`.
 */
export class BindingTable {
  pNext = new Int32Array(INITIAL)
  pPrev = new Int32Array(INITIAL)
  sNext = new Int32Array(INITIAL)
  sPrev = new Int32Array(INITIAL)
  /** Epoch ms; Infinity for never. */
  expiresAt = new Float64Array(INITIAL)
  /** Null for a removed binding. */
  principal: (Principal | null)[] = []
  /** Null for a `team` binding: the role is resolved per member. Re-pointed when its resource moves org. */
  role: (RoleHandle | null)[] = []
  scope: (ScopeNode | null)[] = []
  /** Live bindings. */
  size = 0

  /** Id → number (the record's one field). */
  private readonly ids = new IdTable(1)
  /** Where each binding's record fields sit in `ids.pool`, as of `idsMoves`. */
  private idAt = new Int32Array(INITIAL)
  private idsMoves = 0
  /** Numbers below `top` have been used; the removed ones form a list through `pNext`. */
  private top = 0
  private free = NONE

  /** The binding's number, or NONE. */
  find(id: Id): number {
    const at = this.ids.find(id)
    return at < 0 ? NONE : this.ids.pool[at]!
  }

  /** A new binding, linked into no list yet. The id must not be in the table. */
  add(id: Id, principal: Principal, role: RoleHandle | null, scope: ScopeNode, expiresAt: number): number {
    let b = this.free
    if (b !== NONE) this.free = this.pNext[b]!
    else {
      if (this.top === this.pNext.length) this.grow()
      b = this.top++
    }
    this.pNext[b] = this.pPrev[b] = this.sNext[b] = this.sPrev[b] = NONE
    this.expiresAt[b] = expiresAt
    this.principal[b] = principal
    this.role[b] = role
    this.scope[b] = scope
    const at = this.ids.insert(id)
    this.ids.pool[at] = b
    this.idAt[b] = at
    // An insert may have compacted the pool, moving every other record.
    if (this.ids.moves !== this.idsMoves) this.relocate()
    this.size++
    return b
  }

  /** Forgets a binding (already unlinked from its lists). */
  remove(b: number): void {
    this.ids.deleteAt(this.idAt[b]!)
    this.principal[b] = this.role[b] = this.scope[b] = null
    this.pNext[b] = this.free
    this.free = b
    this.size--
  }

  isLive(b: number): boolean {
    return b >= 0 && b < this.top && this.principal[b] !== null
  }

  idOf(b: number): Id {
    return this.ids.keyAt(this.idAt[b]!)
  }

  /** The key the binding names: its role's (a custom role's handle keeps its key), or `team`. */
  roleKey(b: number): string {
    const role = this.role[b]
    return role == null ? TEAM_ROLE : role.key
  }

  /** The org the binding lives in (its scope, or its scope resource's org). */
  orgOf(b: number): OrgNode {
    const scope = this.scope[b]!
    return scope instanceof OrgNode ? scope : scope.org
  }

  /** The columns as they lie, up to the highest number used (engine-state.ts). */
  raw(): BindingColumns {
    const top = this.top
    return {
      pNext: this.pNext.subarray(0, top),
      pPrev: this.pPrev.subarray(0, top),
      sNext: this.sNext.subarray(0, top),
      sPrev: this.sPrev.subarray(0, top),
      expiresAt: this.expiresAt.subarray(0, top),
      idAt: this.idAt.subarray(0, top),
      ids: this.ids.raw(),
      free: this.free,
    }
  }

  /**
   * Takes columns `raw` gave (into an empty table), with each number's principal, role and scope resolved
   * by the caller: a removed number has a null principal. The three lists are taken as they are, not copied
   * (filling empty arrays a million elements long grew each of them step by step).
   */
  restore(
    raw: BindingColumns,
    principal: (Principal | null)[],
    role: (RoleHandle | null)[],
    scope: (ScopeNode | null)[],
  ): void {
    const top = raw.pNext.length
    // The state reader's views are taken as they are; `add` grows them when full.
    const size = Math.max(INITIAL, top)
    this.pNext = atLeast(raw.pNext, size)
    this.pPrev = atLeast(raw.pPrev, size)
    this.sNext = atLeast(raw.sNext, size)
    this.sPrev = atLeast(raw.sPrev, size)
    this.expiresAt = atLeast(raw.expiresAt, size)
    this.idAt = atLeast(raw.idAt, size)
    this.top = top
    this.free = raw.free
    this.ids.restore(raw.ids)
    this.idsMoves = this.ids.moves
    this.size = raw.ids.size
    this.principal = principal
    this.role = role
    this.scope = scope
  }

  /** The columns and ids in memory of their own, if they were views of a restored state. */
  *ownMemory(): Generator<void, void> {
    // An array a step: the whole table at 1M bindings is ~0.2 s of copying and page faults, long enough to
    // hold up a request (Authorizer.ownMemory). Each array is its own or a view, independently.
    this.pNext = ownCopy(this.pNext)
    yield
    this.pPrev = ownCopy(this.pPrev)
    yield
    this.sNext = ownCopy(this.sNext)
    yield
    this.sPrev = ownCopy(this.sPrev)
    yield
    this.expiresAt = ownCopy(this.expiresAt)
    yield
    this.idAt = ownCopy(this.idAt)
    yield
    this.ids.ownMemory()
  }

  /** Gives back spare room (after a bulk load). */
  trim(): void {
    this.ids.trim()
  }

  /** Hashes up to `budget` more of the ids a restore left unhashed; true once all are (IdTable.hashRestored). */
  hashIds(budget?: number): boolean {
    return this.ids.hashRestored(budget)
  }

  private grow(): void {
    const size = Math.ceil(this.pNext.length * 1.5)
    this.pNext = resized(this.pNext, size)
    this.pPrev = resized(this.pPrev, size)
    this.sNext = resized(this.sNext, size)
    this.sPrev = resized(this.sPrev, size)
    this.expiresAt = resized(this.expiresAt, size)
    this.idAt = resized(this.idAt, size)
  }

  private relocate(): void {
    const pool = this.ids.pool
    this.ids.forEach((at) => {
      this.idAt[pool[at]!] = at
    })
    this.idsMoves = this.ids.moves
  }
}

export const INITIAL = 64

/** A table's columns as they lie (`BindingTable.raw`). */
export interface BindingColumns {
  pNext: Int32Array
  pPrev: Int32Array
  sNext: Int32Array
  sPrev: Int32Array
  expiresAt: Float64Array
  idAt: Int32Array
  ids: { pool: Int32Array; dead: number; size: number }
  free: number
}

/** `from` itself when it is `size` long (a view of the state's bytes, engine-state.ts), else resized. */
export function atLeast(from: Int32Array, size: number): Int32Array<ArrayBuffer>
export function atLeast(from: Float64Array, size: number): Float64Array<ArrayBuffer>
export function atLeast(from: Int32Array | Float64Array, size: number): Int32Array | Float64Array {
  if (from.length === size && from.buffer instanceof ArrayBuffer) return from
  return from instanceof Int32Array ? resized(from, size) : resized(from, size)
}

/** A column of `size` entries holding `from`'s (the rest zero). */
export function resized(from: Int32Array, size: number): Int32Array<ArrayBuffer>
export function resized(from: Float64Array, size: number): Float64Array<ArrayBuffer>
export function resized(from: Int32Array | Float64Array, size: number): Int32Array | Float64Array {
  const to = from instanceof Int32Array ? new Int32Array(size) : new Float64Array(size)
  to.set(from)
  return to
}
