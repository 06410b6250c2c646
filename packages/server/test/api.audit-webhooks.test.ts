import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { appendAudit, pruneAudit } from '@orgkit/store'
import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embeddedTestDatabase } from '../../store/test/support/test-databases.ts'
import { enqueueEvent } from '../src/webhooks/outbox.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

const CHANGES = Number(process.env.ORGKIT_WEBHOOK_CHANGES) || 70
/** The audit page the changes overflow (the route takes up to 500). */
const PAGE = 50

/** A webhook receiver on loopback that checks every signature with the `standardwebhooks` package. */
function receiver() {
  const seen = new Map<string, number>()
  const bodies = new Map<string, { type: string; data: Record<string, unknown> }>()
  let secret = ''
  let server: Server | null = null
  let port = 0
  let badSignatures = 0
  let answer = 204
  const handle = async (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    let raw = ''
    for await (const chunk of req) raw += chunk
    try {
      const event = new Webhook(secret).verify(raw, req.headers as Record<string, string>) as {
        type: string
        data: Record<string, unknown>
      }
      const id = req.headers['webhook-id'] as string
      seen.set(id, (seen.get(id) ?? 0) + 1)
      bodies.set(id, event)
      res.writeHead(answer).end('thanks')
    } catch {
      badSignatures++
      res.writeHead(400).end('bad signature')
    }
  }
  return {
    seen,
    bodies,
    setSecret: (s: string) => {
      secret = s
    },
    answerWith: (status: number) => {
      answer = status
    },
    get badSignatures() {
      return badSignatures
    },
    get url() {
      return `http://127.0.0.1:${port}/hook`
    },
    async up(): Promise<void> {
      server = createServer((req, res) => void handle(req, res))
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
      port = (server.address() as AddressInfo).port
    },
    async down(): Promise<void> {
      await new Promise<void>((resolve) => server?.close(() => resolve()))
      server = null
    },
  }
}

