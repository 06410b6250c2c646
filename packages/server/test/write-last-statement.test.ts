import { randomUUID } from 'node:crypto'
import { appendAudit, webhooks } from '@orgkit/store'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * A write's last audit append ends its transaction (services/context.ts, `write`): on PostgreSQL its commit
 * is sent behind it, in the same round trip (store's prepared.ts). That is sound only while the write has
 * nothing left to do after it, which the server can't know from its caches alone: another instance may have
 * moved the org's audit head (the entry must then go in the long way) or given the org a webhook endpoint
 * (its outbox rows must go in with the write). The statement then fails, nothing commits, and the write runs
 * again the long way. Here another instance's writes are made in the database directly, as its own would
 * reach it; on PostgreSQL, also by a second server.
 */
describe.each(DATABASES)("a write's last statement (%s)", (database) => {
  let s: TestServer
  let creator = ''
  beforeAll(async () => {
    s = await startTestServer(database)
    creator = await s.user('Creator')
  })
  afterAll(async () => {
    await s?.stop()
  })
  // An org of its own for each test: what one test teaches the server of its chain (another instance writes
  // there; it has webhooks) would change how the next one's writes go.
  let orgId = ''
  beforeEach(async () => {
    const created = await s.as(creator).post('/v1/orgs', { name: 'Last statement' })
    expect(created.status).toBe(201)
    orgId = created.body.id
  })

  /** Adds a new user to the org over HTTP; the user's id. */
  async function addMember(server = s): Promise<string> {
    const id = await server.user('Joiner')
    const added = await server.platform.post(`/v1/orgs/${orgId}/members`, {
      userId: id,
      roles: ['org_member'],
    })
    expect(added.status).toBe(201)
    return id
  }
  /** The org's audit entries about this target. */
  const entriesAbout = (targetId: string) =>
    s.ctx.db
      .selectFrom('audit_log')
      .select(['seq', 'action'])
      .where('org_id', '=', orgId)
      .where('target_id', '=', targetId)
      .execute()
  /** The org's outbox: webhook events about this target, and the deliveries each has. */
  const eventsAbout = (targetId: string) =>
    s.ctx.db
      .selectFrom('webhook_events')
      .innerJoin('webhook_deliveries', 'webhook_deliveries.event_id', 'webhook_events.id')
      .select(['webhook_events.type', 'webhook_deliveries.webhook_id'])
      .where('webhook_events.org_id', '=', orgId)
      .where(sql`webhook_events.payload->'data'->'target'->>'id'`, '=', targetId)
      .execute()
  const chainVerifies = async () =>
    (await s.as(creator).get(`/v1/orgs/${orgId}/audit-logs/verify`)).body.ok as boolean
  const isMember = async (userId: string) =>
    (await s.platform.get(`/v1/orgs/${orgId}/members`)).body.items.some(
      (m: { userId: string }) => m.userId === userId,
    )

  /** What `run` returns, and the simple queries (begin, commit, rollback) sent to PostgreSQL meanwhile. */
  async function simpleQueries<T>(run: () => Promise<T>): Promise<[T, string[]]> {
    const query = pg.Connection.prototype.query
    const simple: string[] = []
    pg.Connection.prototype.query = function (this: pg.Connection, text: string) {
      simple.push(text)
      return query.call(this, text)
    }
    try {
      return [await run(), simple]
    } finally {
      pg.Connection.prototype.query = query
    }
  }
  /** An entry appended to the org's chain as another instance's write would. */
  const appendElsewhere = () =>
    s.ctx.db.transaction().execute((tx) =>
      appendAudit(
        tx,
        {
          orgId,
          actorType: 'platform',
          actorId: null,
          action: 'group.created',
          targetType: 'group',
          targetId: randomUUID(),
          ip: null,
          userAgent: null,
          requestId: null,
        },
        new Date(s.ctx.clock()),
      ),
    )

  it('commits a member add with its audit entry; on PostgreSQL no commit is sent alone', async () => {
    await addMember() // the server now keeps the org's audit head, and knows it has no webhooks
    const [id, simple] = await simpleQueries(() => addMember())
    if (database === 'postgres') expect(simple).not.toContain('commit')
    expect(await entriesAbout(id)).toEqual([expect.objectContaining({ action: 'member.added' })])
    expect(await isMember(id)).toBe(true)
    expect(await chainVerifies()).toBe(true)
  })

  it('goes in after an entry another instance appended since (the head this server kept moved)', async () => {
    await addMember()
    const other = await appendElsewhere()
    const [id, simple] = await simpleQueries(() => addMember())
    expect(await entriesAbout(id)).toEqual([{ seq: String(Number(other.seq) + 1), action: 'member.added' }])
    expect(await isMember(id)).toBe(true)
    expect(await chainVerifies()).toBe(true)
    // Its last statement found the head moved and failed; the write ran again, once. The chain is known as
    // one another instance writes to: the next write after another's entry doesn't fail and run again.
    if (database === 'postgres') expect(simple.filter((q) => q === 'rollback')).toHaveLength(1)
    await appendElsewhere()
    const [next, after] = await simpleQueries(() => addMember())
    expect(after).not.toContain('rollback')
    expect(await entriesAbout(next)).toEqual([expect.objectContaining({ action: 'member.added' })])
    expect(await chainVerifies()).toBe(true)
  })

  it('puts the webhook event in the outbox for an endpoint another instance added since', async () => {
    await addMember() // no endpoint: the server takes the org's chain as one without webhooks
    const hook = randomUUID()
    await s.ctx.db.transaction().execute((tx) =>
      webhooks.insertWebhook(tx, {
        id: hook,
        orgId,
        url: 'https://example.com/hook',
        events: null,
        secret: 'whsec_test',
        description: '',
      }),
    )
    const id = await addMember()
    expect(await eventsAbout(id)).toEqual([{ type: 'member.added', webhook_id: hook }])
    expect(await entriesAbout(id)).toEqual([expect.objectContaining({ action: 'member.added' })])
    expect(await chainVerifies()).toBe(true)
    // Known now: the next write's event goes in too.
    const next = await addMember()
    expect(await eventsAbout(next)).toEqual([{ type: 'member.added', webhook_id: hook }])
  })

  it.runIf(database === 'postgres')(
    'puts the event in the outbox for an endpoint a second server created a moment ago',
    async () => {
      const b = await startTestServer('postgres', { postgres: s.postgres })
      try {
        await addMember()
        const created = await b
          .as(creator)
          .post(`/v1/orgs/${orgId}/webhooks`, { url: 'https://example.com/b', events: ['member.*'] })
        expect(created.status).toBe(201)
        const id = await addMember()
        expect(await eventsAbout(id)).toContainEqual({ type: 'member.added', webhook_id: created.body.id })
        expect(await chainVerifies()).toBe(true)
      } finally {
        await b.stop()
      }
    },
    60_000,
  )
})
