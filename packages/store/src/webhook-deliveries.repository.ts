import { randomUUID } from 'node:crypto'
import { type Selectable, sql } from 'kysely'
import type { Executor, Tx, WebhookEventsTable } from './database.ts'

/**
 * The webhook outbox: events (one per audited action or ping), one delivery per subscribed endpoint, and
 * one attempt row per HTTP call. Events and deliveries are written in the transaction of the write they
 * announce; the worker claims due deliveries, calls out after commit, and records each outcome.
 */
export type WebhookEventRow = Selectable<WebhookEventsTable>

export async function insertEvent(
  tx: Tx,
  event: { id: string; orgId: string; type: string; payload: unknown; createdAt: Date },
): Promise<void> {
  await tx
    .insertInto('webhook_events')
    .values({
      id: event.id,
      org_id: event.orgId,
      type: event.type,
      payload: JSON.stringify(event.payload),
      created_at: event.createdAt,
    })
    .execute()
}

export function findEvent(db: Executor, id: string): Promise<WebhookEventRow | undefined> {
  return db.selectFrom('webhook_events').selectAll().where('id', '=', id).executeTakeFirst()
}

/** One pending delivery of the event per endpoint, due at once; answers each delivery's id. */
export function insertDeliveries(
  tx: Tx,
  eventId: string,
  webhookIds: readonly string[],
  now: Date,
): Promise<{ id: string; webhook_id: string }[]> {
  if (webhookIds.length === 0) return Promise.resolve([])
  return tx
    .insertInto('webhook_deliveries')
    .values(
      webhookIds.map((webhookId) => ({
        id: randomUUID(),
        event_id: eventId,
        webhook_id: webhookId,
        status: 'pending' as const,
        next_attempt_at: now,
        locked_until: null,
        last_status: null,
        last_error: null,
        last_duration_ms: null,
        response_excerpt: null,
        delivered_at: null,
      })),
    )
    .returning(['id', 'webhook_id'])
    .execute()
}

/** An endpoint's deliveries with their event's type, newest first; `before` is the previous page's last `created_at`. */
export function listDeliveries(
  db: Executor,
  webhookId: string,
  page: { before?: Date | undefined; limit: number },
) {
  let q = db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
    .select([
      'webhook_deliveries.id',
      'webhook_deliveries.event_id',
      'webhook_events.type',
      'webhook_deliveries.status',
      'webhook_deliveries.attempts',
      'webhook_deliveries.next_attempt_at',
      'webhook_deliveries.last_status',
      'webhook_deliveries.last_error',
      'webhook_deliveries.last_duration_ms',
      'webhook_deliveries.response_excerpt',
      'webhook_deliveries.delivered_at',
      'webhook_deliveries.created_at',
    ])
    .where('webhook_deliveries.webhook_id', '=', webhookId)
  if (page.before) q = q.where('webhook_deliveries.created_at', '<', page.before)
  return q
    .orderBy('webhook_deliveries.created_at', 'desc')
    .orderBy('webhook_deliveries.id')
    .limit(page.limit)
    .execute()
}

/**
 * Makes one of the org's deliveries pending and due at `now`, its claim released (a redelivery: same
 * event, same id for receivers to deduplicate on). Undefined if the org has no such delivery.
 */
export function requeueDelivery(
  tx: Tx,
  orgId: string,
  deliveryId: string,
  now: Date,
): Promise<{ id: string; event_id: string } | undefined> {
  return tx
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now, locked_until: null })
    .where('id', '=', deliveryId)
    .where('webhook_id', 'in', (eb) => eb.selectFrom('webhooks').select('id').where('org_id', '=', orgId))
    .returning(['id', 'event_id'])
    .executeTakeFirst()
}

export interface ClaimedDelivery {
  id: string
  event_id: string
  webhook_id: string
  attempts: number
}

/**
 * Claims up to `limit` due deliveries, oldest due first, until `lockedUntil`. FOR UPDATE SKIP LOCKED: two
 * workers claiming at once never take the same delivery, and neither waits for the other. A claim that
 * expires (its instance crashed) is due again.
 */
export async function claimDue(
  db: Executor,
  claim: { now: Date; lockedUntil: Date; limit: number },
): Promise<ClaimedDelivery[]> {
  const { rows } = await sql<ClaimedDelivery>`
    update webhook_deliveries set locked_until = ${claim.lockedUntil}
    where id in (
      select id from webhook_deliveries
      where status = 'pending' and next_attempt_at <= ${claim.now} and (locked_until is null or locked_until < ${claim.now})
      order by next_attempt_at
      limit ${claim.limit}
      for update skip locked
    )
    returning id, event_id, webhook_id, attempts`.execute(db)
  return rows
}

/** One HTTP call's record: its status (null if none came back) or error, and the time it took. */
export async function insertAttempt(
  tx: Tx,
  attempt: {
    deliveryId: string
    attempt: number
    status: number | null
    error: string | null
    durationMs: number
    responseExcerpt: string | null
  },
): Promise<void> {
  await tx
    .insertInto('webhook_attempts')
    .values({
      delivery_id: attempt.deliveryId,
      attempt: attempt.attempt,
      status: attempt.status,
      error: attempt.error,
      duration_ms: attempt.durationMs,
      response_excerpt: attempt.responseExcerpt,
    })
    .execute()
}

/**
 * Records an attempt's outcome on its delivery and releases the claim: done (`succeeded`, `failed`) or
 * pending again, due at `nextAttemptAt`.
 */
export async function recordOutcome(
  tx: Tx,
  deliveryId: string,
  outcome: {
    attempts: number
    status: 'pending' | 'succeeded' | 'failed'
    nextAttemptAt: Date
    lastStatus: number | null
    lastError: string | null
    lastDurationMs: number
    responseExcerpt: string | null
    deliveredAt: Date | null
  },
): Promise<void> {
  await tx
    .updateTable('webhook_deliveries')
    .set({
      attempts: outcome.attempts,
      status: outcome.status,
      next_attempt_at: outcome.nextAttemptAt,
      locked_until: null,
      last_status: outcome.lastStatus,
      last_error: outcome.lastError,
      last_duration_ms: outcome.lastDurationMs,
      response_excerpt: outcome.responseExcerpt,
      delivered_at: outcome.deliveredAt,
    })
    .where('id', '=', deliveryId)
    .execute()
}
