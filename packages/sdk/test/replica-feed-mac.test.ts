import { recordChanges } from '@orgkit/store'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import { createReplica, type Replica } from '../src/replica.ts'

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A fetch whose event streams never carry the change at `dropped.revision`: a feed with a gap in it. */
function dropping(dropped: { revision: number }): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return response
    let buffer = ''
    const events = new TransformStream<string, string>({
      transform(chunk, out) {
        const parts = (buffer + chunk).split('\n\n')
        buffer = parts.pop()!
        for (const event of parts)
          if (!new RegExp(`^id: ${dropped.revision}$`, 'm').test(event)) out.enqueue(`${event}\n\n`)
      },
    })
    const body = response
      .body!.pipeThrough(new TextDecoderStream())
      .pipeThrough(events)
      .pipeThrough(new TextEncoderStream())
    return new Response(body, { status: response.status, headers: response.headers })
  }
}

/**
 * A feed entry that fails its MAC (migration 0022) reaches a host's replica neither: the server, reading it
 * for the stream's gap, sends a `reload` event instead, and the replica loads the snapshot again.
 */
describe.each(DATABASES)('the replica for hosts, a forged feed entry (%s)', (database) => {
  let server: TestServer
  let replica: Replica
  const seen: { revision: number; how: string }[] = []

  beforeAll(async () => {
    server = await startTestServer(database)
    replica = await createReplica({
      url: server.url,
      token: server.token,
      onApplied: (revision, how) => seen.push({ revision, how }),
    })
  })
  afterAll(async () => {
    await replica?.close()
    await server?.stop()
  })

  it('loads the snapshot again instead of applying it', async () => {
    await until(() => replica.lag().transport === 'sse', 'the event stream')
    // A revision applied first: a replica at revision 0 reloads without saying so.
    await server.user('First')
    await until(() => seen.length > 0, 'the first revision')
    // Written and forged in one transaction: no instance sees the entry before it fails its MAC. The
    // server's engine refuses it and reloads from rows, so the stream reads it from the database.
    const forged = await server.ctx.db.transaction().execute(async (tx) => {
      const revision = await recordChanges(
        tx,
        [{ op: 'user.put', user: { id: 'written', mfaEnabled: false } }],
        server.ctx.engine.feedMac,
      )
      await sql`update change_log set changes = ${JSON.stringify([{ op: 'user.put', user: { id: 'forged', mfaEnabled: true } }])}::jsonb
        where revision = ${String(revision)}`.execute(tx)
      return revision
    })
    await server.ctx.engine.catchUp()
    await until(() => seen.some((s) => s.how === 'reloaded' && s.revision >= forged), 'a reload')
    expect(seen.filter((s) => s.revision === forged && s.how === 'change')).toEqual([])
  })
  // Regression: a gap the replica saw itself (from a server that served a deleted entry's successor) failed
  // the connection, which resumed from the same revision and met the same gap, for ever.
  it('loads the snapshot again when the feed skips a revision, rather than resuming into the gap', async () => {
    const dropped = { revision: -1 }
    const errors: unknown[] = []
    const gapped: { revision: number; how: string }[] = []
    const own = await createReplica({
      url: server.url,
      token: server.token,
      fetch: dropping(dropped),
      onApplied: (revision, how) => gapped.push({ revision, how }),
      onError: (error) => errors.push(error),
    })
    try {
      await until(() => own.lag().transport === 'sse', 'the event stream')
      dropped.revision = server.ctx.engine.revision + 1
      await server.user('Dropped')
      await server.user('AfterDropped')
      const target = server.ctx.engine.revision
      expect(target).toBeGreaterThan(dropped.revision)
      await until(() => own.revision >= target, `the replica reaching ${target}`)
      expect(gapped.filter((s) => s.how === 'reloaded')).not.toEqual([])
      expect(gapped.filter((s) => s.revision === dropped.revision && s.how === 'change')).toEqual([])
      expect(String(errors[0])).toMatch(/skipped from revision/)
    } finally {
      await own.close()
    }
  })
})
