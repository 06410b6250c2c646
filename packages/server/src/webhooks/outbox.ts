import { randomUUID } from 'node:crypto'
import type { Tx } from '@orgkit/store'

interface AuditRow {
  org_id: string | null
  action: string
  actor_type: string
  actor_id: string | null
  target_type: string
  target_id: string | null
  before: unknown
  after: unknown
  request_id: string | null
  seq: string | null
}

/** Does an endpoint's event list take this type? Null takes all; `member.*` takes a family. */
export function subscribed(events: readonly string[] | null, type: string): boolean {
  return (
    events === null ||
    events.some((e) => e === type || e === '*' || (e.endsWith('.*') && type.startsWith(e.slice(0, -1))))
  )
}

/**
 * Every audited action of an org is an event for its webhooks: written here, in the write's own
 * transaction, with one pending delivery per subscribed endpoint. The worker sends them after commit.
 */
export async function enqueueEvent(tx: Tx, audit: AuditRow, now: Date): Promise<boolean> {
  // Billing entries are readable only with org.read_billing_audit; webhooks are managed with
  // org.manage_webhooks (seed 001's admin, who must not see billing), so billing never leaves by webhook.
  if (audit.action.startsWith('billing.')) return false
  const hooks = await tx
    .selectFrom('webhooks')
    .select(['id', 'events'])
    .where('org_id', '=', audit.org_id!)
    .where('enabled', '=', true)
    .execute()
  const targets = hooks.filter((h) => subscribed(h.events, audit.action))
  if (targets.length === 0) return false
  const id = `msg_${randomUUID().replaceAll('-', '')}`
  const payload = {
    type: audit.action,
    timestamp: now.toISOString(),
    data: {
      orgId: audit.org_id,
      actor: { type: audit.actor_type, id: audit.actor_id },
      target: { type: audit.target_type, id: audit.target_id },
      before: audit.before,
      after: audit.after,
      requestId: audit.request_id,
      auditSeq: audit.seq,
    },
  }
  await tx
    .insertInto('webhook_events')
    .values({
      id,
      org_id: audit.org_id!,
      type: audit.action,
      payload: JSON.stringify(payload),
      created_at: now,
    })
    .execute()
  await tx
    .insertInto('webhook_deliveries')
    .values(
      targets.map((h) => ({
        id: randomUUID(),
        event_id: id,
        webhook_id: h.id,
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
    .execute()
  return true
}
