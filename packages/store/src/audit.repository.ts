import type { Tx } from './database.ts'

export interface AuditInput {
  orgId: string | null
  actorType: 'user' | 'api_key' | 'platform'
  actorId: string | null
  action: string
  targetType: string
  targetId: string | null
  before?: unknown
  after?: unknown
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

/** One audit entry, inside the write's own transaction. */
export async function appendAudit(tx: Tx, entry: AuditInput): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({
      org_id: entry.orgId,
      actor_type: entry.actorType,
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      ip: entry.ip,
      user_agent: entry.userAgent,
      request_id: entry.requestId,
    })
    .execute()
}
