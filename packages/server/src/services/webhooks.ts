import { randomBytes, randomUUID } from 'node:crypto'
import { ORG, OrgkitError } from '@orgkit/core'
import { isBillingEvent } from '../webhooks/outbox.ts'
import { assertReceiver } from '../webhooks/ssrf.ts'
import { type Actor, authorize, type Ctx, type RequestMeta, requireOrg, write } from './context.ts'

export interface WebhookView {
  id: string
  orgId: string
  url: string
  events: string[] | null
  enabled: boolean
  description: string
  disabledReason: string | null
  createdAt: string
}

type Row = {
  id: string
  org_id: string
  url: string
  events: string[] | null
  enabled: boolean
  description: string
  disabled_reason: string | null
  created_at: Date
}
/** Never includes the secret: views go to audit entries and event payloads too. */
const toView = (r: Row): WebhookView => ({
  id: r.id,
  orgId: r.org_id,
  url: r.url,
  events: r.events,
  enabled: r.enabled,
  description: r.description,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at.toISOString(),
})

const manage = (ctx: Ctx, actor: Actor, orgId: string) => {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.manage_webhooks', { type: ORG, id: orgId })
}

/** Subscribing to billing events reads the billing audit: it takes the right to read it. */
const mayReceive = (ctx: Ctx, actor: Actor, orgId: string, events: readonly string[] | null | undefined) => {
  if (events?.some(isBillingEvent)) authorize(ctx, actor, 'org.read_billing_audit', { type: ORG, id: orgId })
}

export async function listWebhooks(ctx: Ctx, actor: Actor, orgId: string): Promise<WebhookView[]> {
  manage(ctx, actor, orgId)
  return (
    await ctx.db
      .selectFrom('webhooks')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .execute()
  ).map(toView)
}

/** Registers an endpoint; answers its signing secret (Standard Webhooks `whsec_…`) this once. */
export async function createWebhook(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { url: string; events?: string[] | null | undefined; description?: string | undefined },
) {
  await assertReceiver(input.url, ctx.settings.webhooksAllowPrivate)
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const { result, revision } = await write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    mayReceive(ctx, actor, orgId, input.events)
    const row = await work.tx
      .insertInto('webhooks')
      .values({
        id: randomUUID(),
        org_id: orgId,
        url: input.url,
        events: input.events ?? null,
        secret,
        description: input.description ?? '',
        disabled_reason: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    work.audit({
      orgId,
      action: 'webhook.created',
      targetType: 'webhook',
      targetId: row.id,
      after: toView(row),
    })
    return toView(row)
  })
  return { ...result, secret, revision }
}

export async function updateWebhook(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  patch: {
    url?: string | undefined
    events?: string[] | null | undefined
    enabled?: boolean | undefined
    description?: string | undefined
  },
) {
  if (patch.url !== undefined) await assertReceiver(patch.url, ctx.settings.webhooksAllowPrivate)
  return write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    const before = await work.tx
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .executeTakeFirst()
    if (!before) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    // Whatever the change (a new URL included), an endpoint that takes billing events stays with readers of
    // the billing audit.
    mayReceive(ctx, actor, orgId, patch.events !== undefined ? patch.events : before.events)
    const row = await work.tx
      .updateTable('webhooks')
      .set({
        ...(patch.url !== undefined && { url: patch.url }),
        ...(patch.events !== undefined && { events: patch.events }),
        ...(patch.description !== undefined && { description: patch.description }),
        ...(patch.enabled !== undefined && {
          enabled: patch.enabled,
          disabled_reason: patch.enabled ? null : 'disabled by a person',
        }),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
    work.audit({
      orgId,
      action: 'webhook.updated',
      targetType: 'webhook',
      targetId: id,
      before: toView(before),
      after: toView(row),
    })
    return toView(row)
  })
}

export async function deleteWebhook(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    const row = await work.tx
      .deleteFrom('webhooks')
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    work.audit({ orgId, action: 'webhook.deleted', targetType: 'webhook', targetId: id, before: toView(row) })
    return null
  })
}

/** A test ping to one endpoint (event type `webhook.test`), delivered like any other event. */
export async function pingWebhook(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  const { result } = await write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    const hook = await work.tx
      .selectFrom('webhooks')
      .select('id')
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .executeTakeFirst()
    if (!hook) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    const now = new Date(ctx.clock())
    const eventId = `msg_${randomUUID().replaceAll('-', '')}`
    const payload = { type: 'webhook.test', timestamp: now.toISOString(), data: { orgId, webhookId: id } }
    await work.tx
      .insertInto('webhook_events')
      .values({
        id: eventId,
        org_id: orgId,
        type: 'webhook.test',
        payload: JSON.stringify(payload),
        created_at: now,
      })
      .execute()
    const deliveryId = randomUUID()
    await work.tx
      .insertInto('webhook_deliveries')
      .values({
        id: deliveryId,
        event_id: eventId,
        webhook_id: id,
        status: 'pending',
        next_attempt_at: now,
        locked_until: null,
        last_status: null,
        last_error: null,
        last_duration_ms: null,
        response_excerpt: null,
        delivered_at: null,
      })
      .execute()
    return { eventId, deliveryId }
  })
  void ctx.webhooks.runOnce()
  return result
}

export async function listDeliveries(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  id: string,
  query: { cursor?: string | undefined; limit: number },
) {
  manage(ctx, actor, orgId)
  const hook = await ctx.db
    .selectFrom('webhooks')
    .select('id')
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .executeTakeFirst()
  if (!hook) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
  let q = ctx.db
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
    .where('webhook_deliveries.webhook_id', '=', id)
  if (query.cursor) q = q.where('webhook_deliveries.created_at', '<', new Date(query.cursor))
  const rows = await q
    .orderBy('webhook_deliveries.created_at', 'desc')
    .orderBy('webhook_deliveries.id')
    .limit(query.limit)
    .execute()
  return {
    items: rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      type: r.type,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
      lastStatus: r.last_status,
      lastError: r.last_error,
      durationMs: r.last_duration_ms,
      responseExcerpt: r.response_excerpt,
      deliveredAt: r.delivered_at?.toISOString() ?? null,
      createdAt: r.created_at.toISOString(),
    })),
    nextCursor: rows.length === query.limit ? rows.at(-1)!.created_at.toISOString() : null,
  }
}

/** Sends a delivery again now (same event id, so receivers still deduplicate). */
export async function redeliver(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  deliveryId: string,
) {
  const { result } = await write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    const row = await work.tx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: new Date(ctx.clock()), locked_until: null })
      .where('id', '=', deliveryId)
      .where('webhook_id', 'in', (eb) => eb.selectFrom('webhooks').select('id').where('org_id', '=', orgId))
      .returning(['id', 'event_id'])
      .executeTakeFirst()
    if (!row) throw new OrgkitError('NOT_FOUND', 'no such delivery', { id: deliveryId })
    work.audit({ orgId, action: 'webhook.redelivered', targetType: 'webhook_delivery', targetId: deliveryId })
    return { deliveryId: row.id, eventId: row.event_id }
  })
  void ctx.webhooks.runOnce()
  return result
}
