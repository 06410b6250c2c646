import { randomUUID } from 'node:crypto'
import { setTimeout } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { webhookDeliveries, webhooks } from '../src/index.ts'
import { insertOrgRow } from './support/billing-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

const T0 = new Date('2030-01-01T00:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)

describe.each(TARGETS)('webhook deliveries repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  /** An org with `hooks` endpoints and one event delivered to each, due at `due`. */
  async function outbox(hooks = 1, due = T0) {
    const orgId = await insertOrgRow(db())
    const eventId = `msg_${randomUUID().replaceAll('-', '')}`
    return db()
      .transaction()
      .execute(async (tx) => {
        const ids: string[] = []
        for (let i = 0; i < hooks; i++) {
          const hook = await webhooks.insertWebhook(tx, {
            id: randomUUID(),
            orgId,
            url: `https://h${i}.example.com`,
            events: null,
            secret: 's',
            description: '',
          })
          ids.push(hook.id)
        }
        await webhookDeliveries.insertEvent(tx, {
          id: eventId,
          orgId,
          type: 'member.added',
          payload: { type: 'member.added', data: { n: 1 } },
          createdAt: due,
        })
        const deliveries = await webhookDeliveries.insertDeliveries(tx, eventId, ids, due)
        return { orgId, eventId, hookIds: ids, deliveries }
      })
  }

  const delivery = (id: string) =>
    db().selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  /** Leaves only these deliveries pending: the claim scans the whole table. */
  const only = async (ids: string[]) =>
    db()
      .updateTable('webhook_deliveries')
      .set({ status: 'failed' })
      .where('status', '=', 'pending')
      .where('id', 'not in', ids)
      .execute()

  it('writes an event with its payload, and one pending delivery per endpoint, due at once', async () => {
    const { eventId, hookIds, deliveries } = await outbox(2)
    expect(await webhookDeliveries.findEvent(db(), eventId)).toMatchObject({
      id: eventId,
      type: 'member.added',
      payload: { type: 'member.added', data: { n: 1 } },
      created_at: T0,
    })
    expect(await webhookDeliveries.findEvent(db(), 'msg_none')).toBeUndefined()
    expect(deliveries.map((d) => d.webhook_id).sort()).toEqual([...hookIds].sort())
    for (const d of deliveries) {
      expect(await delivery(d.id)).toMatchObject({
        event_id: eventId,
        status: 'pending',
        attempts: 0,
        next_attempt_at: T0,
        locked_until: null,
        delivered_at: null,
      })
    }
    const none = await db()
      .transaction()
      .execute((tx) => webhookDeliveries.insertDeliveries(tx, eventId, [], T0))
    expect(none).toEqual([])
  })

  it('lists an endpoint’s deliveries newest first, with the event type, a page at a time', async () => {
    const { orgId, hookIds } = await outbox(1)
    const hookId = hookIds[0]!
    // Three more events to the same endpoint, each created in a transaction of its own (its own now()), a
    // millisecond apart at least: PGlite's clock is in milliseconds, and newest first can't order a tie.
    for (let i = 0; i < 3; i++) {
      await setTimeout(2)
      await db()
        .transaction()
        .execute(async (tx) => {
          const id = `msg_${randomUUID()}`
          await webhookDeliveries.insertEvent(tx, { id, orgId, type: `t.${i}`, payload: {}, createdAt: T0 })
          await webhookDeliveries.insertDeliveries(tx, id, [hookId], T0)
        })
    }
    const all = await webhookDeliveries.listDeliveries(db(), hookId, { limit: 10 })
    expect(all.map((d) => d.type)).toEqual(['t.2', 't.1', 't.0', 'member.added'])
    expect(all[0]).toMatchObject({ status: 'pending', attempts: 0, last_status: null })
    const page1 = await webhookDeliveries.listDeliveries(db(), hookId, { limit: 2 })
    const page2 = await webhookDeliveries.listDeliveries(db(), hookId, {
      before: page1.at(-1)!.created_at,
      limit: 2,
    })
    expect([...page1, ...page2].map((d) => d.id)).toEqual(all.map((d) => d.id))
    expect(await webhookDeliveries.listDeliveries(db(), randomUUID(), { limit: 10 })).toEqual([])
  })

  it('claims what is due, oldest first, up to the batch, and a second claimer gets none of it', async () => {
    const { deliveries } = await outbox(3)
    const [a, b, c] = deliveries.map((d) => d.id) as [string, string, string]
    await only([a, b, c])
    // c is due later than a and b.
    await db()
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: at(10) })
      .where('id', '=', c)
      .execute()
    const lock = { now: at(20), lockedUntil: at(80) }
    const first = await webhookDeliveries.claimDue(db(), { ...lock, limit: 2 })
    expect(first.map((d) => d.id).sort()).toEqual([a, b].sort())
    expect(first[0]).toMatchObject({ attempts: 0 })
    expect((await delivery(a)).locked_until).toEqual(at(80))
    const second = await webhookDeliveries.claimDue(db(), { ...lock, limit: 10 })
    expect(second.map((d) => d.id)).toEqual([c])
    expect(await webhookDeliveries.claimDue(db(), { ...lock, limit: 10 })).toEqual([])
    // Nothing is due before its time, and a claim that expired (its instance died) is due again.
    expect(await webhookDeliveries.claimDue(db(), { now: at(79), lockedUntil: at(139), limit: 10 })).toEqual(
      [],
    )
    const again = await webhookDeliveries.claimDue(db(), { now: at(81), lockedUntil: at(141), limit: 10 })
    expect(again.map((d) => d.id).sort()).toEqual([a, b, c].sort())
  })

  it.runIf(kind === 'postgres')(
    'skips deliveries another worker is claiming, without waiting for it (SKIP LOCKED)',
    async () => {
      const { deliveries } = await outbox(4)
      const ids = deliveries.map((d) => d.id)
      await only(ids)
      const lock = { now: at(1), lockedUntil: at(61) }
      // The first worker's claim stays uncommitted while the second claims on another connection.
      const [mine, theirs] = await db()
        .transaction()
        .execute(async (tx) => {
          const mine = await webhookDeliveries.claimDue(tx, { ...lock, limit: 2 })
          const theirs = await webhookDeliveries.claimDue(db(), { ...lock, limit: 10 })
          return [mine, theirs]
        })
      expect(mine).toHaveLength(2)
      expect(theirs).toHaveLength(2)
      expect(new Set([...mine, ...theirs].map((d) => d.id))).toEqual(new Set(ids))
    },
  )

  it('gives each delivery to one claimer when many claim at once', async () => {
    const { deliveries } = await outbox(12)
    const ids = deliveries.map((d) => d.id)
    await only(ids)
    const lock = { now: at(1), lockedUntil: at(61) }
    const claims = await Promise.all(
      Array.from({ length: 6 }, () => webhookDeliveries.claimDue(db(), { ...lock, limit: 3 })),
    )
    const claimed = claims.flat().map((d) => d.id)
    expect(claimed.sort()).toEqual([...ids].sort()) // every one, none twice
  })

  it('records attempts, schedules a retry forward, and a finished delivery is never claimed again', async () => {
    const { deliveries } = await outbox(2)
    const [retry, done] = deliveries.map((d) => d.id) as [string, string]
    await only([retry, done])
    const lock = { now: at(0), lockedUntil: at(60) }
    expect(await webhookDeliveries.claimDue(db(), { ...lock, limit: 10 })).toHaveLength(2)
    await db()
      .transaction()
      .execute(async (tx) => {
        await webhookDeliveries.insertAttempt(tx, {
          deliveryId: retry,
          attempt: 1,
          status: 503,
          error: null,
          durationMs: 12,
          responseExcerpt: 'busy',
        })
        await webhookDeliveries.recordOutcome(tx, retry, {
          attempts: 1,
          status: 'pending',
          nextAttemptAt: at(5),
          lastStatus: 503,
          lastError: null,
          lastDurationMs: 12,
          responseExcerpt: 'busy',
          deliveredAt: null,
        })
        await webhookDeliveries.insertAttempt(tx, {
          deliveryId: done,
          attempt: 1,
          status: 204,
          error: null,
          durationMs: 3,
          responseExcerpt: '',
        })
        await webhookDeliveries.recordOutcome(tx, done, {
          attempts: 1,
          status: 'succeeded',
          nextAttemptAt: at(1),
          lastStatus: 204,
          lastError: null,
          lastDurationMs: 3,
          responseExcerpt: '',
          deliveredAt: at(1),
        })
      })
    expect(await delivery(retry)).toMatchObject({
      status: 'pending',
      attempts: 1,
      next_attempt_at: at(5),
      locked_until: null,
      last_status: 503,
      last_duration_ms: 12,
      response_excerpt: 'busy',
      delivered_at: null,
    })
    expect(await delivery(done)).toMatchObject({
      status: 'succeeded',
      delivered_at: at(1),
      locked_until: null,
    })
    const attempts = await db()
      .selectFrom('webhook_attempts')
      .select(['delivery_id', 'attempt', 'status', 'duration_ms', 'response_excerpt'])
      .where('delivery_id', 'in', [retry, done])
      .execute()
    expect(attempts).toHaveLength(2)
    expect(attempts).toContainEqual({
      delivery_id: retry,
      attempt: 1,
      status: 503,
      duration_ms: 12,
      response_excerpt: 'busy',
    })
    // The released claim doesn't make the retry due before its time; at its time it is, with its count.
    expect(await webhookDeliveries.claimDue(db(), { now: at(4), lockedUntil: at(64), limit: 10 })).toEqual([])
    expect(await webhookDeliveries.claimDue(db(), { now: at(5), lockedUntil: at(65), limit: 10 })).toEqual([
      { id: retry, event_id: expect.any(String), webhook_id: expect.any(String), attempts: 1 },
    ])
  })

  it('requeues a delivery of the org’s own endpoints only, due now and unclaimed', async () => {
    const { orgId, eventId, deliveries } = await outbox(1)
    const other = await insertOrgRow(db())
    const id = deliveries[0]!.id
    await db()
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', locked_until: at(100) })
      .where('id', '=', id)
      .execute()
    const requeue = (org: string) =>
      db()
        .transaction()
        .execute((tx) => webhookDeliveries.requeueDelivery(tx, org, id, at(30)))
    expect(await requeue(other)).toBeUndefined()
    expect(await delivery(id)).toMatchObject({ status: 'failed' })
    expect(await requeue(orgId)).toEqual({ id, event_id: eventId })
    expect(await delivery(id)).toMatchObject({
      status: 'pending',
      next_attempt_at: at(30),
      locked_until: null,
    })
  })
})
