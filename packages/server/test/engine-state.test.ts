import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { brotliCompressSync, deflateRawSync, inflateRawSync } from 'node:zlib'
import {
  Authorizer,
  CompiledModel,
  engineBuild,
  presets,
  STATE_FORMAT,
  type Subject,
  stateFingerprint,
  type Target,
} from '@orgkit/core'
import { type Db, engineSnapshots, recordChanges } from '@orgkit/store'
import { sql } from 'kysely'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_ENGINE_STATE_MAX_AGE_MS, loadConfig } from '../src/config.ts'
import { EngineReplica, FeedEntryRefused } from '../src/engine-replica.ts'
import { engineStateMac } from '../src/security/engine-state-mac.ts'
import { parseKeyring } from '../src/security/secret-box.ts'
import { engineDisagreements, formatDisagreements, freshEngine } from './support/engine-diff.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * The engine's state kept in the database (issue 25.4): an instance restores it and catches up from the
 * change feed, answering as an engine loaded from rows; a state that is stale is caught up, and one that is
 * corrupt, of another model or build, does not match the feed, fails its MAC (altered or planted by someone
 * who can write the database but does not hold ORGKIT_SECRET_KEY), is MACed under a key the keyring no longer
 * holds, or descends from a load from rows older than the maximum age is refused and rows are read instead.
 */
