import { createHash, timingSafeEqual } from 'node:crypto'
import { type Selectable, sql } from 'kysely'
import { currentRevision } from './changes.repository.ts'
import type { Db, EngineSnapshotsTable, Executor } from './database.ts'
import { packState } from './engine-state-packing.ts'
import { readParts } from './engine-state-parts.ts'

/**
 * The engine's state as bytes (core `Authorizer.encodeState`), kept beside the change-feed revision it
 * reflects (migration 0020), so an instance can restore it and apply the feed after it instead of reading
 * every row (issue 25.4). Never trusted blindly: `readEngineSnapshot` hands bytes back only when the
 * snapshot's MAC verifies under the server's keyring (migration 0021: over its metadata and the digest of its
 * bytes, so that whoever can write the database but does not hold ORGKIT_SECRET_KEY cannot plant a state),
 * its format and model are the reader's, its lineage was built from rows recently enough, its bytes hash to
 * the digest written with them, the feed still holds its revision with the same contents (`feed_mark`), the
 * database has not gone back before it, and no migration has run since it was written. Anything else is a
 * refusal with its reason; the caller then loads from rows as before.
 */

/**
 * Bytes per row of `engine_snapshot_parts`. When rows were read as query values, the driver built a string of
 * each: 1 MB rows read 57 MB for ~1 s of CPU at load ~11 where 8 MB rows took 2.7-2.9 s (each row's 16 MB
 * string went to V8's large-object space and brought on full collections). Now COPYed out a few at a time
 * (engine-state-parts.ts), with no string, but a part is still a row PostgreSQL holds whole to send it.
 */
export const PART_BYTES = 1 << 20

export interface SnapshotHeader {
  revision: number
  format: number
  model: string
  /** When this state's lineage was last built from rows (epoch ms), carried from save to save. */
  lineageAt: number
  /**
   * The migrations applied when this lineage read its rows (`migrationMark`), carried from save to save: a
   * migration since may have changed rows no change-feed entry tells of, so a state is written only while
   * the database's mark is still this one (an older instance saving after a newer one migrated writes none).
   */
  migration: string
}

/**
 * HMAC-SHA-256 under the server's keyring (server/src/security/engine-state-mac.ts derives a key of its
 * own per keyring key): the store holds no key, it only says what is MACed and compares.
 */
export interface StateMac {
  /** The id of the key a state written now is MACed with (the keyring's current one). */
  readonly current: string
  /** The MAC of `message` under key `kid`, or null when the keyring does not hold that key. */
  mac(kid: string, message: Uint8Array): Uint8Array | null
}

export type SnapshotRead =
  | { bytes: Uint8Array; revision: number; lineageAt: number; migration: string }
  | {
      bytes: null
      reason:
        | 'none'
        | 'key'
        | 'mac'
        | 'format'
        | 'model'
        | 'lineage'
        | 'feed'
        | 'ahead'
        | 'migration'
        | 'digest'
    }

/** What a snapshot's MAC covers: every column that says what its bytes are, and their digest. */
type Signed = Omit<Selectable<EngineSnapshotsTable>, 'id' | 'mac' | 'created_at'>

/**
 * The bytes a snapshot's MAC is over: its columns in a fixed order, as a JSON array (unambiguous, whatever a
 * value holds), the key id among them. The digest stands for the bytes (SHA-256 of them as stored, checked
 * as they are read), so a MAC is checked before a byte is read and re-MACed by rotation without reading any.
 */
export function macMessage(row: Signed): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify([
      'orgkit engine-state 1',
      row.mac_kid,
      row.format,
      row.model,
      String(row.revision),
      row.migration,
      row.feed_mark,
      row.lineage_at.getTime(),
      row.digest,
      String(row.size),
      row.parts,
    ]),
  )
}

