import { randomUUID } from 'node:crypto'
import { type AuditEndpoint, type Tx, webhookDeliveries, webhooks } from '@orgkit/store'

interface AuditRow {
  org_id: string | null
  action: string
  actor_type: string
  actor_id: string | null
  actor_via: string | null
  actor_credential_id: string | null
  target_type: string
  target_id: string | null
  before: unknown
  after: unknown
  request_id: string | null
  seq: string | null
}

/** Billing events are the billing audit's entries: only readers of that audit may receive them. */
export const isBillingEvent = (type: string) => type.startsWith('billing.')

/**
 * Does an endpoint's event list take this type? Null or `*` takes all but billing events; `member.*` takes
 * a family. Billing events go only to endpoints that name them (`billing.*` or one type), which takes
 * `org.read_billing_audit` to set up.
 */
export function subscribed(events: readonly string[] | null, type: string): boolean {
  if (isBillingEvent(type)) return events?.some((e) => e === type || e === 'billing.*') ?? false
  return (
    events === null ||
    events.some((e) => e === type || e === '*' || (e.endsWith('.*') && type.startsWith(e.slice(0, -1))))
  )
}

/**
 * Every audited action of an org is an event for its webhooks: written here, in the write's own
 * transaction, with one pending delivery per subscribed endpoint. The worker sends them after commit.
 * `endpoints`: the org's enabled endpoints when the caller read them in this transaction already (the
 * audit insert returns them); else they are read here.
 */
export function enqueueEvent(
  tx: Tx,
  audit: AuditRow,
  now: Date,
  endpoints?: readonly AuditEndpoint[],
): Promise<boolean> {
  return enqueue(
    tx,
    audit.org_id!,
    audit.action,
    now,
    {
      orgId: audit.org_id,
      // How the actor came in, as the audit log has it: a platform acting for a person is never the person alone.
      actor: {
        type: audit.actor_type,
        id: audit.actor_id,
        via: audit.actor_via,
        credentialId: audit.actor_credential_id,
      },
      target: { type: audit.target_type, id: audit.target_id },
      before: audit.before,
      after: audit.after,
      requestId: audit.request_id,
      auditSeq: audit.seq,
    },
    endpoints,
  )
}

/**
 * An event of this type and data for the org's subscribed endpoints (none subscribed: nothing, false),
 * in the caller's transaction. Signed by the worker at delivery, like every event.
 */
export async function enqueue(
  tx: Tx,
  orgId: string,
  type: string,
  now: Date,
  data: unknown,
  endpoints?: readonly AuditEndpoint[],
): Promise<boolean> {
  const hooks = endpoints ?? (await webhooks.enabledWebhooks(tx, orgId))
  const targets = hooks.filter((h) => subscribed(h.events, type))
  if (targets.length === 0) return false
  const id = `msg_${randomUUID().replaceAll('-', '')}`
  const payload = { type, timestamp: now.toISOString(), data }
  await webhookDeliveries.insertEvent(tx, { id, orgId, type, payload, createdAt: now })
  await webhookDeliveries.insertDeliveries(
    tx,
    id,
    targets.map((h) => h.id),
    now,
  )
  return true
}