describe.each(DATABASES)('engine state (%s)', (database) => {
  let s: TestServer
  let w: CapgoWorld
  const clock = Date.now
  beforeAll(async () => {
    s = await startTestServer(database)
    w = await capgoWorld(s)
  })
  afterAll(async () => {
    await s?.stop()
  })

  const scope = () => ({
    subjects: Object.values(w.users).map((id): Subject => ({ type: 'user', id })),
    targets: [
      { type: 'org', id: w.orgId },
      { type: 'app', id: w.appId },
      { type: 'channel', id: w.stagingId },
      { type: 'channel', id: w.productionId },
    ] as Target[],
  })
  const mac = () => engineStateMac(s.ctx.secrets.keyring)
  const replicaOf = (
    options: {
      compiled?: CompiledModel
      at?: () => number
      keyring?: Parameters<typeof engineStateMac>[0]
    } = {},
  ) =>
    new EngineReplica(s.ctx.db, options.compiled ?? s.ctx.compiled, options.at ?? clock, {
      feedMac: s.ctx.engine.feedMac,
      state: {
        mac: engineStateMac(options.keyring ?? s.ctx.secrets.keyring),
        maxAgeMs: DEFAULT_ENGINE_STATE_MAX_AGE_MS,
      },
    })
  /** A replica loaded as an instance starts, checked against an engine read from rows (same clock). */
  const started = async (options: Parameters<typeof replicaOf>[0] = {}) => {
    const replica = replicaOf(options)
    await replica.load(true)
    const rows = await freshEngine(s.ctx.db, options.compiled ?? s.ctx.compiled, options.at ?? clock)
    expect(replica.revision).toBe(rows.revision)
    const found = engineDisagreements(replica.authorizer, rows.authorizer, scope())
    expect(found, formatDisagreements(found, new Map())).toEqual([])
    return replica
  }
  const refusedWith = async (reason: string, options: Parameters<typeof replicaOf>[0] = {}) => {
    const replica = await started(options)
    expect(replica.loadedFrom).toEqual({ kind: 'rows', refused: reason })
    return replica
  }
  /** A fresh state at the current revision, written by the running instance. */
  const freshState = async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    s.ctx.engine.savedRevision = 0
    expect(await s.ctx.engine.saveState()).toBe(true)
    return (await engineSnapshots.engineSnapshotInfo(s.ctx.db))!
  }
  const grant = (role: string, userId = w.users.outsider, expiresAt?: string) =>
    s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role,
      resourceId: w.appId,
      ...(expiresAt && { expiresAt }),
    })
  /** A header for bytes that are no engine state (format 99), at the current revision and migrations. */
  const testStateHeader = async () => {
    const key = { format: 99, model: 'test' }
    const migration = await engineSnapshots.migrationMark(s.ctx.db)
    return { key, header: { revision: s.ctx.engine.revision, ...key, lineageAt: clock(), migration } }
  }
  const memberMayDeleteOrg = (replica: EngineReplica) =>
    replica.authorizer.check({ type: 'user', id: w.users.member }, 'org.delete', { type: 'org', id: w.orgId })
      .allowed

  it('restores a state written at the current revision, answering as an engine read from rows', async () => {
    expect(await s.ctx.engine.saveState()).toBe(true)
    const kept = await engineSnapshots.engineSnapshotInfo(s.ctx.db)
    expect(kept?.revision).toBe(s.ctx.engine.revision)
    expect(kept?.kid).toBe(s.ctx.secrets.keyring.current)
    const replica = await started()
    expect(replica.loadedFrom).toEqual({ kind: 'state', revision: kept!.revision })
    // Nothing newer to write: the kept state stays.
    expect(await s.ctx.engine.saveState()).toBe(false)
  })

  it('catches a stale state up from the change feed', async () => {
    const kept = (await engineSnapshots.engineSnapshotInfo(s.ctx.db))!
    expect((await grant('app_uploader')).status).toBe(201)
    const replica = await started()
    expect(replica.loadedFrom).toEqual({ kind: 'state', revision: kept.revision })
    expect(replica.revision).toBeGreaterThan(kept.revision)
    expect(
      replica.authorizer.check({ type: 'user', id: w.users.outsider }, 'app.upload_bundle', {
        type: 'app',
        id: w.appId,
      }).allowed,
    ).toBe(true)
  })

  it('refuses a corrupt state, one of another model, or one the feed does not match, and reads rows', async () => {
    await freshState()
    const db = s.ctx.db
    // A byte flipped in the stored bytes: the digest no longer matches.
    await sql`update engine_snapshot_parts set data = overlay(data placing '\\xff'::bytea from 100 for 1)`.execute(
      db,
    )
    await refusedWith('digest')
    await freshState()
    // Another model.
    await refusedWith('model', {
      compiled: new CompiledModel({ ...presets.capgo!, label: 'Capgo, relabelled' }),
    })
    // What follows happens without tampering (a database restored elsewhere, a migration), so the row is
    // MACed again after each change, as its writer would have.
    // The feed at its revision says something else (a database restored elsewhere, or rewritten).
    await sql`update engine_snapshots set feed_mark = 'elsewhere'`.execute(db)
    await remac(db, mac())
    await refusedWith('feed')
    // The database went back before it.
    await sql`update engine_snapshots set revision = revision + 1000`.execute(db)
    await remac(db, mac())
    await refusedWith('ahead')
    // A migration ran since.
    await sql`update engine_snapshots set revision = revision - 1000, migration = '1:0001-initial',
      feed_mark = (select md5(changes::text) from change_log where revision = engine_snapshots.revision - 1000)`.execute(
      db,
    )
    await remac(db, mac())
    await refusedWith('migration')
    // Bytes that pass the digest and the MAC but are no engine state.
    await sql`delete from engine_snapshots`.execute(db)
    const header = {
      revision: s.ctx.engine.revision,
      format: STATE_FORMAT,
      model: stateFingerprint(s.ctx.compiled.model),
      lineageAt: clock(),
      migration: await engineSnapshots.migrationMark(db),
    }
    expect(await engineSnapshots.writeEngineSnapshot(db, header, new Uint8Array(64), mac())).toBe(true)
    const replica = replicaOf()
    await replica.load(true)
    expect(replica.loadedFrom.kind).toBe('rows')
    expect(String((replica.loadedFrom as { refused: string }).refused)).toMatch(/^unreadable/)
  })

  it('refuses a state written by another engine build (the build half of the fingerprint)', async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    // A state as the same model under another build's code would have written it, MACed with our key.
    const header = {
      revision: s.ctx.engine.revision,
      format: STATE_FORMAT,
      model: stateFingerprint(s.ctx.compiled.model, `${engineBuild()}\n// another build`),
      lineageAt: clock(),
      migration: await engineSnapshots.migrationMark(s.ctx.db),
    }
    expect(header.model).not.toBe(stateFingerprint(s.ctx.compiled.model))
    const bytes = s.ctx.engine.authorizer.encodeState(s.ctx.engine.revision)
    expect(await engineSnapshots.writeEngineSnapshot(s.ctx.db, header, bytes, mac())).toBe(true)
    await refusedWith('model')
  })

  it('refuses planted bytes whose SHA-256 was recomputed: the grant they hold is never answered', async () => {
    // Regression for the security finding on issue 25.4: the digest alone was a checksum, so whoever could
    // write the database could plant an engine granting what no binding row shows.
    await freshState()
    const db = s.ctx.db
    const planted = await superAdminState(db, s.ctx.compiled, w)
    // The plant is potent: restored without question, it grants a member the deletion of the org.
    const restoredAsIs = Authorizer.restore(s.ctx.compiled, planted, { clock })
    expect(
      restoredAsIs.authorizer.check({ type: 'user', id: w.users.member }, 'org.delete', {
        type: 'org',
        id: w.orgId,
      }).allowed,
    ).toBe(true)
    await plant(db, planted)
    const replica = await refusedWith('mac')
    expect(memberMayDeleteOrg(replica)).toBe(false)
  })

  it('reads rows for a state MACed with a key the keyring does not hold, and restores it with one that does', async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    const gone = parseKeyring(`gone:${randomBytes(32).toString('hex')}`)
    const header = {
      revision: s.ctx.engine.revision,
      format: STATE_FORMAT,
      model: stateFingerprint(s.ctx.compiled.model),
      lineageAt: clock(),
      migration: await engineSnapshots.migrationMark(s.ctx.db),
    }
    const bytes = s.ctx.engine.authorizer.encodeState(s.ctx.engine.revision)
    expect(await engineSnapshots.writeEngineSnapshot(s.ctx.db, header, bytes, engineStateMac(gone))).toBe(
      true,
    )
    expect((await engineSnapshots.engineSnapshotInfo(s.ctx.db))?.kid).toBe('gone')
    await refusedWith('key')
    // A rotated keyring still holding the old key (current first) verifies with it.
    const rotated = parseKeyring(
      `next:${randomBytes(32).toString('hex')},gone:${gone.keys.get('gone')!.toString('hex')}`,
    )
    expect((await started({ keyring: rotated })).loadedFrom.kind).toBe('state')
    // The same key id with other key bytes is another key: refused.
    const impostor = parseKeyring(`gone:${randomBytes(32).toString('hex')}`)
    await refusedWith('mac', { keyring: impostor })
    // `secrets rotate` MACs it anew under the current key, reading no bytes; then the old key can go.
    expect(await engineSnapshots.remacEngineSnapshot(s.ctx.db, engineStateMac(rotated))).toBe(true)
    expect((await engineSnapshots.engineSnapshotInfo(s.ctx.db))?.kid).toBe('next')
    const nextOnly = parseKeyring(`next:${rotated.keys.get('next')!.toString('hex')}`)
    expect((await started({ keyring: nextOnly })).loadedFrom.kind).toBe('state')
  })

  it('refuses a state whose metadata was altered with its MAC kept', async () => {
    const db = s.ctx.db
    // Its revision moved back one, the feed mark and the bytes' own header made to agree: only the MAC
    // holds the revision to what was written.
    expect((await grant('app_reader', await s.user('Later'))).status).toBe(201)
    await freshState()
    await sql`update engine_snapshots set revision = revision - 1,
      feed_mark = (select md5(changes::text) from change_log where revision = engine_snapshots.revision - 1)`.execute(
      db,
    )
    await refusedWith('mac')
    // Its lineage made young again, to keep an old lineage alive past the maximum age.
    await freshState()
    await sql`update engine_snapshots set lineage_at = lineage_at + interval '1 day'`.execute(db)
    await refusedWith('mac')
    // Its key id swapped for another the keyring holds.
    await freshState()
    const two = parseKeyring(
      `${s.ctx.secrets.keyring.current}:${s.ctx.secrets.keyring.keys.get(s.ctx.secrets.keyring.current)!.toString('hex')},other:${randomBytes(32).toString('hex')}`,
    )
    await sql`update engine_snapshots set mac_kid = 'other'`.execute(db)
    await refusedWith('mac', { keyring: two })
  })

  it('reads rows once a lineage is older than the maximum age, and the next save starts a new one', async () => {
    const kept = await freshState()
    const later = () => clock() + DEFAULT_ENGINE_STATE_MAX_AGE_MS + 3_600_000
    // Restored and saved again (a day later, say), a state keeps the lineage it descends from.
    const restored = await started({ at: () => clock() + 86_400_000 })
    expect(restored.loadedFrom.kind).toBe('state')
    expect(restored.lineageAt).toBe(kept.lineageAt)
    const old = await refusedWith('lineage', { at: later })
    expect(old.lineageAt).toBeGreaterThan(kept.lineageAt + DEFAULT_ENGINE_STATE_MAX_AGE_MS)
    // Loaded from rows at the state's revision: its save replaces the old lineage's state.
    expect(await old.saveState()).toBe(true)
    const renewed = (await engineSnapshots.engineSnapshotInfo(s.ctx.db))!
    expect(renewed.lineageAt).toBe(old.lineageAt)
    expect((await started({ at: later })).loadedFrom.kind).toBe('state')
  })

  it('writes no state from a lineage that read its rows before a migration since (a rolling upgrade)', async () => {
    // An older instance loaded from rows; then a newer version's migration ran (it may change rows, and
    // writes no change-feed entry); the older one follows the feed and saves at its timer or its close.
    const older = replicaOf()
    await older.load(false)
    await sql`insert into kysely_migration (name, timestamp) values ('9999-a-later-version', now()::text)`.execute(
      s.ctx.db,
    )
    try {
      expect((await grant('app_reader', w.users.member)).status).toBe(201)
      await older.catchUp()
      await sql`delete from engine_snapshots`.execute(s.ctx.db)
      // Its state would carry rows from before the migration under the new mark: not written.
      expect(await older.saveState()).toBe(false)
      expect(await engineSnapshots.engineSnapshotInfo(s.ctx.db)).toBeNull()
      // An instance that read its rows after the migration writes one, and the next start restores it.
      const newer = replicaOf()
      await newer.load(true)
      expect(newer.loadedFrom).toEqual({ kind: 'rows', refused: null })
      expect(await newer.saveState()).toBe(true)
      const restored = await started()
      expect(restored.loadedFrom.kind).toBe('state')
    } finally {
      await sql`delete from kysely_migration where name = '9999-a-later-version'`.execute(s.ctx.db)
      await sql`delete from engine_snapshots`.execute(s.ctx.db)
    }
  })

  it('reloads from rows when the change feed lacks a revision it has passed (a feed row deleted)', async () => {
    const resyncs: unknown[] = []
    const replica = new EngineReplica(s.ctx.db, s.ctx.compiled, clock, {
      feedMac: s.ctx.engine.feedMac,
      onResync: (e) => resyncs.push(e),
    })
    await replica.load(false)
    const first = await s.user('Gapone')
    const second = await s.user('Gaptwo')
    expect((await grant('app_uploader', first)).status).toBe(201)
    const missing = s.ctx.engine.revision
    expect((await grant('app_uploader', second)).status).toBe(201)
    // Moved out of the feed's way (and back after): as good as deleted for every reader of the feed.
    const move = (from: number, to: number) =>
      sql`update change_log set revision = ${String(to)} where revision = ${String(from)}`.execute(s.ctx.db)
    await move(missing, -missing)
    try {
      await replica.catchUp()
      // Applying the next revision over the gap would have lost the first grant for good.
      expect(resyncs.map((e) => e instanceof FeedEntryRefused && [e.revision, e.reason])).toEqual([
        [missing, 'missing'],
      ])
      const mayUpload = (id: string) =>
        replica.authorizer.check({ type: 'user', id }, 'app.upload_bundle', { type: 'app', id: w.appId })
          .allowed
      expect([mayUpload(first), mayUpload(second)]).toEqual([true, true])
    } finally {
      await move(-missing, missing)
    }
  })

  it('leaves one state that restores when two instances save at the same moment', async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    const first = replicaOf()
    await first.load(true)
    expect((await grant('app_reader', await s.user('Racer'))).status).toBe(201)
    const second = replicaOf()
    await second.load(true)
    expect(second.revision).toBeGreaterThan(first.revision)
    const same = replicaOf()
    await same.load(true)
    for (const order of [
      [first, second, same],
      [same, second, first],
    ]) {
      await sql`delete from engine_snapshots`.execute(s.ctx.db)
      for (const r of order) r.savedRevision = 0
      const written = await Promise.all(order.map((r) => r.saveState()))
      expect(written.filter(Boolean).length).toBeGreaterThan(0)
      const rows = await sql<{ id: string; parts: number; n: number; revision: string }>`
        select s.id, s.parts, s.revision, (select count(*)::int from engine_snapshot_parts p where p.snapshot_id = s.id) as n
        from engine_snapshots s`.execute(s.ctx.db)
      expect(rows.rows).toHaveLength(1)
      expect(rows.rows[0]!.n).toBe(rows.rows[0]!.parts)
      expect(
        (await sql<{ n: number }>`select count(*)::int as n from engine_snapshot_parts`.execute(s.ctx.db))
          .rows[0]!.n,
      ).toBe(rows.rows[0]!.parts)
      // The later revision is kept, whichever committed last.
      expect(Number(rows.rows[0]!.revision)).toBe(second.revision)
      expect((await started()).loadedFrom).toEqual({ kind: 'state', revision: second.revision })
    }
  })

  it('denies, once restored under a later clock, a binding that expired between save and restore', async () => {
    const temp = await s.user('Temporary')
    const expiresAt = new Date(clock() + 3_600_000).toISOString()
    expect((await grant('app_uploader', temp, expiresAt)).status).toBe(201)
    await freshState()
    const upload = (replica: EngineReplica) =>
      replica.authorizer.check({ type: 'user', id: temp }, 'app.upload_bundle', { type: 'app', id: w.appId })
    const now = await started()
    expect(now.loadedFrom.kind).toBe('state')
    expect(upload(now).allowed).toBe(true)
    const afterExpiry = await started({ at: () => clock() + 2 * 3_600_000 })
    expect(afterExpiry.loadedFrom.kind).toBe('state')
    expect(upload(afterExpiry).allowed).toBe(false)
  })

  it('reads rows when the feed after a restored state holds a change the engine refuses', async () => {
    await freshState()
    // A committed change naming a user nobody created: the engine refuses it, whatever the state said.
    await s.ctx.db
      .transaction()
      .execute((tx) =>
        recordChanges(
          tx,
          [{ op: 'membership.put', membership: { orgId: w.orgId, userId: randomUUID(), status: 'active' } }],
          s.ctx.engine.feedMac,
        ),
      )
    const replica = await started()
    expect(replica.loadedFrom).toEqual({ kind: 'rows', refused: 'a change after the state' })
  })

  it('splits a state into parts and reads them back whole', async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    const revision = s.ctx.engine.revision
    // Random, so that compressed they still take three parts of 1000 bytes.
    const bytes = new Uint8Array(randomBytes(2 * 1000 + 3))
    const key = { format: 99, model: 'test' }
    const header = {
      revision,
      ...key,
      lineageAt: clock(),
      migration: await engineSnapshots.migrationMark(s.ctx.db),
    }
    expect(await engineSnapshots.writeEngineSnapshot(s.ctx.db, header, bytes, mac(), 1000)).toBe(true)
    const read = await engineSnapshots.readEngineSnapshot(s.ctx.db, key, mac())
    expect(read.bytes?.length).toBe(bytes.length)
    expect(
      (await sql<{ n: number }>`select count(*)::int as n from engine_snapshot_parts`.execute(s.ctx.db))
        .rows[0]!.n,
    ).toBe(3)
    expect(Buffer.from(read.bytes!).equals(Buffer.from(bytes))).toBe(true)
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
  })

  it('reads a state of more parts than one query reads, and refuses one with a part missing', async () => {
    // The parts are read eight to a query (engine-snapshots.repository.ts): 20 parts take three queries, and
    // a part gone anywhere — inside a query's eight or first of one — must refuse the bytes, not skip them.
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    const bytes = new Uint8Array(randomBytes(20 * 500 - 40))
    const { key, header } = await testStateHeader()
    const parts = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from engine_snapshot_parts`.execute(s.ctx.db))
        .rows[0]!.n
    for (const gone of [null, 11, 16]) {
      expect(await engineSnapshots.writeEngineSnapshot(s.ctx.db, header, bytes, mac(), 500)).toBe(true)
      expect(await parts()).toBe(20)
      if (gone !== null) await sql`delete from engine_snapshot_parts where part = ${gone}`.execute(s.ctx.db)
      const read = await engineSnapshots.readEngineSnapshot(s.ctx.db, key, mac())
      if (gone === null) expect(Buffer.from(read.bytes!).equals(Buffer.from(bytes))).toBe(true)
      else expect(read).toEqual({ bytes: null, reason: 'digest' })
    }
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
  })

  it('stores a state deflated behind its length, reads brotli ones stored before, refuses a frame that lies', async () => {
    // engine-state-packing.ts: "OKD1" and the state's length ahead of raw deflate, so a read decompresses
    // into one buffer of that length. States stored as brotli, framed ("OKB2") or not, still read; a length
    // that is not the state's is refused, even with digest and MAC made to match (remac), and so is a state
    // decompressing to more than STATE_RATIO_LIMIT times its stored size.
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    // Compressible (unlike random bytes, deflate's output then differs from the input) and longer than a part.
    const bytes = new Uint8Array(Buffer.from(randomBytes(1500).toString('hex').repeat(3)))
    const { key, header } = await testStateHeader()
    const read = () => engineSnapshots.readEngineSnapshot(s.ctx.db, key, mac())
    expect(await engineSnapshots.writeEngineSnapshot(s.ctx.db, header, bytes, mac(), 1000)).toBe(true)
    const parts = await s.ctx.db.selectFrom('engine_snapshot_parts').select('data').orderBy('part').execute()
    const stored = Buffer.concat(parts.map((part) => Buffer.from(part.data)))
    expect(parts.length).toBeGreaterThan(1)
    expect(stored.subarray(0, 4).toString('latin1')).toBe('OKD1')
    expect(stored.readUInt32LE(4)).toBe(bytes.length)
    expect(inflateRawSync(stored.subarray(8)).equals(Buffer.from(bytes))).toBe(true)
    expect(Buffer.from((await read()).bytes!).equals(Buffer.from(bytes))).toBe(true)
    const frame = (magic: string, length: number, body: Buffer) => {
      const head = Buffer.alloc(8)
      head.write(magic, 0, 'latin1')
      head.writeUInt32LE(length, 4)
      return Buffer.concat([head, body])
    }
    const deflated = deflateRawSync(bytes)
    const brotli = brotliCompressSync(bytes)
    const zeros = Buffer.alloc(1 << 20)
    for (const [packed, restores] of [
      [brotli, true],
      [frame('OKB2', bytes.length, brotli), true],
      [frame('OKD1', bytes.length, deflated), true],
      [frame('OKB2', bytes.length, deflated), false],
      [frame('OKD1', bytes.length, brotli), false],
      [frame('OKD1', bytes.length + 1, deflated), false],
      [frame('OKD1', bytes.length - 1, deflated), false],
      [frame('OKB2', bytes.length - 1, brotli), false],
      [frame('OKD1', 0, deflated), false],
      [frame('OKD1', bytes.length, deflated.subarray(0, deflated.length - 10)), false],
      // Past 10 times the stored size (no state compresses that well): refused before it is inflated.
      [frame('OKD1', zeros.length, deflateRawSync(zeros)), false],
      [brotliCompressSync(zeros), false],
    ] as const) {
      await storePacked(s.ctx.db, packed)
      await remac(s.ctx.db, mac())
      const got = await read()
      if (restores) expect(Buffer.from(got.bytes!).equals(Buffer.from(bytes))).toBe(true)
      else expect(got).toEqual({ bytes: null, reason: 'digest' })
    }
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
  })
})

/** The kept snapshot's MAC recomputed over its columns, as its writer would have: a change made legitimately. */
async function remac(db: Db, mac: ReturnType<typeof engineStateMac>) {
  const kept = await db.selectFrom('engine_snapshots').selectAll().executeTakeFirstOrThrow()
  const sealed = mac.mac(kept.mac_kid, engineSnapshots.macMessage(kept))!
  await db
    .updateTable('engine_snapshots')
    .set({ mac: Buffer.from(sealed).toString('hex') })
    .where('id', '=', kept.id)
    .execute()
}

/**
 * What someone who can write the database (not holding ORGKIT_SECRET_KEY) can do: replace the kept state's
 * bytes with `state`, compressed as the store stores it, and make the digest, size and parts say so.
 */
/** A forged state: the engine as the rows have it, plus a binding no row shows making the member super admin. */
async function superAdminState(db: Db, compiled: CompiledModel, w: CapgoWorld): Promise<Uint8Array> {
  const forged = await freshEngine(db, compiled, Date.now)
  forged.authorizer.apply([
    {
      op: 'binding.put',
      binding: {
        id: randomUUID(),
        principal: { type: 'user', id: w.users.member },
        role: 'org_super_admin',
        scope: { type: 'org', id: w.orgId },
      },
    },
  ])
  return forged.authorizer.encodeState(forged.revision)
}

async function plant(db: Db, state: Uint8Array) {
  const head = Buffer.alloc(8)
  head.write('OKD1', 0, 'latin1')
  head.writeUInt32LE(state.length, 4)
  await storePacked(db, Buffer.concat([head, deflateRawSync(state)]))
}

/** The kept snapshot's bytes as stored replaced by `packed`, its digest, size and parts made to match. */
async function storePacked(db: Db, packed: Uint8Array) {
  const digest = createHash('sha256').update(packed).digest('hex')
  const kept = await db.selectFrom('engine_snapshots').select('id').executeTakeFirstOrThrow()
  await db.deleteFrom('engine_snapshot_parts').where('snapshot_id', '=', kept.id).execute()
  await db
    .insertInto('engine_snapshot_parts')
    .values({ snapshot_id: kept.id, part: 0, data: packed })
    .execute()
  await db
    .updateTable('engine_snapshots')
    .set({ digest, size: String(packed.length), parts: 1 })
    .where('id', '=', kept.id)
    .execute()
}

describe('ORGKIT_ENGINE_STATE and ORGKIT_ENGINE_STATE_MAX_AGE (loadConfig)', () => {
  it('reads on/off and a duration with its unit, 7 days by default, and refuses anything else', () => {
    expect(loadConfig({})).toMatchObject({ engineState: true, engineStateMaxAgeMs: 7 * 86_400_000 })
    expect(loadConfig({ ORGKIT_ENGINE_STATE: 'off' }).engineState).toBe(false)
    expect(loadConfig({ ORGKIT_ENGINE_STATE: 'on' }).engineState).toBe(true)
    expect(() => loadConfig({ ORGKIT_ENGINE_STATE: 'false' })).toThrow(/ORGKIT_ENGINE_STATE/)
    expect(loadConfig({ ORGKIT_ENGINE_STATE_MAX_AGE: '12h' }).engineStateMaxAgeMs).toBe(12 * 3_600_000)
    expect(loadConfig({ ORGKIT_ENGINE_STATE_MAX_AGE: '30d' }).engineStateMaxAgeMs).toBe(30 * 86_400_000)
    for (const bad of ['7', '0d', '30s', 'a week', '400d'])
      expect(() => loadConfig({ ORGKIT_ENGINE_STATE_MAX_AGE: bad })).toThrow(/ORGKIT_ENGINE_STATE_MAX_AGE/)
  })
})

describe.runIf(DATABASES.includes('postgres'))('a second instance (postgres)', () => {
  let a: TestServer
  let b: TestServer | undefined
  let c: TestServer | undefined
  afterAll(async () => {
    await c?.stop()
    await b?.stop()
    await a?.stop()
  })
  it('starts from the state the first wrote after loading from rows', async () => {
    a = await startTestServer('postgres')
    await capgoWorld(a)
    // Its load was from rows at revision 0 (nothing to write); a write, then a restart of the engine writes.
    expect(await a.ctx.engine.saveState()).toBe(true)
    b = await startTestServer('postgres', { postgres: a.postgres })
    expect(b.ctx.engine.loadedFrom).toEqual({ kind: 'state', revision: a.ctx.engine.revision })
  })

  it('refuses a planted state at start, says so in its log, and answers from rows', async () => {
    const w = await capgoWorld(a)
    await sql`delete from engine_snapshots`.execute(a.ctx.db)
    a.ctx.engine.savedRevision = 0
    expect(await a.ctx.engine.saveState()).toBe(true)
    await plant(a.ctx.db, await superAdminState(a.ctx.db, a.ctx.compiled, w))
    const lines: { level: number; msg: string; refused?: string }[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    c = await startTestServer('postgres', { postgres: a.postgres, server: { logger } })
    expect(c.ctx.engine.loadedFrom).toEqual({ kind: 'rows', refused: 'mac' })
    const logged = lines.find((l) => l.refused === 'mac')
    expect(logged?.level).toBe(40) // warn
    const check = await c
      .as(w.users.member)
      .post('/v1/check', { permission: 'org.delete', resource: { type: 'org', id: w.orgId } })
    expect([check.status, check.body.allowed]).toEqual([200, false])
  })
})
