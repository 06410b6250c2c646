import { createHash } from 'node:crypto'
import type { Selectable } from 'kysely'
import type { EngineSnapshotsTable, Executor } from './database.ts'
import { type Unpacker, unpacker } from './engine-state-packing.ts'
import { copyOut } from './pg-driver.ts'

/**
 * Reading a stored engine state's parts (engine-snapshots.repository.ts writes them): `PARTS_READ` rows a
 * statement, each statement a `COPY … TO STDOUT (FORMAT binary)`, whose bytes node-postgres hands over as
 * they came off the connection (pg-driver.ts, `copyOut`) and are copied once, into memory reused from
 * statement to statement. As query values they were text: node-postgres decodes every value as UTF-8, so
 * bytea came as hex or base64, a string per part decoded again. At 1M bindings (57 MB stored),
 * `readEngineSnapshot` took 1.47-1.76 s of CPU reading base64 and 1.04-1.14 s reading COPY, decompression
 * included (six alternated pairs, load 10-13). The embedded database runs COPY the same way.
 */
const PARTS_READ = 8

/**
 * The most a stored state may decompress to, as a multiple of its stored (MACed) size: above any state's
 * ratio (2.2-2.7x with random ids, 6.5x at most with sequential ones, 4.2x empty), so a frame planted in the
 * parts makes a start inflate at most this much before the digest refuses it (~0.6 GB at 1M bindings).
 */
const STATE_RATIO_LIMIT = 10

type Kept = Pick<Selectable<EngineSnapshotsTable>, 'id' | 'parts' | 'digest'>

/**
 * A snapshot's state: its parts read, hashed and decompressed as they come, or null when a part is missing,
 * out of place, they come to another length than `size` or hash to another digest (the decompressed bytes are
 * then dropped, never used), or they do not decompress to what their frame says. `tx` is the transaction
 * whose snapshot the caller checked the feed in: the parts are read in it.
 */
export async function readParts(tx: Executor, kept: Kept, size: number): Promise<Uint8Array | null> {
  const unpack = unpacker(size * STATE_RATIO_LIMIT)
  let whole = false
  try {
    whole = await feedParts(tx, kept, size, unpack)
  } finally {
    if (!whole) unpack.abort() // refused, or the read failed: what was decompressed goes
  }
  return whole ? unpack.end() : null
}

/** Hands the parts to `unpack` in order; whether they were all there and hash to the digest. */
async function feedParts(tx: Executor, kept: Kept, size: number, unpack: Unpacker): Promise<boolean> {
  // COPY takes no parameters: the id goes in as digits (a bigint column's, checked all the same).
  const id = String(kept.id)
  if (!/^[0-9]{1,19}$/.test(id)) return false
  const hash = createHash('sha256')
  // Two buffers in turn: one decompressing on libuv's threads while the next statement's parts fill the other.
  const buffers: Buffer[] = []
  const consumed: Promise<void>[] = [Promise.resolve(), Promise.resolve()]
  let at = 0
  for (let first = 0, turn = 0; first < kept.parts; first += PARTS_READ, turn ^= 1) {
    await consumed[turn]
    const rows = new PartRows(first, Math.min(PARTS_READ, kept.parts - first), size - at, buffers[turn])
    await copyOut(
      tx,
      `copy (select part, data from engine_snapshot_parts where snapshot_id = ${id} and part >= ${first} and part < ${first + PARTS_READ} order by part) to stdout (format binary)`,
      (bytes) => rows.write(bytes),
    )
    const piece = rows.end()
    if (piece === null) return false
    buffers[turn] = rows.buffer
    hash.update(piece)
    consumed[turn] = unpack.write(piece)
    at += piece.length
  }
  return at === size && hash.digest('hex') === kept.digest
}

/** PostgreSQL's binary COPY signature, then a 32-bit flags word and a 32-bit header extension length. */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
const HEADER = SIGNATURE.length + 8
/** A row's fixed fields after its field count: `part`'s length (4) and value, then `data`'s length. */
const ROW_FIELDS = 12

