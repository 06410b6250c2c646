import { randomBytes, randomUUID } from 'node:crypto'
import {
  CompiledModel,
  presets,
  STATE_FORMAT,
  type Subject,
  stateFingerprint,
  type Target,
} from '@orgkit/core'
import { engineSnapshots, recordChanges } from '@orgkit/store'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineReplica } from '../src/engine-replica.ts'
import { engineDisagreements, formatDisagreements, freshEngine } from './support/engine-diff.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * The engine's state kept in the database (issue 25.4): an instance restores it and catches up from the
 * change feed, answering as an engine loaded from rows; a state that is stale is caught up, and one that is
 * corrupt, of another model, or does not match the feed is refused and rows are read instead.
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
  /** A replica loaded as an instance starts (`useState`), checked against an engine read from rows. */
  const started = async (compiled = s.ctx.compiled) => {
    const replica = new EngineReplica(s.ctx.db, compiled, clock)
    await replica.load(true)
    const rows = await freshEngine(s.ctx.db, compiled, clock)
    expect(replica.revision).toBe(rows.revision)
    const found = engineDisagreements(replica.authorizer, rows.authorizer, scope())
    expect(found, formatDisagreements(found, new Map())).toEqual([])
    return replica
  }
  const grant = (role: string) =>
    s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: w.users.outsider },
      role,
      resourceId: w.appId,
    })

  it('restores a state written at the current revision, answering as an engine read from rows', async () => {
    expect(await s.ctx.engine.saveState()).toBe(true)
    const kept = await engineSnapshots.engineSnapshotInfo(s.ctx.db)
    expect(kept?.revision).toBe(s.ctx.engine.revision)
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
    expect(await s.ctx.engine.saveState()).toBe(true)
    const db = s.ctx.db
    const refusedWith = async (reason: string, compiled?: CompiledModel) => {
      const replica = await started(compiled)
      expect(replica.loadedFrom).toEqual({ kind: 'rows', refused: reason })
    }
    // A byte flipped in the stored bytes: the digest no longer matches.
    await sql`update engine_snapshot_parts set data = overlay(data placing '\\xff'::bytea from 100 for 1)`.execute(
      db,
    )
    await refusedWith('digest')
    await sql`delete from engine_snapshots`.execute(db)
    s.ctx.engine.savedRevision = 0
    expect(await s.ctx.engine.saveState()).toBe(true)
    // Another model.
    await refusedWith('model', new CompiledModel({ ...presets.capgo!, label: 'Capgo, relabelled' }))
    // The feed at its revision says something else (a database restored elsewhere, or rewritten).
    await sql`update engine_snapshots set feed_mark = 'elsewhere'`.execute(db)
    await refusedWith('feed')
    // The database went back before it.
    await sql`update engine_snapshots set revision = revision + 1000`.execute(db)
    await refusedWith('ahead')
    // A migration ran since.
    await sql`update engine_snapshots set revision = revision - 1000, migration = '1:0001-initial',
      feed_mark = (select md5(changes::text) from change_log where revision = engine_snapshots.revision - 1000)`.execute(
      db,
    )
    await refusedWith('migration')
    // Bytes that pass the digest but are no engine state.
    await sql`delete from engine_snapshots`.execute(db)
    const header = {
      revision: s.ctx.engine.revision,
      format: STATE_FORMAT,
      model: stateFingerprint(s.ctx.compiled.model),
    }
    expect(await engineSnapshots.writeEngineSnapshot(db, header, new Uint8Array(64))).toBe(true)
    const replica = new EngineReplica(db, s.ctx.compiled, clock)
    await replica.load(true)
    expect(replica.loadedFrom.kind).toBe('rows')
    expect(String((replica.loadedFrom as { refused: string }).refused)).toMatch(/^unreadable/)
  })

  it('reads rows when the feed after a restored state holds a change the engine refuses', async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    s.ctx.engine.savedRevision = 0
    expect(await s.ctx.engine.saveState()).toBe(true)
    // A committed change naming a user nobody created: the engine refuses it, whatever the state said.
    await s.ctx.db
      .transaction()
      .execute((tx) =>
        recordChanges(tx, [
          { op: 'membership.put', membership: { orgId: w.orgId, userId: randomUUID(), status: 'active' } },
        ]),
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
    expect(await engineSnapshots.writeEngineSnapshot(s.ctx.db, { revision, ...key }, bytes, 1000)).toBe(true)
    const read = await engineSnapshots.readEngineSnapshot(s.ctx.db, key)
    expect(read.bytes?.length).toBe(bytes.length)
    expect(
      (await sql<{ n: number }>`select count(*)::int as n from engine_snapshot_parts`.execute(s.ctx.db))
        .rows[0]!.n,
    ).toBe(3)
    expect(Buffer.from(read.bytes!).equals(Buffer.from(bytes))).toBe(true)
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
  })
})

describe.runIf(DATABASES.includes('postgres'))('a second instance (postgres)', () => {
  let a: TestServer
  let b: TestServer | undefined
  afterAll(async () => {
    await b?.stop()
    await a?.stop()
  })
  it('starts from the state the first wrote after loading from rows', async () => {
    a = await startTestServer('postgres')
    await capgoWorld(a)
    // Its load was from rows at revision 0 (nothing to write); a write, then a restart of the engine writes.
    expect(await a.ctx.engine.saveState()).toBe(true)
    b = await startTestServer('postgres', { schema: a.schema })
    expect(b.ctx.engine.loadedFrom).toEqual({ kind: 'state', revision: a.ctx.engine.revision })
  })
})
