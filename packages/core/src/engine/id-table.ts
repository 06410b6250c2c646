import { ownCopy } from './state-codec.ts'

/**
 * A hash table from string ids to a few int fields, laid out for lookups that miss the cache: one probe
 * array of (hash, record) pairs, and records that hold the key and the fields side by side. A lookup of a
 * known id costs two cache lines (the probe pair, the record), where a `Map` to a row in a typed array
 * costs four (bucket, entry, key string, row). The dense index (dense.ts) keeps its users, orgs and
 * resources in these.
 *
 * Records sit in one `Int32Array`, in insertion order: a head, the key, `fields` ints, then the head again
 * (so `keyAt` can read the key back from where the fields start; last, so that what a lookup reads stays
 * together). A UUID in its canonical form (36 characters, lowercase hex) is kept as its 16 bytes in four
 * ints, head `UUID`: the ids Orgkit itself makes, and most of the table. Any other id keeps its UTF-16 code
 * units two to an int, head its length. A UUID record with five fields is 44 bytes, where its characters
 * alone took 72. A deleted record stays in place, its head negated, until the pool fills up; then the live
 * records are copied, in order, into a fresh pool (half as long again if two thirds of the old one were
 * live).
 * Lookups return the offset of a record's fields in `pool`, valid until the next insert or delete.
 */
export class IdTable {
  /** (hash, record offset) pairs; hash EMPTY: never used, DELETED: a tombstone. */
  private probe = new Int32Array(2 * 16)
  private mask = 15
  /** Probe pairs in use, tombstones included. */
  private used = 0
  pool: Int32Array
  private top = 0
  private dead = 0
  /** Live records. */
  size = 0
  /** Bumped whenever records move (a compaction): offsets kept from before are stale. */
  moves = 0
  /** A per-table start for the hash, so colliding ids cannot be prepared in advance. */
  private readonly seed = (Math.random() * 0x7fffffff) | 0
  /** The four ints of the UUID `key` last read (valid when it returned true). */
  private readonly words = new Int32Array(4)
  /**
   * The first record not yet in the probe array, or -1 when all are. A restore leaves its records to be
   * hashed later, a slice at a time (`hashRestored`) once the server listens, or all at once by the first
   * lookup or write: at 1M bindings the binding table's 1M records took 0.2-0.35 s of a start's CPU before
   * listening (issue 25.4), and nothing looks an id up before a change or a check. The seed is unchanged.
   */
  private hashedTo = -1

  constructor(readonly fields: number) {
    this.pool = new Int32Array(64 * (fields + 6))
  }

  /** The offset of the id's fields in `pool`, or -1. */
  find(id: string): number {
    if (this.hashedTo >= 0) this.hashRestored()
    const uuid = this.key(id)
    return this.findKeyed(id, uuid, this.hashKey(id, uuid))
  }