/** Whether `row.mac` is the MAC of its columns under its key: 'key' when the keyring lacks that key. */
function verify(row: Signed & { mac: string }, mac: StateMac): true | 'key' | 'mac' {
  const want = mac.mac(row.mac_kid, macMessage(row))
  if (want === null) return 'key'
  const got = Buffer.from(row.mac, 'hex')
  // Constant time: how much of a planted MAC matched must not show in how long the refusal took.
  return got.length === want.length && timingSafeEqual(got, want) ? true : 'mac'
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** What the feed holds at `revision` (md5 of its changes), or '' at revision 0 and null when it has none. */
async function feedMark(db: Executor, revision: number): Promise<string | null> {
  if (revision === 0) return ''
  const row = await db
    .selectFrom('change_log')
    .select(sql<string>`md5(changes::text)`.as('mark'))
    .where('revision', '=', String(revision))
    .executeTakeFirst()
  return row?.mark ?? null
}

/** The migrations applied, as one word: a migration run since a snapshot was written may have changed rows. */
export async function migrationMark(db: Executor): Promise<string> {
  const { rows } = await sql<{ mark: string }>`
    select count(*) || ':' || coalesce(max(name), '') as mark from kysely_migration
  `.execute(db)
  return rows[0]!.mark
}

const digestOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/**
 * Keeps `bytes` as the snapshot at `header.revision`, MACed with the keyring's current key, replacing any
 * older one, in one transaction. Returns false (and writes nothing) when the snapshot kept is a trusted one
 * (its MAC verifies) of a later revision, when the feed does not hold the revision (a state must reflect
 * a committed revision), or when a migration has run since the state's lineage read its rows. One at the
 * same revision is replaced: the writer loaded from rows, so the kept one was refused (broken, too old a
 * lineage, or older than a migration); so is one that does not verify, whatever its revision, or a
 * planted row could keep every later state out.
 */
export async function writeEngineSnapshot(
  db: Db,
  header: SnapshotHeader,
  bytes: Uint8Array,
  mac: StateMac,
  partBytes = PART_BYTES,
): Promise<boolean> {
  const packed = await packState(bytes) // engine-state-packing.ts
  // Of the bytes as stored: a part changed or lost is caught before anything decompressed is used.
  const digest = digestOf(packed)
  return db.transaction().execute(async (tx) => {
    // One writer at a time; readers read the snapshot kept until this commits.
    await sql`lock table engine_snapshots in share row exclusive mode`.execute(tx)
    const kept = await tx.selectFrom('engine_snapshots').selectAll().orderBy('id', 'desc').executeTakeFirst()
    if (
      kept &&
      Number(kept.revision) > header.revision &&
      kept.model === header.model &&
      kept.format === header.format &&
      verify(kept, mac) === true
    )
      return false
    const mark = await feedMark(tx, header.revision)
    if (mark === null) return false
    if ((await migrationMark(tx)) !== header.migration) return false
    await tx.deleteFrom('engine_snapshots').execute()
    const parts = Math.max(1, Math.ceil(packed.length / partBytes))
    const signed: Signed = {
      revision: String(header.revision),
      format: header.format,
      model: header.model,
      migration: header.migration,
      feed_mark: mark,
      digest,
      size: String(packed.length),
      parts,
      lineage_at: new Date(header.lineageAt),
      mac_kid: mac.current,
    }
    const sealed = mac.mac(mac.current, macMessage(signed))
    if (sealed === null) throw new Error(`the keyring does not hold its current key "${mac.current}"`)
    const { id } = await tx
      .insertInto('engine_snapshots')
      .values({ ...signed, mac: hex(sealed) })
      .returning('id')
      .executeTakeFirstOrThrow()
    for (let part = 0; part < parts; part++) {
      const data = packed.subarray(part * partBytes, (part + 1) * partBytes)
      await tx.insertInto('engine_snapshot_parts').values({ snapshot_id: id, part, data }).execute()
    }
    return true
  })
}

/**
 * The snapshot kept, if it is one this reader may trust (see above); its revision, lineage and bytes.
 * `lineageAfter` (epoch ms): a snapshot whose lineage was built from rows before it is refused ('lineage').
 */
export async function readEngineSnapshot(
  db: Db,
  expect: { format: number; model: string; lineageAfter?: number },
  mac: StateMac,
): Promise<SnapshotRead> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx): Promise<SnapshotRead> => {
      const kept = await tx
        .selectFrom('engine_snapshots')
        .selectAll()
        .orderBy('id', 'desc')
        .executeTakeFirst()
      if (!kept) return { bytes: null, reason: 'none' }
      // First: nothing else a row says counts before its MAC does.
      const verified = verify(kept, mac)
      if (verified !== true) return { bytes: null, reason: verified }
      if (kept.format !== expect.format) return { bytes: null, reason: 'format' }
      if (kept.model !== expect.model) return { bytes: null, reason: 'model' }
      const lineageAt = kept.lineage_at.getTime()
      if (lineageAt < (expect.lineageAfter ?? Number.NEGATIVE_INFINITY))
        return { bytes: null, reason: 'lineage' }
      const revision = Number(kept.revision)
      if ((await currentRevision(tx)) < revision) return { bytes: null, reason: 'ahead' }
      if ((await feedMark(tx, revision)) !== kept.feed_mark) return { bytes: null, reason: 'feed' }
      if ((await migrationMark(tx)) !== kept.migration) return { bytes: null, reason: 'migration' }
      const state = await readParts(tx, kept, Number(kept.size))
      if (state === null) return { bytes: null, reason: 'digest' }
      // A buffer of its own (byte 0 of its memory): the restored engine's arrays are views of it, aligned.
      return { bytes: state, revision, lineageAt, migration: kept.migration }
    })
}

/**
 * `orgkit secrets rotate`: the snapshot kept, MACed anew under the keyring's current key when an older key
 * it still holds verifies it (its metadata only: the MAC covers the bytes through their digest, so nothing
 * is read). Whether it did; a snapshot no key verifies is left as it is, refused at the next start and
 * replaced by the next save.
 */
export async function remacEngineSnapshot(db: Db, mac: StateMac): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await sql`lock table engine_snapshots in share row exclusive mode`.execute(tx)
    const kept = await tx.selectFrom('engine_snapshots').selectAll().orderBy('id', 'desc').executeTakeFirst()
    if (!kept || kept.mac_kid === mac.current || verify(kept, mac) !== true) return false
    const resigned = { ...kept, mac_kid: mac.current }
    const sealed = mac.mac(mac.current, macMessage(resigned))
    if (sealed === null) return false
    await tx
      .updateTable('engine_snapshots')
      .set({ mac_kid: mac.current, mac: hex(sealed) })
      .where('id', '=', kept.id)
      .execute()
    return true
  })
}

/** The snapshot kept: its revision, size, lineage and key id, or null (tests, the bench). */
export async function engineSnapshotInfo(
  db: Executor,
): Promise<{ revision: number; size: number; lineageAt: number; kid: string } | null> {
  const kept = await db
    .selectFrom('engine_snapshots')
    .select(['revision', 'size', 'lineage_at', 'mac_kid'])
    .executeTakeFirst()
  return kept
    ? {
        revision: Number(kept.revision),
        size: Number(kept.size),
        lineageAt: kept.lineage_at.getTime(),
        kid: kept.mac_kid,
      }
    : null
}
