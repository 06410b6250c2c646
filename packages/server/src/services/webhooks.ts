import { randomBytes, randomUUID } from 'node:crypto'
import { ORG, OrgkitError } from '@orgkit/core'
import { webhookDeliveries, webhooks } from '@orgkit/store'
import { webhookContext } from '../security/secrets-at-rest.ts'
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

/** Never includes the secret: views go to audit entries and event payloads too. */
const toView = (r: webhooks.WebhookRow): WebhookView => ({
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
  return (await webhooks.listWebhooks(ctx.db, orgId)).map(toView)
}

/**
 * Registers an endpoint; answers its signing secret (Standard Webhooks `whsec_…`) this once. The secret is
 * stored sealed to the endpoint (`webhook:<id>`): only the delivery worker opens it.
 */
export async function createWebhook(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { url: string; events?: string[] | null | undefined; description?: string | undefined },
) {
  await assertReceiver(input.url, ctx.settings.webhooksAllowPrivate)
  const secret = newSecret()
  const { result, revision } = await write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    mayReceive(ctx, actor, orgId, input.events)
    const id = randomUUID()
    const row = await webhooks.insertWebhook(work.tx, {
      id,
      orgId,
      url: input.url,
      events: input.events ?? null,
      secret: ctx.secrets.seal(secret, webhookContext(id)),
      description: input.description ?? '',
    })
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
    const before = await webhooks.findWebhook(work.tx, orgId, id)
    if (!before) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    // Whatever the change (a new URL included), an endpoint that takes billing events stays with readers of
    // the billing audit.
    mayReceive(ctx, actor, orgId, patch.events !== undefined ? patch.events : before.events)
    const row = await webhooks.updateWebhook(work.tx, id, {
      ...(patch.url !== undefined && { url: patch.url }),
      ...(patch.events !== undefined && { events: patch.events }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.enabled !== undefined && {
        enabled: patch.enabled,
        disabled_reason: patch.enabled ? null : 'disabled by a person',
      }),
    })
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
    const row = await webhooks.deleteWebhook(work.tx, orgId, id)
    if (!row) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    work.audit({ orgId, action: 'webhook.deleted', targetType: 'webhook', targetId: id, before: toView(row) })
    return null
  })
}

/** How long the secret a rotation replaced keeps signing beside the new one. */
export const PREVIOUS_SECRET_HOURS = 24

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`

/**
 * Gives an endpoint a new signing secret, answered this once and stored sealed like the first; the old one
 * keeps signing beside it for PREVIOUS_SECRET_HOURS (every delivery carries both signatures), so receivers
 * switch without a refusal.
 */
export async function rotateSecret(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  const secret = newSecret()
  const { result, revision } = await write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    const before = await webhooks.findWebhook(work.tx, orgId, id)
    if (!before) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    // The billing audit's readers chose who may learn this endpoint's secret: they alone rotate it.
    mayReceive(ctx, actor, orgId, before.events)
    const until = new Date(ctx.clock() + PREVIOUS_SECRET_HOURS * 3600_000)
    await webhooks.rotateSecret(work.tx, id, ctx.secrets.seal(secret, webhookContext(id)), until)
    work.audit({
      orgId,
      action: 'webhook.secret_rotated',
      targetType: 'webhook',
      targetId: id,
      after: { previousSecretExpiresAt: until.toISOString() },
    })
    return { previousSecretExpiresAt: until.toISOString() }
  })
  return { secret, ...result, revision }
}

/** A test ping to one endpoint (event type `webhook.test`), delivered like any other event. */
export async function pingWebhook(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  const { result } = await write(ctx, actor, meta, orgId, async (work) => {
    manage(ctx, actor, orgId)
    const hook = await webhooks.findWebhook(work.tx, orgId, id)
    if (!hook) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
    const now = new Date(ctx.clock())
    const eventId = `msg_${randomUUID().replaceAll('-', '')}`
    const payload = { type: 'webhook.test', timestamp: now.toISOString(), data: { orgId, webhookId: id } }
    await webhookDeliveries.insertEvent(work.tx, {
      id: eventId,
      orgId,
      type: 'webhook.test',
      payload,
      createdAt: now,
    })
    const [delivery] = await webhookDeliveries.insertDeliveries(work.tx, eventId, [id], now)
    return { eventId, deliveryId: delivery!.id }
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
  const hook = await webhooks.findWebhook(ctx.db, orgId, id)
  if (!hook) throw new OrgkitError('NOT_FOUND', 'no such webhook', { id })
  const rows = await webhookDeliveries.listDeliveries(ctx.db, id, {
    before: query.cursor ? new Date(query.cursor) : undefined,
    limit: query.limit,
  })
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
    const row = await webhookDeliveries.requeueDelivery(work.tx, orgId, deliveryId, new Date(ctx.clock()))
    if (!row) throw new OrgkitError('NOT_FOUND', 'no such delivery', { id: deliveryId })
    work.audit({ orgId, action: 'webhook.redelivered', targetType: 'webhook_delivery', targetId: deliveryId })
    return { deliveryId: row.id, eventId: row.event_id }
  })
  void ctx.webhooks.runOnce()
  return result
}