  private findKeyed(id: string, uuid: boolean, hash: number): number {
    const probe = this.probe
    const mask = this.mask
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const h = probe[2 * i]
      if (h === EMPTY) return -1
      if (h === hash) {
        const record = probe[2 * i + 1]!
        if (uuid ? this.matchesWords(record) : this.matchesChars(record, id))
          return record + 1 + keyInts(this.pool[record]!)
      }
    }
  }

  /** The offset of the id's fields: the existing record's, or a new one with every field 0. */
  insert(id: string): number {
    const uuid = this.key(id)
    const head = uuid ? UUID : id.length
    const length = this.recordLength(head)
    // A restored pool is exactly full: making room first hashes every record once (its rehash), not twice.
    if (this.hashedTo >= 0 && this.top + length > this.pool.length) this.makeRoom(length)
    else if (this.hashedTo >= 0) this.hashRestored()
    const hash = this.hashKey(id, uuid)
    const found = this.findKeyed(id, uuid, hash)
    if (found >= 0) return found
    if (this.top + length > this.pool.length) this.makeRoom(length)
    if (2 * (this.used + 1) > this.mask + 1) this.rehash(2 * (this.size + 1))
    const record = this.top
    const pool = this.pool
    pool[record] = head
    let at = record + 1
    if (uuid) {
      pool.set(this.words, at)
      at += 4
    } else for (let c = 0; c < id.length; c += 2) pool[at++] = pair(id, c)
    pool.fill(0, at, at + this.fields)
    pool[at + this.fields] = head
    this.top += length
    this.size++
    this.place(hash, record)
    return at
  }

  delete(id: string): void {
    const at = this.find(id)
    if (at >= 0) this.deleteAt(at)
  }

  /** Deletes the live record whose fields start at `fields`, without the id in hand. */
  deleteAt(fields: number): void {
    if (this.hashedTo >= 0) this.hashRestored()
    const record = fields - 1 - keyInts(this.pool[fields + this.fields]!)
    const hash = this.hashAt(record)
    const probe = this.probe
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const h = probe[2 * i]
      if (h === EMPTY) return
      if (h === hash && probe[2 * i + 1] === record) {
        const head = this.pool[record]!
        probe[2 * i] = DELETED
        this.dead += this.recordLength(head)
        this.pool[record] = -1 - head
        this.size--
        return
      }
    }
  }

  /** The id of the live record whose fields start at `fields` (an offset `find` or `insert` returned). */
  keyAt(fields: number): string {
    const pool = this.pool
    const head = pool[fields + this.fields]!
    const start = fields - keyInts(head)
    if (head === UUID) return formatUuid(pool, start)
    let id = ''
    for (let c = 0; c < head; c++) {
      const word = pool[start + (c >> 1)]!
      id += String.fromCharCode((c & 1) === 0 ? word & 0xffff : word >>> 16)
    }
    return id
  }

  /** The records as they lie (engine-state.ts): the pool up to its top, with the dead bytes counted. */
  raw(): { pool: Int32Array; dead: number; size: number } {
    return { pool: this.pool.subarray(0, this.top), dead: this.dead, size: this.size }
  }

  /**
   * Takes records `raw` gave (offsets into `pool` stay as they were, so what points at them stays valid),
   * to be hashed again under this table's own seed (`hashedTo`): by `hashRestored`, or before the first
   * lookup or write.
   */
  restore(raw: { pool: Int32Array; dead: number; size: number }): void {
    this.pool = raw.pool
    this.top = raw.pool.length
    this.dead = raw.dead
    this.size = raw.size
    this.moves++
    this.emptyProbe(2 * (this.size + 1))
  }

  /**
   * Hashes up to `budget` more of the records a restore left unhashed; true once every record is hashed.
   * Lookups and writes finish it themselves: slices only spread the work over event-loop turns.
   */
  hashRestored(budget = Number.POSITIVE_INFINITY): boolean {
    let record = this.hashedTo
    if (record < 0) return true
    const probe = this.probe
    const mask = this.mask
    const pool = this.pool
    const top = this.top
    const fields = this.fields
    let used = this.used
    for (let n = 0; record < top && n < budget; n++) {
      const head = pool[record]!
      if (head >= 0) {
        const hash = head === UUID ? this.hashWords(pool, record + 1) : this.hashAt(record)
        let i = hash & mask
        while (probe[2 * i] !== EMPTY) i = (i + 1) & mask
        probe[2 * i] = hash
        probe[2 * i + 1] = record
        used++
      }
      record += 2 + keyInts(head >= 0 ? head : -1 - head) + fields
    }
    this.used = used
    this.hashedTo = record < top ? record : -1
    return this.hashedTo < 0
  }

  /** The pool in memory of its own, if it was a view of a restored state (offsets stay as they are). */
  ownMemory(): void {
    this.pool = ownCopy(this.pool)
  }

  /** Gives back the pool's spare room (after a bulk load). */
  trim(): void {
    if (this.pool.length > this.top) this.pool = this.pool.slice(0, Math.max(this.top, 16))
  }

  /** The offset of the fields of a node's record, cached on the node while records stay in place. */
  fieldsOf(node: { readonly id: string; record: number; recordMoves: number }): number {
    if (node.recordMoves !== this.moves) {
      node.record = this.find(node.id)
      node.recordMoves = this.moves
    }
    return node.record
  }

  /** Calls `visit` with the fields offset of every live record, in insertion order. */
  forEach(visit: (fields: number) => void): void {
    this.eachLive((_, end) => visit(end - 1 - this.fields))
  }

  /** Calls `visit` with where every live record starts and ends in `pool`, in insertion order. */
  private eachLive(visit: (record: number, end: number) => void): void {
    const pool = this.pool
    for (let record = 0; record < this.top; ) {
      const head = pool[record]!
      const end = record + this.recordLength(head >= 0 ? head : -1 - head)
      if (head >= 0) visit(record, end)
      record = end
    }
  }

  /** Ints a record takes: head, key, fields, head. */
  private recordLength(head: number): number {
    return 2 + keyInts(head) + this.fields
  }

  /** Whether `id` is a canonical UUID; if so its 16 bytes are in `words`. */
  private key(id: string): boolean {
    if (id.length !== 36) return false
    const words = this.words
    for (let w = 0; w < 4; w++) {
      let value = 0
      for (let d = 0; d < 8; d++) {
        const digit = HEX_VALUE[id.charCodeAt(UUID_DIGITS[8 * w + d]!)] ?? -1
        if (digit < 0) return false
        value = (value << 4) | digit
      }
      words[w] = value
    }
    const dash = 45
    return (
      id.charCodeAt(8) === dash &&
      id.charCodeAt(13) === dash &&
      id.charCodeAt(18) === dash &&
      id.charCodeAt(23) === dash
    )
  }

  /** The hash of the id `key` just read: of its four words if a UUID, else of its text. */
  private hashKey(id: string, uuid: boolean): number {
    return uuid ? this.hashWords(this.words, 0) : this.hashChars(id)
  }

  private hashChars(id: string): number {
    let h = this.seed
    for (let c = 0; c < id.length; c++) h = fnv(h, id.charCodeAt(c))
    // Odd, so never EMPTY or DELETED.
    return h | 1
  }

  /** The hash of four ints at `at` (murmur3's mixing). Odd, as `hashChars`. */
  private hashWords(words: Int32Array, at: number): number {
    let h = this.seed
    for (let w = at; w < at + 4; w++) {
      h = Math.imul(h ^ words[w]!, 0xcc9e2d51)
      h = Math.imul((h << 15) | (h >>> 17), 0x1b873593)
    }
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return h | 1
  }

  private matchesWords(record: number): boolean {
    const pool = this.pool
    const words = this.words
    return (
      pool[record] === UUID &&
      pool[record + 1] === words[0] &&
      pool[record + 2] === words[1] &&
      pool[record + 3] === words[2] &&
      pool[record + 4] === words[3]
    )
  }

  private matchesChars(record: number, id: string): boolean {
    const pool = this.pool
    if (pool[record] !== id.length) return false
    let at = record + 1
    for (let c = 0; c < id.length; c += 2) if (pool[at++] !== pair(id, c)) return false
    return true
  }

  private place(hash: number, record: number): void {
    const probe = this.probe
    let i = hash & this.mask
    while (probe[2 * i] !== EMPTY && probe[2 * i] !== DELETED) i = (i + 1) & this.mask
    if (probe[2 * i] === EMPTY) this.used++
    probe[2 * i] = hash
    probe[2 * i + 1] = record
  }

  /**
   * A new probe array of at least `capacity` pairs, tombstones dropped. One loop over the pool, with no
   * tombstone to skip in the new array: a restore at 1M bindings hashes 1.5M records here.
   */
  private rehash(capacity: number): void {
    this.emptyProbe(capacity)
    this.hashRestored()
  }

  /** An empty probe array of at least `capacity` pairs, every record still to be hashed into it. */
  private emptyProbe(capacity: number): void {
    let size = 16
    while (size < capacity) size *= 2
    this.probe = new Int32Array(2 * size)
    this.mask = size - 1
    this.used = 0
    this.hashedTo = 0
  }

  /** The hash of the id a live record holds, read back from the record. */
  private hashAt(record: number): number {
    const pool = this.pool
    const head = pool[record]!
    if (head === UUID) return this.hashWords(pool, record + 1)
    let h = this.seed
    for (let c = 0; c < head; c++) {
      const word = pool[record + 1 + (c >> 1)]!
      h = fnv(h, (c & 1) === 0 ? word & 0xffff : word >>> 16)
    }
    return h | 1
  }

  /**
   * Space for a record of `length` ints, the dead records dropped: in a pool of the same size if a third of
   * it was dead, else in one half as long again.
   */
  private makeRoom(length: number): void {
    const from = this.pool
    const live = this.top - this.dead
    const size = 3 * (live + length) <= 2 * from.length ? from.length : Math.ceil(from.length * 1.5)
    const to = new Int32Array(Math.max(size, live + length))
    let top = 0
    this.eachLive((record, end) => {
      to.set(from.subarray(record, end), top)
      top += end - record
    })
    this.pool = to
    this.top = top
    this.dead = 0
    this.moves++
    this.rehash(2 * (this.size + 1))
  }
}

