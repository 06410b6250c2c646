/**
 * A hash table from string ids to a few int fields, laid out for lookups that miss the cache: one probe
 * array of (hash, record) pairs, and records that hold the key's characters and the fields side by side.
 * A lookup of a known id costs two cache lines (the probe pair, the record), where a `Map` to a row in a
 * typed array costs four (bucket, entry, key string, row). The dense index (dense.ts) keeps its users,
 * orgs and resources in these.
 *
 * Records sit in one `Int32Array`, in insertion order: the key's length, its UTF-16 code units two to an
 * int, `fields` ints, then the length again (so `keyAt` can read the key back from where the fields start;
 * last, so that what a lookup reads stays together). A deleted record stays in place, its length negated,
 * until the pool fills up; then the live records are copied, in order, into a fresh pool (half as long
 * again if two thirds of the old one were live).
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

  constructor(readonly fields: number) {
    this.pool = new Int32Array(64 * (fields + 4))
  }

  /** The offset of the id's fields in `pool`, or -1. */
  find(id: string): number {
    return this.findHashed(id, this.hash(id))
  }

  private findHashed(id: string, hash: number): number {
    const probe = this.probe
    const mask = this.mask
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const h = probe[2 * i]
      if (h === EMPTY) return -1
      if (h === hash) {
        const record = probe[2 * i + 1]!
        if (this.matches(record, id)) return record + 1 + ((id.length + 1) >> 1)
      }
    }
  }

  /** The offset of the id's fields: the existing record's, or a new one with every field 0. */
  insert(id: string): number {
    const hash = this.hash(id)
    const found = this.findHashed(id, hash)
    if (found >= 0) return found
    const length = this.recordLength(id.length)
    if (this.top + length > this.pool.length) this.makeRoom(length)
    if (2 * (this.used + 1) > this.mask + 1) this.rehash(2 * (this.size + 1))
    const record = this.top
    const pool = this.pool
    pool[record] = id.length
    let at = record + 1
    for (let c = 0; c < id.length; c += 2) pool[at++] = pair(id, c)
    pool.fill(0, at, at + this.fields)
    pool[at + this.fields] = id.length
    this.top += length
    this.size++
    this.place(hash, record)
    return at
  }

  delete(id: string): void {
    const hash = this.hash(id)
    const probe = this.probe
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const h = probe[2 * i]
      if (h === EMPTY) return
      if (h === hash && this.matches(probe[2 * i + 1]!, id)) {
        this.kill(i)
        return
      }
    }
  }

  /** Deletes the live record whose fields start at `fields`, without the id in hand. */
  deleteAt(fields: number): void {
    const record = fields - 1 - ((this.pool[fields + this.fields]! + 1) >> 1)
    const hash = this.hashAt(record)
    const probe = this.probe
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const h = probe[2 * i]
      if (h === EMPTY) return
      if (h === hash && probe[2 * i + 1] === record) {
        this.kill(i)
        return
      }
    }
  }

  /** The id of the live record whose fields start at `fields` (an offset `find` or `insert` returned). */
  keyAt(fields: number): string {
    const pool = this.pool
    const chars = pool[fields + this.fields]!
    const start = fields - ((chars + 1) >> 1)
    let id = ''
    for (let c = 0; c < chars; c++) {
      const word = pool[start + (c >> 1)]!
      id += String.fromCharCode((c & 1) === 0 ? word & 0xffff : word >>> 16)
    }
    return id
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
      const length = pool[record]!
      const end = record + this.recordLength(length >= 0 ? length : -1 - length)
      if (length >= 0) visit(record, end)
      record = end
    }
  }

  /** Tombstones probe pair `i` and marks its record dead. */
  private kill(i: number): void {
    const record = this.probe[2 * i + 1]!
    const chars = this.pool[record]!
    this.probe[2 * i] = DELETED
    this.dead += this.recordLength(chars)
    this.pool[record] = -1 - chars
    this.size--
  }

  /** Ints a record of an id of `chars` code units takes: length, code units two to an int, fields, length. */
  private recordLength(chars: number): number {
    return 2 + ((chars + 1) >> 1) + this.fields
  }

  private hash(id: string): number {
    let h = this.seed
    for (let c = 0; c < id.length; c++) h = Math.imul(h ^ id.charCodeAt(c), 0x01000193)
    // Odd, so never EMPTY or DELETED.
    return h | 1
  }

  private matches(record: number, id: string): boolean {
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

  /** A new probe array of at least `capacity` pairs, tombstones dropped. */
  private rehash(capacity: number): void {
    let size = 16
    while (size < capacity) size *= 2
    this.probe = new Int32Array(2 * size)
    this.mask = size - 1
    this.used = 0
    this.eachLive((record) => this.place(this.hashAt(record), record))
  }

  /** `hash` of the id a record holds, read back from its code units. */
  private hashAt(record: number): number {
    const pool = this.pool
    const chars = pool[record]!
    let h = this.seed
    for (let c = 0; c < chars; c++) {
      const word = pool[record + 1 + (c >> 1)]!
      h = Math.imul(h ^ ((c & 1) === 0 ? word & 0xffff : word >>> 16), 0x01000193)
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

const EMPTY = 0
const DELETED = 2

/** Code units c and c + 1 of the id in one int (0 past the end). */
function pair(id: string, c: number): number {
  return id.charCodeAt(c) | ((c + 1 < id.length ? id.charCodeAt(c + 1) : 0) << 16)
}