/**
 * One statement's rows in PostgreSQL's binary COPY format (a header; per row a field count, then each field
 * as a 32-bit length and its bytes; a count of -1 at the end), taken as it comes in messages of any length:
 * the `data` of rows `first`, `first + 1`, … one after another in `buffer`. Refuses (drops the rest) a row
 * out of place, a null, or bytes past `limit` (what the MACed size leaves), so nothing larger is ever held.
 * Exported for its tests.
 */
export class PartRows {
  /** The fixed-size field being gathered, and how long it is. */
  private readonly head = Buffer.alloc(HEADER)
  private headAt = 0
  private want = HEADER
  private state: 'header' | 'skip' | 'count' | 'fields' | 'data' | 'done' = 'header'
  /** Bytes of the current data (or header extension) still to come. */
  private left = 0
  private rows = 0
  private filled = 0
  private refused = false

  constructor(
    private readonly first: number,
    private readonly expected: number,
    private readonly limit: number,
    public buffer: Buffer = Buffer.alloc(0),
  ) {}

  write(bytes: Uint8Array): void {
    let at = 0
    while (at < bytes.length && !this.refused) {
      if (this.state === 'data' || this.state === 'skip') {
        const n = Math.min(this.left, bytes.length - at)
        if (this.state === 'data') {
          this.buffer.set(bytes.subarray(at, at + n), this.filled)
          this.filled += n
        }
        at += n
        this.left -= n
        if (this.left === 0) this.expect('count', 2)
      } else if (this.state === 'done') {
        this.refused = true // bytes after the end
      } else {
        const n = Math.min(this.want - this.headAt, bytes.length - at)
        this.head.set(bytes.subarray(at, at + n), this.headAt)
        this.headAt += n
        at += n
        if (this.headAt === this.want && !this.field()) this.refused = true
      }
    }
  }

  /** The rows' data, or null when they were refused or did not end as COPY ends. */
  end(): Buffer | null {
    return this.refused || this.state !== 'done' ? null : this.buffer.subarray(0, this.filled)
  }

  private expect(state: PartRows['state'], want: number): void {
    this.state = state
    this.want = want
    this.headAt = 0
  }

  /** Reads the fixed-size field just gathered in `head`; false when it is refused. */
  private field(): boolean {
    const head = this.head
    if (this.state === 'header') {
      // Bits 0–15 of the flags mark a format this reader doesn't know and bit 16 "with OIDs", which no COPY of
      // a query sends: refused. Bits 17–31 are backwards-compatible additions, to be ignored (PostgreSQL's
      // COPY documentation). An extension is skipped.
      const extension = head.readInt32BE(15)
      const signed = head.subarray(0, SIGNATURE.length).equals(SIGNATURE)
      if (!signed || (head.readUInt32BE(11) & 0x1ffff) !== 0 || extension < 0) return false
      this.left = extension
      if (extension > 0) this.state = 'skip'
      else this.expect('count', 2)
      return true
    }
    if (this.state === 'count') {
      const count = head.readInt16BE(0)
      if (count === -1) this.expect('done', 0)
      else if (count === 2) this.expect('fields', ROW_FIELDS)
      return count === -1 || count === 2
    }
    // `part` a 4-byte integer, the next in order; `data` not null, and within what the MACed size leaves.
    const length = head.readInt32BE(8)
    if (head.readInt32BE(0) !== 4 || head.readInt32BE(4) !== this.first + this.rows) return false
    if (length < 0 || this.filled + length > this.limit) return false
    this.room(length)
    this.rows++
    this.left = length
    if (length > 0) this.expect('data', 0)
    else this.expect('count', 2)
    return true
  }

  /**
   * Room for `length` more bytes: the buffer kept from the last statement when it is long enough, else one
   * for the rows still expected at this row's length (all parts but the last are one size), within `limit`.
   */
  private room(length: number): void {
    const need = this.filled + length
    if (need <= this.buffer.length) return
    const rowsLeft = Math.max(1, this.expected - this.rows)
    const grown = Buffer.allocUnsafe(Math.min(this.limit, Math.max(need, this.filled + length * rowsLeft)))
    this.buffer.copy(grown, 0, 0, this.filled)
    this.buffer = grown
  }
}
