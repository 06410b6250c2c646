import { streamSnapshot } from '@orgkit/store'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineReplica, FeedEntryRefused } from '../src/engine-replica.ts'
import { changeFeedMac } from '../src/security/change-feed-mac.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Two reloads of one engine side by side: a catch-up pass's and a write's catch-up within its transaction,
 * both sent to the rows by the same refused feed entry. The first read the rows before the next revision
 * committed and finished loading them after the second had loaded it; it used to set the engine back to
 * its older revision, undoing the revoke the second had loaded (until a later catch-up). The first's
 * reading is held back here until the second is done, whatever the timing.
 */
describe.each(DATABASES)('engine reloads side by side (%s)', (database) => {
  let s: TestServer
  let w: CapgoWorld
  beforeAll(async () => {
    s = await startTestServer(database)
    w = await capgoWorld(s)
  })
  afterAll(() => s?.stop())

  it('never sets the engine back to an older revision than one it loaded meanwhile', async () => {
    const userId = await s.user('Uma')
    // Another instance, loaded now; its reloads read the rows through `held` (the real read, then a wait).
    let hold: { read: (revision: number) => void; release: Promise<void> } | null = null
    const held: typeof streamSnapshot = async (executor, add) => {
      const revision = await streamSnapshot(executor, add)
      const h = hold
      hold = null
      if (h) {
        h.read(revision)
        await h.release
      }
      return revision
    }
    const resyncs: unknown[] = []
    const replica = new EngineReplica(s.ctx.db, s.ctx.compiled, Date.now, {
      feedMac: changeFeedMac(s.ctx.secrets.keyring),
      onResync: (error) => resyncs.push(error),
      readRows: held,
    })
    await replica.load(false)
    const told: number[] = []
    replica.watch({ applied: (revision) => told.push(revision), stopped: () => {} })
    const mayUpload = () =>
      replica.authorizer.check({ type: 'user', id: userId }, 'app.upload_bundle', {
        type: 'app',
        id: w.appId,
      }).allowed

    // The grant, whose feed entry then fails its MAC: every catch-up past it reads rows instead.
    const granted = await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role: 'app_uploader',
      resourceId: w.appId,
    })
    expect(granted.status).toBe(201)
    const grant = s.ctx.engine.revision
    await sql`update change_log set mac = ${new Uint8Array(32)} where revision = ${String(grant)}`.execute(
      s.ctx.db,
    )

    // The catch-up pass reloads: it reads the rows at the grant, and is held there.
    let read!: (revision: number) => void
    const reading = new Promise<number>((resolve) => (read = resolve))
    let release!: () => void
    hold = { read, release: new Promise<void>((resolve) => (release = resolve)) }
    const first = replica.catchUp()
    expect(await reading).toBe(grant)

    // Meanwhile the grant is revoked, and a write's catch-up (within its transaction) reloads past it.
    expect((await s.platform.delete(`/v1/orgs/${w.orgId}/bindings/${granted.body.id}`)).status).toBe(200)
    const revoke = s.ctx.engine.revision
    expect(revoke).toBe(grant + 1)
    await s.ctx.db.transaction().execute((tx) => replica.catchUpWithin(tx))
    expect([replica.revision, mayUpload()]).toEqual([revoke, false])

    // The first reload ends: its older rows are dropped.
    release()
    await first
    expect([replica.revision, mayUpload()]).toEqual([revoke, false])
    expect(told).toEqual([revoke])
    expect(resyncs.map((e) => e instanceof FeedEntryRefused && e.revision)).toEqual([grant, grant])
    expect(await replica.reached(revoke, 0)).toBe(true)
    await replica.stop()
  })
})
