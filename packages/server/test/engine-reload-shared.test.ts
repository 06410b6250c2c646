import { orgs, streamSnapshot } from '@orgkit/store'
import { sql } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { EngineReplica } from '../src/engine-replica.ts'
import { changeFeedMac } from '../src/security/change-feed-mac.ts'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

/**
 * Writes to different orgs at once, each catching up under its own org's lock past one refused feed entry:
 * each used to read every row again (seconds at 1M bindings, holding its lock and a connection), queued on
 * the 2-connection pool beside writes. A reload whose engine reached the write's head meanwhile (another
 * write's reload) now reads nothing. On PGlite the writes run one at a time (one connection): the first
 * reloads, the others find the engine at their head.
 */
describe.each(DATABASES)('reloads within writes past one refused entry (%s)', (database) => {
  const { s, w } = useCapgoServer(database)
  const orgIds: string[] = []
  beforeAll(async () => {
    for (let i = 0; i < 6; i++)
      orgIds.push((await s.as(w.users.creator).post('/v1/orgs', { name: `Org ${i}` })).body.id)
  })

  it('reads the rows once or twice for six writes, and every write sees the refused grant', async () => {
    const uma = await s.user('Uma')
    let fullReads = 0
    const readRows: typeof streamSnapshot = ((executor, add, ready?: () => boolean) => {
      let counted = false
      const counting = async (part: Parameters<typeof add>[0]) => {
        if (!counted) fullReads++
        counted = true
        await add(part)
      }
      return ready ? streamSnapshot(executor, counting, ready) : streamSnapshot(executor, counting)
    }) as typeof streamSnapshot
    const replica = new EngineReplica(s.ctx.db, s.ctx.compiled, Date.now, {
      feedMac: changeFeedMac(s.ctx.secrets.keyring),
      readRows,
    })
    await replica.load(false)
    fullReads = 0

    // Uma's grant, whose feed entry then fails its MAC: a catch-up past it reads rows instead.
    const granted = await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: uma },
      role: 'app_uploader',
      resourceId: w.appId,
    })
    expect(granted.status).toBe(201)
    const refused = s.ctx.engine.revision
    await sql`update change_log set mac = ${new Uint8Array(32)} where revision = ${String(refused)}`.execute(
      s.ctx.db,
    )

    // Six writes' starts, as `write` runs them, each to its own org: its lock, the engine's catch-up when the
    // head is past it, and then what it authorizes against.
    const may = () =>
      replica.authorizer.check({ type: 'user', id: uma }, 'app.upload_bundle', { type: 'app', id: w.appId })
        .allowed
    const writes = orgIds.map((orgId) =>
      s.ctx.db.transaction().execute(async (tx) => {
        const locked = await orgs.lockOrgAtHead(tx, orgId)
        if (locked.head > replica.revision) await replica.catchUpWithin(tx, locked.head)
        return { head: locked.head, revision: replica.revision, may: may() }
      }),
    )
    const seen = await Promise.all(writes)
    for (const write of seen) {
      expect(write.head).toBe(refused)
      expect(write.revision).toBeGreaterThanOrEqual(write.head)
      expect(write.may).toBe(true)
    }
    // The pool beside writes has two connections: at most two reads begin before one has loaded.
    expect(fullReads).toBeGreaterThanOrEqual(1)
    expect(fullReads).toBeLessThanOrEqual(2)
    expect([replica.revision, may()]).toEqual([refused, true])
    await replica.stop()
  })
})
