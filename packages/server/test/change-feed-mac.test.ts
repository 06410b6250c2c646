import { randomBytes } from 'node:crypto'
import { recordChanges } from '@orgkit/store'
import { sql } from 'kysely'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_ENGINE_STATE_MAX_AGE_MS } from '../src/config.ts'
import { EngineReplica, FeedEntryRefused } from '../src/engine-replica.ts'
import { changeFeedMac, rotateChangeFeed } from '../src/security/change-feed-mac.ts'
import { engineStateMac, rotateEngineState } from '../src/security/engine-state-mac.ts'
import { type Keyring, parseKeyring } from '../src/security/secret-box.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * The change feed, authenticated (migration 0022). Regression for the finding left open by 0021: whoever
 * could write the database, without ORGKIT_SECRET_KEY, put back an older stored engine state (valid, MACed)
 * and rewrote the feed entry after it that revoked a grant — or copied an older entry over it — and the
 * next start restored the state, applied the forged entry and answered the grant the rows say is revoked.
 * A follower catching up live between instances applied it too. Now such an entry fails its MAC: it is not
 * applied, and the engine reads rows instead.
 */
describe.each(DATABASES)('change feed MAC (%s)', (database) => {
  let s: TestServer
  let w: CapgoWorld
  const logged: { level: number; msg: string; revision?: number }[] = []
  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) })
    s = await startTestServer(database, { server: { logger } })
    w = await capgoWorld(s)
  })
  afterAll(async () => {
    await s?.stop()
  })

  /** An instance of the same deployment (its keyring, by default) with resyncs recorded. */
  const instance = (keyring: Keyring = s.ctx.secrets.keyring) => {
    const resyncs: unknown[] = []
    const replica = new EngineReplica(s.ctx.db, s.ctx.compiled, Date.now, {
      feedMac: changeFeedMac(keyring),
      onResync: (error) => resyncs.push(error),
      state: { mac: engineStateMac(keyring), maxAgeMs: DEFAULT_ENGINE_STATE_MAX_AGE_MS },
    })
    return { replica, resyncs }
  }
  const mayUpload = (replica: EngineReplica, userId: string) =>
    replica.authorizer.check({ type: 'user', id: userId }, 'app.upload_bundle', { type: 'app', id: w.appId })
      .allowed
  const saveState = async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    s.ctx.engine.savedRevision = 0
    expect(await s.ctx.engine.saveState()).toBe(true)
  }
  /** Whether `refused` holds exactly one refusal of the feed entry at `revision`, for `reason`. */
  const refusedEntry = (resyncs: unknown[], revision: number, reason: string) =>
    expect(resyncs.map((e) => e instanceof FeedEntryRefused && [e.revision, e.reason])).toEqual([
      [revision, reason],
    ])

  /** A user granted an upload role on the app, and the revoke of that grant (answering its revision). */
  const grantUpload = async (name: string) => {
    const userId = await s.user(name)
    const granted = await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role: 'app_uploader',
      resourceId: w.appId,
    })
    expect(granted.status).toBe(201)
    const revoke = async () => {
      expect((await s.platform.delete(`/v1/orgs/${w.orgId}/bindings/${granted.body.id}`)).status).toBe(200)
      return s.ctx.engine.revision
    }
    return { userId, revoke }
  }

  /** Another instance, loaded now (current up to the grant `userId` holds). */
  const follower = async (userId: string) => {
    const { replica, resyncs } = instance()
    await replica.load(false)
    expect(mayUpload(replica, userId)).toBe(true)
    return { replica, resyncs }
  }

  /**
   * A user granted an upload role, the stored state saved then (kept aside, as an attacker would copy its
   * rows), the grant revoked, and a newer state saved as the server would later.
   */
  const grantedSavedRevoked = async (name: string) => {
    const { userId, revoke } = await grantUpload(name)
    const grantRevision = s.ctx.engine.revision
    expect(mayUpload(s.ctx.engine, userId)).toBe(true)
    await saveState()
    await sql`drop table if exists kept_snapshots, kept_parts`.execute(s.ctx.db)
    await sql`create table kept_snapshots as select * from engine_snapshots`.execute(s.ctx.db)
    await sql`create table kept_parts as select * from engine_snapshot_parts`.execute(s.ctx.db)
    const revokeRevision = await revoke()
    expect(revokeRevision).toBe(grantRevision + 1)
    expect(mayUpload(s.ctx.engine, userId)).toBe(false)
    await saveState()
    return { userId, grantRevision, revokeRevision }
  }
  /** The older state put back in place of the newer one: valid, MACed by this deployment. */
  const putBackOlderState = async () => {
    await sql`delete from engine_snapshots`.execute(s.ctx.db)
    await sql`insert into engine_snapshots overriding system value select * from kept_snapshots`.execute(
      s.ctx.db,
    )
    await sql`insert into engine_snapshot_parts select * from kept_parts`.execute(s.ctx.db)
  }
  /**
   * A host's replica is not sent the entry at `revision`, nor any after it: told to load the snapshot again,
   * as a problem in the JSON form and as a `reload` event (no `change`) in the event stream.
   */
  const expectNotServed = async (revision: number) => {
    const after = revision - 1
    const page = await s.platform.get(`/v1/engine/changes?after=${after}`)
    expect([page.status, page.body.code]).toEqual([409, 'REVISION_NOT_REACHED'])
    const gone = new AbortController()
    const response = await fetch(`${s.url}/v1/engine/changes?after=${after}`, {
      headers: { authorization: `Bearer ${s.token}`, accept: 'text/event-stream' },
      signal: gone.signal,
    })
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.includes('"REVISION_NOT_REACHED"')) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
    gone.abort()
    expect(text).toMatch(/^event: reload$/m)
    expect(text).not.toMatch(/^event: change$/m)
  }
  /** Moves the feed entry at `from` to `to` (out of the feed's way at a negative revision, and back). */
  const move = (from: number, to: number) =>
    sql`update change_log set revision = ${String(to)} where revision = ${String(from)}`.execute(s.ctx.db)
  /** Runs `body` with the feed entry at `revision` as `forge` leaves it, then puts the entry back. */
  const forged = async (revision: number, forge: () => Promise<unknown>, body: () => Promise<void>) => {
    const { rows } = await sql<{ changes: string; mac_kid: string; mac: Uint8Array }>`
      select changes::text as changes, mac_kid, mac from change_log where revision = ${String(revision)}`.execute(
      s.ctx.db,
    )
    const original = rows[0]!
    await forge()
    try {
      await body()
    } finally {
      await sql`update change_log set changes = ${original.changes}::jsonb, mac_kid = ${original.mac_kid},
        mac = ${original.mac} where revision = ${String(revision)}`.execute(s.ctx.db)
    }
  }

  it('restores an older state and catches it up from a valid feed: the revoked grant stays revoked', async () => {
    const { userId } = await grantedSavedRevoked('Valid')
    await putBackOlderState()
    const { replica, resyncs } = instance()
    await replica.load(true)
    expect(replica.loadedFrom.kind).toBe('state')
    expect(replica.revision).toBe(s.ctx.engine.revision)
    expect(resyncs).toEqual([])
    expect(mayUpload(replica, userId)).toBe(false)
  })

  it('refuses the revoke rewritten after an older state put back: the grant does not come back at restart', async () => {
    const { userId, revokeRevision } = await grantedSavedRevoked('Rewritten')
    await putBackOlderState()
    const rewrite = () =>
      sql`update change_log set changes = '[]'::jsonb where revision = ${String(revokeRevision)}`.execute(
        s.ctx.db,
      )
    await forged(revokeRevision, rewrite, async () => {
      const { replica, resyncs } = instance()
      await replica.load(true)
      expect(mayUpload(replica, userId)).toBe(false)
      refusedEntry(resyncs, revokeRevision, 'mac')
      expect(replica.loadedFrom).toEqual({ kind: 'rows', refused: 'a change after the state' })
      // Nor is it served to a host's replica.
      await expectNotServed(revokeRevision)
    })
  })

  it('refuses an older entry copied over the revoke, MAC and all: it was MACed at another revision', async () => {
    const { userId, grantRevision, revokeRevision } = await grantedSavedRevoked('Swapped')
    await putBackOlderState()
    // The grant's own entry, replayed where the revoke was.
    const swap = () =>
      sql`update change_log set (changes, mac_kid, mac) = (select changes, mac_kid, mac from change_log
        where revision = ${String(grantRevision)}) where revision = ${String(revokeRevision)}`.execute(
        s.ctx.db,
      )
    await forged(revokeRevision, swap, async () => {
      const { replica, resyncs } = instance()
      await replica.load(true)
      expect(mayUpload(replica, userId)).toBe(false)
      refusedEntry(resyncs, revokeRevision, 'mac')
    })
  })

  it('reads rows when the revoke, last in the feed, is deleted after an older state put back', async () => {
    const { userId, revokeRevision } = await grantedSavedRevoked('Truncated')
    await putBackOlderState()
    // Moved out of the feed's way (and back after): no MAC to fail and, with nothing after it, no gap.
    expect(s.ctx.engine.revision).toBe(revokeRevision)
    await move(revokeRevision, -revokeRevision)
    try {
      const { replica, resyncs } = instance()
      await replica.load(true)
      expect(mayUpload(replica, userId)).toBe(false)
      expect(replica.loadedFrom).toEqual({ kind: 'rows', refused: 'a change after the state' })
      refusedEntry(resyncs, revokeRevision, 'missing')
    } finally {
      await move(-revokeRevision, revokeRevision)
    }
  })

  it('refuses a forged entry in the live catch-up between instances, and reads rows', async () => {
    const { userId, revoke } = await grantUpload('Live')
    const { replica, resyncs } = await follower(userId)
    const revokeRevision = await revoke()
    const rewrite = () =>
      sql`update change_log set changes = '[]'::jsonb where revision = ${String(revokeRevision)}`.execute(
        s.ctx.db,
      )
    await forged(revokeRevision, rewrite, async () => {
      await replica.catchUp()
      expect(mayUpload(replica, userId)).toBe(false)
      expect(replica.revision).toBe(s.ctx.engine.revision)
      refusedEntry(resyncs, revokeRevision, 'mac')
    })
  })

  // Regression: a catch-up stopped at the feed's last entry and compared it with nothing, so another
  // instance kept a revoked grant until the next write to the org reloaded it.
  it('reads rows in the live catch-up when the revoke, last in the feed, is deleted', async () => {
    const { userId, revoke } = await grantUpload('LiveTail')
    const { replica, resyncs } = await follower(userId)
    const revokeRevision = await revoke()
    await move(revokeRevision, -revokeRevision)
    try {
      await replica.catchUp()
      expect(mayUpload(replica, userId)).toBe(false)
      expect(replica.revision).toBe(revokeRevision)
      refusedEntry(resyncs, revokeRevision, 'missing')
    } finally {
      await move(-revokeRevision, revokeRevision)
    }
  })

  // Regression: a deleted entry was served as a gap — the JSON form went on from the next entry, the stream
  // sent it as the next change — and a host's replica that checks for gaps reconnected to it for ever.
  it('serves no entry past one deleted from the middle of the feed: the host reloads instead', async () => {
    const revokeRevision = await (await grantUpload('Gap')).revoke()
    await s.user('GapAfter')
    expect(s.ctx.engine.revision).toBeGreaterThan(revokeRevision)
    await move(revokeRevision, -revokeRevision)
    try {
      await expectNotServed(revokeRevision)
    } finally {
      await move(-revokeRevision, revokeRevision)
    }
  })

  it("says so at error level when the server's own engine meets a forged entry, and reads rows", async () => {
    const userId = await s.user('Logged')
    // Written and forged in one transaction (as a writer on another instance, then the forger): the
    // server's engine reads it from the feed.
    const forged = await s.ctx.db.transaction().execute(async (tx) => {
      const revision = await recordChanges(
        tx,
        [{ op: 'membership.put', membership: { orgId: w.orgId, userId, status: 'active' } }],
        s.ctx.engine.feedMac,
      )
      await sql`update change_log set changes = '[]'::jsonb where revision = ${String(revision)}`.execute(tx)
      return revision
    })
    await s.ctx.engine.catchUp()
    expect(s.ctx.engine.revision).toBe(forged)
    expect(logged.filter((line) => line.revision === forged)).toEqual([
      expect.objectContaining({
        level: 50,
        msg: expect.stringMatching(/^the change feed holds an entry that fails its MAC/),
      }),
    ])
  })

  it('keeps the feed verifiable across `secrets rotate`, once the old key is gone', async () => {
    await grantedSavedRevoked('Rotated')
    await putBackOlderState()
    const current = s.ctx.secrets.keyring.current
    const next = randomBytes(32).toString('hex')
    const rotated = parseKeyring(
      `next:${next},${current}:${s.ctx.secrets.keyring.keys.get(current)!.toString('hex')}`,
    )
    const nextOnly = parseKeyring(`next:${next}`)
    // The state alone re-MACed: the feed after it is under a key the new keyring lacks.
    expect(await rotateEngineState(s.ctx.db, rotated)).toBe(true)
    const before = instance(nextOnly)
    await before.replica.load(true)
    expect(before.resyncs).toHaveLength(1)
    expect((before.resyncs[0] as FeedEntryRefused).reason).toBe('key')
    // The feed re-MACed too: restored and caught up under the new key alone.
    expect(await rotateChangeFeed(s.ctx.db, rotated)).toBeGreaterThan(0)
    const after = instance(nextOnly)
    await after.replica.load(true)
    expect(after.replica.loadedFrom.kind).toBe('state')
    expect(after.replica.revision).toBe(s.ctx.engine.revision)
    expect(after.resyncs).toEqual([])
  })
})

