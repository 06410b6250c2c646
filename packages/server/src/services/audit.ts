import { ORG, OrgkitError } from '@orgkit/core'
import {
  type ActorVia,
  type AuditRow,
  auditNames,
  canonical,
  chainHead,
  listAuditEntries,
  verifyChain,
} from '@orgkit/store'
import { WEBHOOK_EVENTS } from '../webhooks/events.ts'
import { type Actor, authorize, type Ctx, can, requireOrg } from './context.ts'

export interface AuditQuery {
  actorId?: string | undefined
  action?: string | undefined
  targetType?: string | undefined
  targetId?: string | undefined
  from?: string | undefined
  to?: string | undefined
  cursor?: string | undefined
  limit: number
}

/**
 * What the actor may read of an org's log: billing entries with `org.read_billing_audit` (seed 001's
 * billing manager), everything else with `org.read_audit`.
 */
function scopeOf(ctx: Ctx, actor: Actor, orgId: string): { billing: boolean; rest: boolean } {
  requireOrg(ctx, actor, orgId)
  const target = { type: ORG, id: orgId }
  const scope = {
    billing: can(ctx, actor, 'org.read_billing_audit', target),
    rest: can(ctx, actor, 'org.read_audit', target),
  }
  if (!scope.billing && !scope.rest) authorize(ctx, actor, 'org.read_audit', target)
  return scope
}

function query(ctx: Ctx, actor: Actor, orgId: string, q: Omit<AuditQuery, 'limit'>, limit: number) {
  const scope = scopeOf(ctx, actor, orgId)
  return listAuditEntries(
    ctx.db,
    orgId,
    {
      ...scope,
      actorId: q.actorId,
      action: q.action,
      targetType: q.targetType,
      targetId: q.targetId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      beforeSeq: q.cursor,
    },
    limit,
  )
}

export const toEntry = (r: AuditRow) => ({
  id: r.id,
  seq: Number(r.seq),
  orgId: r.org_id,
  actor: {
    type: r.actor_type,
    id: r.actor_id,
    via: r.actor_via as ActorVia | null,
    credentialId: r.actor_credential_id,
  },
  action: r.action,
  target: { type: r.target_type, id: r.target_id },
  before: r.before,
  after: r.after,
  ip: r.ip,
  userAgent: r.user_agent,
  requestId: r.request_id,
  createdAt: r.created_at.toISOString(),
  hash: r.hash,
})

/** The name an entry's own snapshot gives what it changed: what a deleted thing was called. */
function snapshotName(r: AuditRow): string | null {
  for (const side of [r.before, r.after]) {
    if (!side || typeof side !== 'object') continue
    const s = side as Record<string, unknown>
    const name = [s.name, s.label, s.email, s.domain, s.url].find((v) => typeof v === 'string' && v !== '')
    if (typeof name === 'string') return name
  }
  return null
}

/**
 * Each entry with the names of its actor and target as they are now (one query per kind of id on the page),
 * a deleted target by the name its entry recorded, a built-in role by the model's label; null when nothing
 * names it (the id still says which).
 */
async function named(ctx: Ctx, orgId: string, rows: AuditRow[]) {
  const refs = rows.flatMap((r) => [
    ...(r.actor_id ? [{ type: r.actor_type, id: r.actor_id }] : []),
    ...(r.target_id ? [{ type: r.target_type, id: r.target_id }] : []),
  ])
  const names = await auditNames.namesOf(ctx.db, orgId, refs)
  const nameOf = (type: string, id: string | null) =>
    id === null
      ? null
      : (names.get(auditNames.refKey({ type, id })) ??
        (type === 'role' ? ctx.model.roles[id]?.label : null) ??
        null)
  return rows.map((r) => {
    const e = toEntry(r)
    return {
      ...e,
      actor: { ...e.actor, name: nameOf(r.actor_type, r.actor_id) },
      target: { ...e.target, name: nameOf(r.target_type, r.target_id) ?? snapshotName(r) },
    }
  })
}

