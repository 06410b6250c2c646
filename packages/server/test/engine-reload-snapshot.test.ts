import type { SnapshotPart } from '@orgkit/core'
import { orgs, snapshotSource, streamSnapshot } from '@orgkit/store'
import { sql } from 'kysely'
import pg from 'pg'
import { beforeAll, describe, expect, it } from 'vitest'
import { EngineReplica } from '../src/engine-replica.ts'
import { changeFeedMac } from '../src/security/change-feed-mac.ts'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

/**
 * A reload a write asks for under its org's lock (a refused feed entry, in its catch-up) reads the revision
 * and then each table. Inside the write's own READ COMMITTED transaction every statement saw the latest
 * commits of other orgs' writes, so on PostgreSQL the rows could be newer than the revision they were loaded
 * as, and newer in one table than in another. Here another org's write commits between two of the reload's
 * table reads, whatever the timing. On PGlite it cannot (one connection, the write's): it waits for the
 * reload's transaction, as any write there would.
 */
describe.each(DATABASES)('a reload within a write reads one snapshot (%s)', (database) => {
  const { s, w } = useCapgoServer(database)
  let other: { orgId: string; appId: string }
  beforeAll(async () => {
    const org = await s.as(w.users.creator).post('/v1/orgs', { name: 'Other' })
    const app = await s.as(w.users.creator).post(`/v1/orgs/${org.body.id}/resources`, {
      type: 'app',
      name: 'Elsewhere',
    })
    other = { orgId: org.body.id, appId: app.body.id }
  })

  /**
   * Another instance, loaded now, whose next reload runs `between` once the tables before `kind` are read
   * (at its first part of `kind`): on PostgreSQL it waits for it, on PGlite it cannot and lets it queue.
   */
  async function instance() {
    let between: { kind: SnapshotPart['kind']; run: () => Promise<unknown> } | null = null
    const queued: Promise<unknown>[] = []
    const readRows: typeof streamSnapshot = (executor, add) =>
      streamSnapshot(executor, async (part) => {
        if (between?.kind === part.kind) {
          const running = between.run()
          between = null
          if (database === 'postgres') await running
          else queued.push(running)
        }
        await add(part)
      })
    const replica = new EngineReplica(s.ctx.db, s.ctx.compiled, Date.now, {
      feedMac: changeFeedMac(s.ctx.secrets.keyring),
      readRows,
    })
    await replica.load(false)
    const may = (userId: string, permission: string, appId: string) =>
      replica.authorizer.check({ type: 'user', id: userId }, permission, { type: 'app', id: appId }).allowed
    return {
      replica,
      may,
      runBefore: (kind: SnapshotPart['kind'], run: () => Promise<unknown>) => {
        between = { kind, run }
      },
      /** Whatever `between` queued (PGlite), settled. */
      settled: () => Promise.all(queued),
    }
  }

  /** A write to this org whose feed entry then fails its MAC: the next catch-up past it reloads from rows. */
  const refusedWrite = async () => {
    const userId = await s.user('Filler')
    const added = await s.platform.post(`/v1/orgs/${w.orgId}/members`, { userId, roles: ['org_member'] })
    expect(added.status).toBe(201)
    const revision = s.ctx.engine.revision
    await sql`update change_log set mac = ${new Uint8Array(32)} where revision = ${String(revision)}`.execute(
      s.ctx.db,
    )
    return revision
  }
  /** A write's start, as `write` runs it: its org's lock, then the engine's catch-up within the transaction. */
  const catchUpInWrite = (replica: EngineReplica) =>
    s.ctx.db.transaction().execute(async (tx) => {
      await orgs.lockOrgAtHead(tx, w.orgId)
      await replica.catchUpWithin(tx)
    })
  const grantUpload = async (userId: string, appId: string) => {
    const granted = await s.platform.post(`/v1/orgs/${other.orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role: 'app_uploader',
      resourceId: appId,
    })
    expect(granted.status).toBe(201)
    return s.ctx.engine.revision
  }

  it("loads the rows at the revision it records, not another org's write that commits during the read", async () => {
    const uma = await s.user('Uma')
    const { replica, may, runBefore, settled } = await instance()
    const refused = await refusedWrite()

    // While the write's reload reads the tables, the other org grants Uma an upload: after the orgs,
    // resources and users are read, before the bindings.
    let granted = 0
    runBefore('memberships', async () => (granted = await grantUpload(uma, other.appId)))
    await catchUpInWrite(replica)
    await settled()
    expect(granted).toBe(refused + 1)
    // The engine is at the revision before the grant, and answers as the rows did then.
    expect([replica.revision, may(uma, 'app.upload_bundle', other.appId)]).toEqual([refused, false])

    // The grant arrives as the feed's next entry.
    await replica.catchUp()
    expect([replica.revision, may(uma, 'app.upload_bundle', other.appId)]).toEqual([granted, true])
    await replica.stop()
  })

  it('does not fail the write over rows of one table newer than another', async () => {
    const ida = await s.user('Ida')
    const { replica, may, runBefore, settled } = await instance()
    const refused = await refusedWrite()

    // After the resources are read, the other org adds an app and grants Ida an upload there: a binding on
    // an app the resources read did not hold.
    let app = ''
    let granted = 0
    runBefore('users', async () => {
      const added = await s.as(w.users.creator).post(`/v1/orgs/${other.orgId}/resources`, {
        type: 'app',
        name: 'New',
      })
      expect(added.status).toBe(201)
      app = added.body.id
      granted = await grantUpload(ida, app)
    })
    await catchUpInWrite(replica)
    await settled()
    expect(granted).toBe(refused + 2)
    expect(replica.revision).toBe(refused)

    await replica.catchUp()
    expect([replica.revision, may(ida, 'app.upload_bundle', app)]).toEqual([granted, true])
    await replica.stop()
  })

  // The reload's connection is not one of the main pool: writes queued on the org's lock may hold them all,
  // and would wait for the write that waits for one of them.
  it.runIf(database === 'postgres')(
    'reloads while writes queued on the lock hold every pooled connection',
    async () => {
      const { replica } = await instance()
      const refused = await refusedWrite()
      const admin = new pg.Client({ connectionString: s.postgres!.url })
      await admin.connect()
      // The backends of this test's queued writes only: another test's (or server's) on the same database
      // are neither counted nor cancelled.
      const pids: number[] = []
      const lockWaiters = async (cancel = false) => {
        const { rows } = await admin.query<{ n: string }>(
          `select count(${cancel ? 'pg_cancel_backend(pid)' : '*'}) as n from pg_stat_activity
          where pid = any($1::int[]) and wait_event_type = 'Lock'`,
          [pids],
        )
        return Number(rows[0]!.n)
      }
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      let locked!: () => void
      const lockHeld = new Promise<void>((resolve) => (locked = resolve))
      const write = s.ctx.db.transaction().execute(async (tx) => {
        await orgs.lockOrgAtHead(tx, w.orgId)
        locked()
        await released
        await replica.catchUpWithin(tx)
      })
      await lockHeld
      // The harness's pool has 12 connections: the write holds one, 11 writes to its org wait on its lock.
      const queued = Array.from({ length: 11 }, () =>
        s.ctx.db.transaction().execute(async (tx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)
          pids.push(rows[0]!.pid)
          return orgs.lockOrg(tx, w.orgId)
        }),
      )
      let done = false
      try {
        for (let tries = 0; (await lockWaiters()) < 11; tries++) {
          if (tries > 400) throw new Error('the queued writes never all waited on the lock')
          await new Promise((resolve) => setTimeout(resolve, 25))
        }
        release()
        const waited = new Promise((resolve) => setTimeout(resolve, 10_000).unref())
        await Promise.race([write.then(() => (done = true)), waited])
        expect(done).toBe(true)
        expect(replica.revision).toBe(refused)
      } finally {
        release()
        // A reload waiting for a pooled connection: the queued writes give theirs back.
        if (!done) await lockWaiters(true)
        await Promise.allSettled([write, ...queued])
        await admin.end()
        await replica.stop()
      }
    },
  )

  // Its reads wait on no lock a write holds; a table lock (a migration's DDL, queued behind a write) they
  // would wait on for ever, the write with them, unseen: a lock timeout ends it, and the write fails.
  it.runIf(database === 'postgres')(
    "gives up after 5 s on a table lock instead of holding the write's lock for ever",
    async () => {
      const admin = new pg.Client({ connectionString: s.postgres!.url })
      await admin.connect()
      try {
        await admin.query('begin')
        await admin.query('lock table users in access exclusive mode')
        const started = Date.now()
        const reload = s.ctx.db
          .transaction()
          .execute((tx) => streamSnapshot(snapshotSource(s.ctx.db, tx), () => {}))
        await expect(reload).rejects.toMatchObject({ code: '55P03' })
        expect(Date.now() - started).toBeGreaterThanOrEqual(4_500)
      } finally {
        await admin.query('rollback')
        await admin.end()
      }
    },
  )
})
