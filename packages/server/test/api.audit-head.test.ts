import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { entryHash } from '@orgkit/store'
import pino from 'pino'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/** Issue 22.4: the chain's head, kept outside the database, catches a cut or rewritten tail. */
describe.each(DATABASES)('audit heads, truncation and checkpoints (%s)', (database) => {
  let s: TestServer
  let w: CapgoWorld
  const logged: Record<string, unknown>[] = []
  const received: { type: string; data: Record<string, unknown> }[] = []
  let badSignatures = 0
  let secret = ''
  let receiver: Server
  let receiverUrl = ''
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged.push(JSON.parse(String(chunk)))
        done()
      },
    })
    s = await startTestServer(database, { server: { logger: pino({ level: 'info' }, sink) } })
    w = await capgoWorld(s)
    receiver = createServer(async (req, res) => {
      let raw = ''
      for await (const chunk of req) raw += chunk
      try {
        received.push(new Webhook(secret).verify(raw, req.headers as Record<string, string>) as never)
        res.writeHead(204).end()
      } catch {
        badSignatures++
        res.writeHead(400).end()
      }
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  })
  afterAll(async () => {
    await s?.stop()
    await new Promise<void>((resolve) => receiver?.close(() => resolve()))
  })

  const admin = () => s.as(w.users.creator)
  const verify = (head?: { seq: number; hash: string }) =>
    admin().get(`/v1/orgs/${w.orgId}/audit-logs/verify${head ? `?seq=${head.seq}&hash=${head.hash}` : ''}`)

  it('answers the head with every list and verify, the newest entry', async () => {
    const listed = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=1`)
    expect(listed.status).toBe(200)
    expect(listed.body.head).toEqual({ seq: listed.body.items[0].seq, hash: listed.body.items[0].hash })
    const verified = await verify()
    expect(verified.body).toMatchObject({ ok: true, truncated: false, kept: null, head: listed.body.head })
    const kept = await verify(listed.body.head)
    expect(kept.body).toMatchObject({ ok: true, truncated: false, kept: { status: 'reached' } })
  })

  it('refuses half a kept head, and a malformed one', async () => {
    expect((await admin().get(`/v1/orgs/${w.orgId}/audit-logs/verify?seq=3`)).status).toBe(400)
    expect((await admin().get(`/v1/orgs/${w.orgId}/audit-logs/verify?hash=${'a'.repeat(64)}`)).status).toBe(
      400,
    )
    expect((await admin().get(`/v1/orgs/${w.orgId}/audit-logs/verify?seq=x&hash=y`)).status).toBe(400)
  })

  it('reports the newest entries deleted in the database as truncation, given the kept head; the links cannot', async () => {
    for (const name of ['One', 'Two', 'Three']) await admin().post(`/v1/orgs/${w.orgId}/groups`, { name })
    const head = (await verify()).body.head as { seq: number; hash: string }
    await s.ctx.db
      .deleteFrom('audit_log')
      .where('org_id', '=', w.orgId)
      .where('seq', '>', String(head.seq - 3))
      .execute()
    const blind = await verify()
    expect(blind.body).toMatchObject({ ok: true, truncated: false, head: { seq: head.seq - 3 } })
    const checked = await verify(head)
    expect(checked.body).toMatchObject({
      ok: false,
      truncated: true,
      firstBroken: null,
      head: { seq: head.seq - 3 },
      kept: { seq: head.seq, hash: head.hash, status: 'missing', found: null },
    })
    // New writes refill those seqs with other entries: still caught, as a mismatch.
    for (const name of ['Four', 'Five', 'Six']) await admin().post(`/v1/orgs/${w.orgId}/groups`, { name })
    expect((await verify(head)).body).toMatchObject({
      ok: false,
      truncated: true,
      kept: { seq: head.seq, status: 'mismatch' },
    })
  })

  it('catches an entry rewritten with every later hash recomputed', async () => {
    const head = (await verify()).body.head as { seq: number; hash: string }
    const rows = await s.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('org_id', '=', w.orgId)
      .where('seq', '>=', String(head.seq - 2))
      .orderBy('seq')
      .execute()
    let prev = rows[0]!.prev_hash!
    for (const row of rows) {
      const forged = { ...row, actor_id: row === rows[0] ? 'someone-else' : row.actor_id }
      const hash = entryHash(prev, forged as never)
      await s.ctx.db
        .updateTable('audit_log')
        .set({ actor_id: forged.actor_id, prev_hash: prev, hash })
        .where('id', '=', row.id)
        .execute()
      prev = hash
    }
    expect((await verify()).body).toMatchObject({ ok: true, truncated: false })
    expect((await verify(head)).body).toMatchObject({
      ok: false,
      truncated: true,
      kept: { seq: head.seq, status: 'mismatch', found: prev },
    })
  })

  it('emits a signed checkpoint of each moved head to webhooks and the log, and none while it stays', async () => {
    const created = await admin().post(`/v1/orgs/${w.orgId}/webhooks`, {
      url: receiverUrl,
      events: ['audit.checkpoint'],
    })
    expect(created.status).toBe(201)
    secret = created.body.secret
    const head = (await verify()).body.head as { seq: number; hash: string }
    const taken = await s.checkpoints.runOnce()
    const ours = taken.find((c) => c.orgId === w.orgId)
    expect(ours).toMatchObject({ orgId: w.orgId, ...head })
    await s.ctx.webhooks.runOnce()
    expect(badSignatures).toBe(0)
    const event = received.find((e) => e.type === 'audit.checkpoint' && e.data.orgId === w.orgId)
    expect(event?.data).toEqual({ orgId: w.orgId, seq: head.seq, hash: head.hash, at: ours!.at })
    expect(logged.find((l) => (l.auditCheckpoint as { orgId?: string })?.orgId === w.orgId)).toMatchObject({
      msg: 'audit checkpoint',
      auditCheckpoint: { orgId: w.orgId, seq: head.seq, hash: head.hash },
    })
    // The checkpoint is a head a receiver can verify with later.
    expect(
      (await verify({ seq: event!.data.seq as number, hash: event!.data.hash as string })).body,
    ).toMatchObject({
      ok: true,
      kept: { status: 'reached' },
    })
    expect((await s.checkpoints.runOnce()).find((c) => c.orgId === w.orgId)).toBeUndefined()
    await admin().post(`/v1/orgs/${w.orgId}/groups`, { name: 'Moved' })
    const moved = (await s.checkpoints.runOnce()).find((c) => c.orgId === w.orgId)
    expect(moved?.seq).toBe(head.seq + 1)
  })
})

describe('ORGKIT_AUDIT_CHECKPOINT_MINUTES', () => {
  it('defaults to 60, takes 0 for none, and refuses what is not a number of minutes', () => {
    expect(loadConfig({}).auditCheckpointMinutes).toBe(60)
    expect(loadConfig({ ORGKIT_AUDIT_CHECKPOINT_MINUTES: '0' }).auditCheckpointMinutes).toBe(0)
    expect(loadConfig({ ORGKIT_AUDIT_CHECKPOINT_MINUTES: '5' }).auditCheckpointMinutes).toBe(5)
    for (const bad of ['x', '-1', '1.5', '99999'])
      expect(() => loadConfig({ ORGKIT_AUDIT_CHECKPOINT_MINUTES: bad })).toThrow(
        /ORGKIT_AUDIT_CHECKPOINT_MINUTES/,
      )
  })
})
