import { randomUUID } from 'node:crypto'
import type { Change } from '@orgkit/core'
import { changesSince, streamSnapshot } from '@orgkit/store'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { EngineReplica, FeedEntryRefused } from '../src/engine-replica.ts'
import { changeFeedMac } from '../src/security/change-feed-mac.ts'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

/**
 * Reloads of one engine side by side, and passes applying the feed meanwhile (a catch-up pass, a write's
 * catch-up within its transaction, a write's own changes). A reload that read the rows before the next
 * revision committed and finished loading them after another pass had moved the engine past it used to set
 * the engine back to its older revision, undoing what that pass had loaded (until a later catch-up). The
 * first reload's reading is held back here until the other pass is done, whatever the timing.
 */
describe.each(DATABASES)('engine reloads side by side (%s)', (database) => {
  const { s, w } = useCapgoServer(database)

  /**
   * Another instance, loaded now, whose reloads read the rows through `holdNextRead`'s hold: the real read,
   * then, for the next reload only, a wait until `release`. `read` resolves to the revision it read.
   */
  async function instance() {
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
    const holdNextRead = () => {
      let read!: (revision: number) => void
      let release!: () => void
      const reading = new Promise<number>((resolve) => (read = resolve))
      hold = { read, release: new Promise<void>((resolve) => (release = resolve)) }
      return { read: reading, release }
    }
    const mayUpload = (userId: string) =>
      replica.authorizer.check({ type: 'user', id: userId }, 'app.upload_bundle', {
        type: 'app',
        id: w.appId,
      }).allowed
    return { replica, resyncs, told, holdNextRead, mayUpload }
  }

  const grantUpload = async (userId: string) => {
    const granted = await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role: 'app_uploader',
      resourceId: w.appId,
    })
    expect(granted.status).toBe(201)
    return { revision: s.ctx.engine.revision, bindingId: granted.body.id as string }
  }
  const revoke = async (bindingId: string) => {
    expect((await s.platform.delete(`/v1/orgs/${w.orgId}/bindings/${bindingId}`)).status).toBe(200)
    return s.ctx.engine.revision
  }
  /** A write's catch-up inside its transaction, as `write` runs it under the org's lock. */
  const catchUpInWrite = (replica: EngineReplica) =>
    s.ctx.db.transaction().execute((tx) => replica.catchUpWithin(tx))

  it('never sets the engine back to an older revision than one it loaded meanwhile', async () => {
    const userId = await s.user('Uma')
    const { replica, resyncs, told, holdNextRead, mayUpload } = await instance()

    // The grant, whose feed entry then fails its MAC: every catch-up past it reads rows instead.
    const grant = await grantUpload(userId)
    await sql`update change_log set mac = ${new Uint8Array(32)} where revision = ${String(grant.revision)}`.execute(
      s.ctx.db,
    )

    // The catch-up pass reloads: it reads the rows at the grant, and is held there.
    const hold = holdNextRead()
    const first = replica.catchUp()
    expect(await hold.read).toBe(grant.revision)

    // Meanwhile the grant is revoked, and a write's catch-up (within its transaction) reloads past it.
    const revoked = await revoke(grant.bindingId)
    expect(revoked).toBe(grant.revision + 1)
    await catchUpInWrite(replica)
    expect([replica.revision, mayUpload(userId)]).toEqual([revoked, false])

    // The first reload ends: its older rows are dropped.
    hold.release()
    await first
    expect([replica.revision, mayUpload(userId)]).toEqual([revoked, false])
    expect(told).toEqual([revoked])
    expect(resyncs.map((e) => e instanceof FeedEntryRefused && e.revision)).toEqual([
      grant.revision,
      grant.revision,
    ])
    expect(await replica.reached(revoked, 0)).toBe(true)
    await replica.stop()
  })

  it('applies nothing more to an engine that refused a change part-way, until a reload replaces it', async () => {
    const [una, vic] = [await s.user('Una'), await s.user('Vic')]
    const { replica, told, holdNextRead, mayUpload } = await instance()
    const grant = await grantUpload(una)
    // This instance's write of the grant, as its engine would apply it from memory: a first change the
    // authorizer takes (a binding for Vic, which no row holds) and a second it refuses. The engine is left
    // half-applied, and reloads: it reads the rows at the grant, and is held there.
    const [entry] = await changesSince(s.ctx.db, grant.revision - 1, replica.feedMac)
    const put = (entry as { changes: Change[] }).changes.find((c) => c.op === 'binding.put')!
    const stray = { ...put.binding, id: randomUUID(), principal: { type: 'user' as const, id: vic } }
    const hold = holdNextRead()
    const refused = [{ op: 'binding.put', binding: stray }, { op: 'no.such.change' }] as Change[]
    const first = replica.committed(grant.revision, refused)
    expect(await hold.read).toBe(grant.revision)
    expect(mayUpload(vic)).toBe(true) // what the refused change left behind

    // Meanwhile the grant is revoked, and a write catches up: it reloads too, rather than apply the grant
    // and the revoke on top of Vic's stray binding (the held reload, older, would then be dropped).
    const revoked = await revoke(grant.bindingId)
    await catchUpInWrite(replica)
    expect([replica.revision, mayUpload(vic), mayUpload(una)]).toEqual([revoked, false, false])

    hold.release()
    await first
    expect([replica.revision, mayUpload(vic), mayUpload(una)]).toEqual([revoked, false, false])
    expect(told).toEqual([revoked])
    await replica.stop()
  })
})
