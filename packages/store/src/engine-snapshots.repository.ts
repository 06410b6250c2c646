import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { brotliCompress, brotliDecompress, constants } from 'node:zlib'
import { sql } from 'kysely'
import { currentRevision } from './changes.repository.ts'
import type { Db, Executor } from './database.ts'

/**
 * The engine's state as bytes (core `Authorizer.encodeState`), kept beside the change-feed revision it
 * reflects (migration 0020), so an instance can restore it and apply the feed after it instead of reading
 * every row (issue 25.4). Never trusted blindly: `readEngineSnapshot` hands bytes back only when the
 * snapshot's format and model are the reader's, its bytes hash to the digest written with them, the feed
 * still holds its revision with the same contents (`feed_mark`), the database has not gone back before it,
 * and no migration has run since it was written. Anything else is a refusal with its reason; the caller
 * then loads from rows as before.
 */

/** Bytes per row of `engine_snapshot_parts`. */
export const PART_BYTES = 8 << 20

export interface SnapshotHeader {
  revision: number
  format: number
  model: string
}

export type SnapshotRead =
  | { bytes: Uint8Array; revision: number }
  | { bytes: null; reason: 'none' | 'format' | 'model' | 'feed' | 'ahead' | 'migration' | 'digest' }

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
async function migrationMark(db: Executor): Promise<string> {
  const { rows } = await sql<{ mark: string }>`
    select count(*) || ':' || coalesce(max(name), '') as mark from kysely_migration
  `.execute(db)
  return rows[0]!.mark
}

const digestOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/**
 * Stored compressed: brotli at its fastest (a 1M-binding state, 138 MB, becomes ~57 MB in ~0.7 s each way),
 * on libuv's threads, not the event loop. Less to read back through the driver, which is most of a read.
 */
const compress = promisify(brotliCompress)
const decompress = promisify(brotliDecompress)
const FAST = { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_LGWIN]: 22 } }

/**
 * Keeps `bytes` as the snapshot at `header.revision`, replacing any older one, in one transaction. Returns
 * false (and writes nothing) when the snapshot kept is of a later revision, or when the feed does not
 * hold the revision (a state must reflect a committed revision). One at the same revision is replaced: the
 * writer loaded from rows, so the kept one was refused (broken, or older than a migration).
 */
export async function writeEngineSnapshot(
  db: Db,
  header: SnapshotHeader,
  bytes: Uint8Array,
  partBytes = PART_BYTES,
): Promise<boolean> {
  const packed = await compress(bytes, {
    ...FAST,
    params: { ...FAST.params, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  })
  // Of the bytes as stored: a part changed or lost is caught before anything is decompressed.
  const digest = digestOf(packed)
  return db.transaction().execute(async (tx) => {
    // One writer at a time; readers read the snapshot kept until this commits.
    await sql`lock table engine_snapshots in share row exclusive mode`.execute(tx)
    const kept = await tx
      .selectFrom('engine_snapshots')
      .select(['revision', 'model', 'format'])
      .orderBy('id', 'desc')
      .executeTakeFirst()
    if (
      kept &&
      Number(kept.revision) > header.revision &&
      kept.model === header.model &&
      kept.format === header.format
    )
      return false
    const mark = await feedMark(tx, header.revision)
    if (mark === null) return false
    await tx.deleteFrom('engine_snapshots').execute()
    const parts = Math.max(1, Math.ceil(packed.length / partBytes))
    const { id } = await tx
      .insertInto('engine_snapshots')
      .values({
        revision: String(header.revision),
        format: header.format,
        model: header.model,
        migration: await migrationMark(tx),
        feed_mark: mark,
        digest,
        size: String(packed.length),
        parts,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    for (let part = 0; part < parts; part++) {
      const data = packed.subarray(part * partBytes, (part + 1) * partBytes)
      await tx.insertInto('engine_snapshot_parts').values({ snapshot_id: id, part, data }).execute()
    }
    return true
  })
}

/** The snapshot kept, if it is one this reader may trust (see above); its revision, and its bytes. */
export async function readEngineSnapshot(
  db: Db,
  expect: { format: number; model: string },
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
      if (kept.format !== expect.format) return { bytes: null, reason: 'format' }
      if (kept.model !== expect.model) return { bytes: null, reason: 'model' }
      const revision = Number(kept.revision)
      if ((await currentRevision(tx)) < revision) return { bytes: null, reason: 'ahead' }
      if ((await feedMark(tx, revision)) !== kept.feed_mark) return { bytes: null, reason: 'feed' }
      if ((await migrationMark(tx)) !== kept.migration) return { bytes: null, reason: 'migration' }
      const bytes = new Uint8Array(Number(kept.size))
      let at = 0
      for (let part = 0; part < kept.parts; part++) {
        const row = await tx
          .selectFrom('engine_snapshot_parts')
          .select('data')
          .where('snapshot_id', '=', kept.id)
          .where('part', '=', part)
          .executeTakeFirst()
        if (!row || at + row.data.length > bytes.length) return { bytes: null, reason: 'digest' }
        bytes.set(row.data, at)
        at += row.data.length
      }
      if (at !== bytes.length || digestOf(bytes) !== kept.digest) return { bytes: null, reason: 'digest' }
      const state = await decompress(bytes).catch(() => null)
      if (state === null) return { bytes: null, reason: 'digest' }
      // A fresh buffer of its own: the engine's arrays are copied out of it, aligned.
      return { bytes: state, revision }
    })
}

/** The snapshot kept: its revision and size, or null (tests, the bench). */
export async function engineSnapshotInfo(db: Executor): Promise<{ revision: number; size: number } | null> {
  const kept = await db.selectFrom('engine_snapshots').select(['revision', 'size']).executeTakeFirst()
  return kept ? { revision: Number(kept.revision), size: Number(kept.size) } : null
}