export const EMPTY = 0
export const DELETED = 2

/** The head of a UUID record: longer than any string V8 can hold, so never a length. */
export const UUID = 0x7ffffff0

/** Ints the key of a record with this head takes. */
export function keyInts(head: number): number {
  return head === UUID ? 4 : (head + 1) >> 1
}

/** One step of FNV-1a over a UTF-16 code unit: `hashChars` and `hashAt` must agree. */
export const fnv = (h: number, unit: number) => Math.imul(h ^ unit, 0x01000193)

/** Code units c and c + 1 of the id in one int (0 past the end). */
export function pair(id: string, c: number): number {
  return id.charCodeAt(c) | ((c + 1 < id.length ? id.charCodeAt(c + 1) : 0) << 16)
}

/** Where a canonical UUID's 32 hex digits sit among its 36 characters. */
export const UUID_DIGITS = Array.from({ length: 36 }, (_, i) => i).filter(
  (i) => i !== 8 && i !== 13 && i !== 18 && i !== 23,
)
/** By character code: a lowercase hex digit's value, else -1. */
export const HEX_VALUE = Int8Array.from({ length: 128 }, (_, c) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1,
)
export const HEX = '0123456789abcdef'

/** The canonical UUID whose 16 bytes are the four ints at `at`. */
export function formatUuid(pool: Int32Array, at: number): string {
  let id = ''
  for (let w = 0; w < 4; w++) {
    const word = pool[at + w]!
    for (let shift = 28; shift >= 0; shift -= 4) {
      if (id.length === 8 || id.length === 13 || id.length === 18 || id.length === 23) id += '-'
      id += HEX[(word >>> shift) & 15]
    }
  }
  return id
}