/** Newest first, a page at a time (the cursor is the last entry's seq), people and things by name. */
export async function listAudit(ctx: Ctx, actor: Actor, orgId: string, q: AuditQuery) {
  const rows = await query(ctx, actor, orgId, q, q.limit)
  // The head after the page: a head read first could be older than an entry on the page.
  const head = await chainHead(ctx.db, orgId)
  const items = await named(ctx, orgId, rows)
  return { items, nextCursor: rows.length === q.limit ? rows.at(-1)!.seq : null, head }
}

/**
 * The actions the reader may find in the org's log, each with what it means: the event catalogue (every
 * audited org action is an event, test/openapi.contract.test.ts), billing ones for readers of billing.
 */
export function auditActions(ctx: Ctx, actor: Actor, orgId: string) {
  const scope = scopeOf(ctx, actor, orgId)
  return Object.entries(WEBHOOK_EVENTS)
    .filter(([action]) => (action.startsWith('billing.') ? scope.billing : scope.rest))
    .map(([action, description]) => ({ action, description }))
}

const CSV_COLUMNS = [
  'seq',
  'createdAt',
  'actorType',
  'actorId',
  'action',
  'targetType',
  'targetId',
  'ip',
  'userAgent',
  'requestId',
  'before',
  'after',
  'hash',
  'actorVia',
  'actorCredentialId',
] as const

function csvCell(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : canonical(value)
  // Quote every cell; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
  return `"${safe.replaceAll('"', '""')}"`
}

/**
 * The export, streamed a page at a time (never the whole log in memory): CSV with a header row, or a
 * JSON array.
 */
export function exportAudit(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  q: Omit<AuditQuery, 'limit' | 'cursor'>,
  format: 'csv' | 'json',
): ReadableStream<Uint8Array> {
  scopeOf(ctx, actor, orgId) // authorize before the first byte
  const encoder = new TextEncoder()
  let cursor: string | undefined
  let first = true
  let done = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return controller.close()
      const rows = await query(ctx, actor, orgId, { ...q, cursor }, 500)
      let chunk = ''
      if (first) chunk += format === 'csv' ? `${CSV_COLUMNS.join(',')}\n` : '['
      for (const r of rows) {
        const e = toEntry(r)
        if (format === 'csv') {
          chunk += `${[e.seq, e.createdAt, e.actor.type, e.actor.id, e.action, e.target.type, e.target.id, e.ip, e.userAgent, e.requestId, e.before, e.after, e.hash, e.actor.via, e.actor.credentialId].map(csvCell).join(',')}\n`
        } else {
          chunk += `${first ? '' : ','}\n${JSON.stringify(e)}`
          first = false
        }
      }
      first = false
      if (rows.length < 500) {
        if (format === 'json') chunk += '\n]\n'
        done = true
      } else {
        cursor = rows.at(-1)!.seq!
      }
      controller.enqueue(encoder.encode(chunk))
    },
  })
}

/**
 * Recomputes the org's hash chain and reports the first broken link (SPEC 4); with a head the caller kept
 * (`seq` and `hash`, both or neither), whether the chain still reaches it (issue 22.4).
 */
export async function verifyAudit(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  kept: { seq?: string | undefined; hash?: string | undefined } = {},
) {
  scopeOf(ctx, actor, orgId)
  if ((kept.seq === undefined) !== (kept.hash === undefined)) {
    throw new OrgkitError('VALIDATION_FAILED', 'a kept head takes both seq and hash', {
      field: kept.seq === undefined ? 'seq' : 'hash',
    })
  }
  const head = kept.seq !== undefined ? { seq: Number(kept.seq), hash: kept.hash! } : undefined
  const report = await verifyChain(ctx.db, orgId, head)
  if (!report) throw new OrgkitError('NOT_FOUND', 'no log')
  return report
}