describe.each(DATABASES)('audit log and webhooks (%s)', (database) => {
  let s: TestServer
  let w: CapgoWorld
  let offset = 0
  const hook = receiver()
  beforeAll(async () => {
    s = await startTestServer(database, { clock: () => Date.now() + offset })
    w = await capgoWorld(s)
    await hook.up()
  })
  afterAll(async () => {
    await s?.stop()
    await hook.down()
  })

  const admin = () => s.as(w.users.creator)

  it('records every write with its actor, target, before and after, and pages and filters them', async () => {
    await admin().patch(`/v1/orgs/${w.orgId}`, { name: 'Acme Audited' })
    const page = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=2`)
    expect(page.status).toBe(200)
    expect(page.body.items[0]).toMatchObject({
      action: 'org.updated',
      actor: { type: 'user', id: w.users.creator },
      target: { type: 'org', id: w.orgId },
      after: expect.objectContaining({ name: 'Acme Audited' }),
    })
    expect(page.body.items[0].requestId).toBeTruthy()
    const next = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=2&cursor=${page.body.nextCursor}`)
    expect(next.body.items[0].seq).toBeLessThan(page.body.items[1].seq)
    const filtered = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?action=member.*&limit=100`)
    expect(filtered.body.items.length).toBeGreaterThan(0)
    expect(filtered.body.items.every((e: { action: string }) => e.action.startsWith('member.'))).toBe(true)
    const byActor = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?actorId=${w.users.admin}`)
    expect(byActor.body.items).toEqual([])
    expect((await s.as(w.users.member).get(`/v1/orgs/${w.orgId}/audit-logs`)).status).toBe(403)
  })

  it('shows billing entries to billing roles only, and the rest to auditors only', async () => {
    await s.ctx.db.transaction().execute((tx) =>
      appendAudit(
        tx,
        {
          orgId: w.orgId,
          actorType: 'platform',
          actorId: null,
          action: 'billing.plan_changed',
          targetType: 'org',
          targetId: w.orgId,
          after: { plan: 'team' },
          ip: null,
          userAgent: null,
          requestId: null,
        },
        new Date(s.ctx.clock()),
      ),
    )
    const billing = await s.as(w.users.billing).get(`/v1/orgs/${w.orgId}/audit-logs?limit=500`)
    expect(billing.body.items.map((e: { action: string }) => e.action)).toEqual(['billing.plan_changed'])
    const adminView = await s.as(w.users.admin).get(`/v1/orgs/${w.orgId}/audit-logs?limit=500`)
    expect(adminView.body.items.some((e: { action: string }) => e.action.startsWith('billing.'))).toBe(false)
    const owner = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=500`)
    expect(owner.body.items.some((e: { action: string }) => e.action === 'billing.plan_changed')).toBe(true)
  })

  it('sends billing events only to endpoints that name them, set up by readers of the billing audit', async () => {
    const hooks = `/v1/orgs/${w.orgId}/webhooks`
    const url = 'http://127.0.0.1:9/hook'
    const orgAdmin = s.as(w.users.admin)
    const everything = await orgAdmin.post(hooks, { url })
    expect(everything.status).toBe(201)
    const refused = await orgAdmin.post(hooks, { url, events: ['billing.*'] })
    expect([refused.status, refused.body.details.permission]).toEqual([403, 'org.read_billing_audit'])
    const billing = await admin().post(hooks, { url, events: ['billing.*'] })
    expect(billing.status).toBe(201)
    // Nor may the Admin point the billing endpoint elsewhere.
    expect(
      (await orgAdmin.patch(`${hooks}/${billing.body.id}`, { url: 'http://127.0.0.1:9/mine' })).status,
    ).toBe(403)

    await s.ctx.db.transaction().execute(async (tx) => {
      const row = await appendAudit(
        tx,
        {
          orgId: w.orgId,
          actorType: 'platform',
          actorId: null,
          action: 'billing.credits_purchased',
          targetType: 'org',
          targetId: w.orgId,
          after: { amount: 100 },
          ip: null,
          userAgent: null,
          requestId: null,
        },
        new Date(s.ctx.clock()),
      )
      await enqueueEvent(tx, row, new Date(s.ctx.clock()))
    })
    const types = async (id: string) =>
      (await admin().get(`${hooks}/${id}/deliveries?limit=100`)).body.items.map(
        (d: { type: string }) => d.type,
      )
    expect(await types(billing.body.id)).toEqual(['billing.credits_purchased'])
    expect(await types(everything.body.id)).not.toContain('billing.credits_purchased')
    await admin().delete(`${hooks}/${billing.body.id}`)
    await admin().delete(`${hooks}/${everything.body.id}`)
  })

  it('exports CSV and JSON, streamed, and leaves no formula for a spreadsheet to run', async () => {
    await admin().post(`/v1/orgs/${w.orgId}/groups`, { name: '=HYPERLINK("http://evil")' })
    const csv = await fetch(`${s.url}/v1/orgs/${w.orgId}/audit-logs/export?format=csv`, {
      headers: { authorization: `Bearer ${s.token}`, 'x-orgkit-user': w.users.creator },
    })
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const text = await csv.text()
    const lines = text.trim().split('\n')
    expect(lines[0]).toBe(
      'seq,createdAt,actorType,actorId,action,targetType,targetId,ip,userAgent,requestId,before,after,hash,actorVia,actorCredentialId',
    )
    expect(text).not.toMatch(/(^|,)"=/m)
    const json = await fetch(`${s.url}/v1/orgs/${w.orgId}/audit-logs/export?format=json`, {
      headers: { authorization: `Bearer ${s.token}`, 'x-orgkit-user': w.users.creator },
    })
    const entries = (await json.json()) as { seq: number }[]
    const listed = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=500`)
    expect(entries.map((e) => e.seq)).toEqual(listed.body.items.map((e: { seq: number }) => e.seq))
    expect(lines.length - 1).toBe(entries.length)
  })

  it('detects an edited entry and a deleted one, and stays verifiable after pruning', async () => {
    const verify = () => admin().get(`/v1/orgs/${w.orgId}/audit-logs/verify`)
    const before = await verify()
    expect(before.body).toMatchObject({ ok: true, firstBroken: null })
    const victim = (await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=500`)).body.items.at(-3)
    const original = await s.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '=', victim.id)
      .executeTakeFirstOrThrow()
    await s.ctx.db
      .updateTable('audit_log')
      .set({ actor_id: 'someone-else' })
      .where('id', '=', victim.id)
      .execute()
    expect((await verify()).body).toMatchObject({
      ok: false,
      firstBroken: { id: victim.id, reason: 'content' },
    })
    await s.ctx.db
      .updateTable('audit_log')
      .set({ actor_id: original.actor_id })
      .where('id', '=', victim.id)
      .execute()
    expect((await verify()).body.ok).toBe(true)
    await s.ctx.db.deleteFrom('audit_log').where('id', '=', victim.id).execute()
    expect((await verify()).body.firstBroken).toMatchObject({ reason: 'gap' })
    await sql`insert into audit_log overriding system value select * from json_populate_record(null::audit_log, ${JSON.stringify(original)}::json)`.execute(
      s.ctx.db,
    )
    expect((await verify()).body.ok).toBe(true)

    // Retention: prune everything older than the newest few entries; the chain still verifies from its anchor.
    const newest = (await admin().get(`/v1/orgs/${w.orgId}/audit-logs?limit=3`)).body.items.at(-1)
    const pruned = await s.ctx.db.transaction().execute((tx) => pruneAudit(tx, new Date(newest.createdAt)))
    expect(pruned).toBeGreaterThan(0)
    const after = await verify()
    expect(after.body.ok).toBe(true)
    expect(after.body.checked).toBeLessThan(before.body.checked)
  })

  it('signs events per Standard Webhooks, pings, and stops on 410', async () => {
    const created = await admin().post(`/v1/orgs/${w.orgId}/webhooks`, {
      url: hook.url,
      events: ['group.*', 'webhook.test'],
    })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^whsec_/)
    hook.setSecret(created.body.secret)
    const listed = await admin().get(`/v1/orgs/${w.orgId}/webhooks`)
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret)
    const audits = await admin().get(`/v1/orgs/${w.orgId}/audit-logs?action=webhook.created`)
    expect(JSON.stringify(audits.body)).not.toContain(created.body.secret)

    const group = await admin().post(`/v1/orgs/${w.orgId}/groups`, { name: 'Signed' })
    await s.ctx.webhooks.runOnce()
    const event = [...hook.bodies.values()].find((e) => e.type === 'group.created')
    expect(event?.data).toMatchObject({ orgId: w.orgId, target: { type: 'group', id: group.body.id } })
    expect(hook.badSignatures).toBe(0)

    const ping = await admin().post(`/v1/orgs/${w.orgId}/webhooks/${created.body.id}/test`)
    await s.ctx.webhooks.runOnce()
    expect(hook.seen.get(ping.body.eventId)).toBe(1)
    const log = await admin().get(`/v1/orgs/${w.orgId}/webhooks/${created.body.id}/deliveries`)
    expect(log.body.items[0]).toMatchObject({
      eventId: ping.body.eventId,
      status: 'succeeded',
      lastStatus: 204,
      attempts: 1,
    })
    expect(log.body.items[0].durationMs).toBeGreaterThanOrEqual(0)
    const again = await admin().post(`/v1/orgs/${w.orgId}/deliveries/${log.body.items[0].id}/redeliver`)
    expect(again.status).toBe(200)
    await s.ctx.webhooks.runOnce()
    expect(hook.seen.get(ping.body.eventId)).toBe(2)

    hook.answerWith(410)
    await admin().post(`/v1/orgs/${w.orgId}/groups`, { name: 'Gone' })
    await s.ctx.webhooks.runOnce()
    const disabled = (await admin().get(`/v1/orgs/${w.orgId}/webhooks`)).body.items.find(
      (h: { id: string }) => h.id === created.body.id,
    )
    expect(disabled).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') })
    hook.answerWith(204)
    await admin().request('DELETE', `/v1/orgs/${w.orgId}/webhooks/${created.body.id}`)
  })

  // 70 changes in npm test — four of the worker's claims of up to 20 (the last one short), and more than the
  // audit page of 50 read below holds (300, then 130 over a page of 100, until issue 25.6: the same assertions
  // at 4.3x and 1.9x the writes, each ~20 ms of CPU on PGlite); ORGKIT_WEBHOOK_CHANGES=1000 (or
  // more) for the longer run this test once made every time, which also crosses the verifier's reads of 1,000.
  it(`delivers all of ${CHANGES} membership changes, each once, to a receiver that was down, and the log verifies`, async () => {
    const created = await admin().post(`/v1/orgs/${w.orgId}/webhooks`, {
      url: hook.url,
      events: ['member.*'],
    })
    hook.setSecret(created.body.secret)
    hook.seen.clear()
    await hook.down()
    const member = w.users.member
    const roles = ['org_billing_admin', 'org_member']
    for (let i = 0; i < CHANGES; i++) {
      const reply = await admin().patch(`/v1/orgs/${w.orgId}/members/${member}`, { roles: [roles[i % 2]] })
      expect(reply.status).toBe(200)
    }
    await s.ctx.webhooks.runOnce()
    expect(hook.seen.size).toBe(0)
    const pending = await admin().get(`/v1/orgs/${w.orgId}/webhooks/${created.body.id}/deliveries?limit=5`)
    expect(pending.body.items[0]).toMatchObject({ status: 'pending', attempts: 1 })

    // A crashed instance's claims: locked for a minute, then anyone may take them.
    await s.ctx.db
      .updateTable('webhook_deliveries')
      .set({ locked_until: new Date(s.ctx.clock() + 60_000) })
      .where('status', '=', 'pending')
      .execute()
    await hook.up()
    offset += 30 * 60_000 // past the retry back-off, and past the dead claims
    await s.ctx.webhooks.runOnce()
    const memberEvents = [...hook.bodies.entries()].filter(([, e]) => e.type === 'member.roles_changed')
    expect(memberEvents).toHaveLength(CHANGES)
    expect([...hook.seen.values()].every((n) => n === 1)).toBe(true)
    expect(hook.badSignatures).toBe(0)
    const changes = await admin().get(
      `/v1/orgs/${w.orgId}/audit-logs?action=member.roles_changed&limit=${PAGE}`,
    )
    expect(changes.body.items).toHaveLength(PAGE)
    expect(changes.body.nextCursor).not.toBeNull()
    const verified = await admin().get(`/v1/orgs/${w.orgId}/audit-logs/verify`)
    expect(verified.body).toMatchObject({ ok: true })
    expect(verified.body.checked).toBeGreaterThanOrEqual(CHANGES)
  }, 240_000)
})

/**
 * A server started with the defaults refuses private receivers (every test server allows them). Once, not per
 * database: the default is the server's, and this server runs on the embedded one whichever the suite runs.
 */
describe('webhook receivers by default', () => {
  it('refuses private and metadata addresses', async () => {
    const { startServer } = await import('../src/server.ts')
    // Its database a copy of the migrated template, not initdb and every migration (issue 25.6).
    const embedded = embeddedTestDatabase()
    const strict = await startServer({ database: { dataDir: embedded.dataDir }, webhookIntervalMs: 0 })
    try {
      const user = (await strict.ctx.db.selectFrom('users').select('id').execute())[0]
      expect(user).toBeUndefined()
      const { createWebhook } = await import('../src/services/webhooks.ts')
      /** What creating a webhook to `url` answers: its error's code and reason. */
      const refusal = (url: string) =>
        createWebhook(
          strict.ctx,
          { kind: 'platform', tokenId: 't' },
          { ip: null, userAgent: null, requestId: null },
          'org_0',
          { url },
        ).catch((e: { code?: string; details?: { reason?: string } }) => `${e.code} ${e.details?.reason}`)
      expect(await refusal('http://127.0.0.1:9/x')).toBe('VALIDATION_FAILED private_network')
      expect(await refusal('http://169.254.169.254/latest')).toBe('VALIDATION_FAILED private_network')
    } finally {
      await strict.close()
      embedded.remove()
    }
  })
})

describe.runIf(DATABASES.includes('postgres'))('two instances share the webhook outbox (postgres)', () => {
  it('sends every event exactly once between them', async () => {
    const hook = receiver()
    await hook.up()
    const a = await startTestServer('postgres')
    const b = await startTestServer('postgres', { postgres: a.postgres })
    try {
      const w = await capgoWorld(a)
      const created = await a
        .as(w.users.creator)
        .post(`/v1/orgs/${w.orgId}/webhooks`, { url: hook.url, events: ['group.*'] })
      hook.setSecret(created.body.secret)
      for (let i = 0; i < 200; i++) await a.platform.post(`/v1/orgs/${w.orgId}/groups`, { name: `G${i}` })
      await Promise.all([
        a.ctx.webhooks.runOnce(),
        b.ctx.webhooks.runOnce(),
        a.ctx.webhooks.runOnce(),
        b.ctx.webhooks.runOnce(),
      ])
      await Promise.all([a.ctx.webhooks.runOnce(), b.ctx.webhooks.runOnce()])
      expect(hook.seen.size).toBe(200)
      expect([...hook.seen.values()].every((n) => n === 1)).toBe(true)
    } finally {
      await b.stop()
      await a.stop()
      await hook.down()
    }
  }, 120_000)
})