/**
 * A write authorized on an instance whose engine misses a revision the database committed. Regression: the
 * org lock's statement read the feed's head, the catch-up under the lock found no entry to apply (the
 * revoke's was deleted) and the write was authorized against the stale engine: a revoked app admin granted
 * through the other instance. Now the catch-up's read brings the head too and reloads from rows, under the
 * lock, when the feed ends short of it.
 */
describe.runIf(DATABASES.includes('postgres'))('a write on an instance missing a revision (postgres)', () => {
  let a: TestServer
  let b: TestServer
  let w: CapgoWorld
  beforeAll(async () => {
    a = await startTestServer('postgres')
    // B polls never: with no NOTIFY either, only the write itself can find that B is behind.
    b = await startTestServer('postgres', { postgres: a.postgres, server: { pollMs: 3_600_000 } })
    w = await capgoWorld(a)
  })
  afterAll(async () => {
    await b?.stop()
    await a?.stop()
  })

  it("authorizes against the rows, not B's engine: the revoked app admin grants nothing", async () => {
    const admin = w.users.appAdmin
    await b.ctx.engine.atLeast(a.ctx.engine.revision)
    type Binding = { id: string; role: string; principal: { id: string } }
    const bindingsOf = async (userId: string) =>
      ((await a.platform.get(`/v1/orgs/${w.orgId}/bindings`)).body.items as Binding[]).filter(
        (x) => x.principal.id === userId,
      )
    const binding = (await bindingsOf(admin)).find((x) => x.role === 'app_admin')!
    // The revoke as committed with its feed entry deleted: the binding gone, the revision taken, no NOTIFY.
    const head = await a.ctx.db.transaction().execute(async (tx) => {
      await sql`delete from bindings where id = ${binding.id}`.execute(tx)
      const { rows } = await sql<{ value: string }>`
        update revision set value = value + 1 where id = 1 returning value`.execute(tx)
      return Number(rows[0]!.value)
    })
    expect(b.ctx.engine.revision).toBe(head - 1)
    const write = await b.as(admin).post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: w.users.outsider },
      role: 'app_uploader',
      resourceId: w.appId,
    })
    // Answered as to anyone who cannot see the app (an external admin's only way in was the binding).
    expect([write.status, write.body.code]).toEqual([404, 'RESOURCE_NOT_FOUND'])
    expect(b.ctx.engine.revision).toBeGreaterThanOrEqual(head)
    expect(await bindingsOf(w.users.outsider)).toEqual([])
  })
})
