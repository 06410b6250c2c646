import { createHash } from 'node:crypto'
import type { Change } from '@orgkit/core'
import { type Selectable, sql } from 'kysely'
import { type FeedMac, feedAppend, feedNotify } from './changes.repository.ts'
import type { AuditLogTable, Executor, Tx } from './database.ts'
import { COMMITS } from './prepared.ts'

/** How an audited actor authenticated (issue 20): a platform acting for a person is never the person alone. */
export type ActorVia = 'session' | 'api_key' | 'host_token' | 'platform' | 'scim' | 'sso'

export interface AuditInput {
  orgId: string | null
  /** `directory`: a SCIM directory token (issue 21.3), `actorId` its id. */
  actorType: 'user' | 'api_key' | 'platform' | 'directory'
  actorId: string | null
  /** How the actor authenticated; null when nobody did (an entry the server makes on its own). */
  actorVia?: ActorVia | null
  /** The credential that authenticated, when it has an id: the platform token acting as a user, the key. */
  actorCredentialId?: string | null
  action: string
  targetType: string
  targetId: string | null
  before?: unknown
  after?: unknown
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

/** Account-level entries (no org) form a chain of their own under this key. */
const NO_ORG = '00000000-0000-0000-0000-000000000000'
const GENESIS = 'orgkit-audit-genesis'

/** JSON with sorted keys: the same value always hashes the same, whatever order jsonb hands keys back in. */
export function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

interface Hashed {
  seq: string | number
  org_id: string | null
  actor_type: string
  actor_id: string | null
  actor_via: string | null
  actor_credential_id: string | null
  action: string
  target_type: string
  target_id: string | null
  before: unknown
  after: unknown
  ip: string | null
  user_agent: string | null
  request_id: string | null
  created_at: Date
}

/**
 * Each entry's hash covers its content and the previous entry's hash: editing or dropping one breaks the
 * chain. The fields added later (migration 0009's `actor_via`, `actor_credential_id`) count only when set:
 * `canonical` leaves out what is undefined, so an entry from before them hashes exactly as it did.
 */
export function entryHash(prevHash: string, row: Hashed): string {
  const content = canonical({
    seq: String(row.seq),
    org_id: row.org_id,
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    actor_via: row.actor_via ?? undefined,
    actor_credential_id: row.actor_credential_id ?? undefined,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    before: row.before,
    after: row.after,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    created_at: row.created_at.toISOString(),
  })
  return createHash('sha256').update(`${prevHash}\n${content}`).digest('hex')
}

/** The chain key as migration 0003's `audit_log_chain` index has it: a head is one backward index step. */
const chainKey = sql<string>`coalesce(org_id, ${sql.lit(NO_ORG)}::uuid)`

/** An enabled endpoint of an entry's org and the event types it takes (null: all): what the outbox needs. */
export interface AuditEndpoint {
  id: string
  events: string[] | null
}

/**
 * An entry chained after `prevHash`: `columns`, what it is inserted with (its hash computed from them and the
 * previous entry's hash), and `row`, the entry as the database hands it back (all but its `id`), jsonb as
 * JSON.parse makes it of what jsonb prints — the same values, keys perhaps in another order.
 */
function chained(entry: AuditInput, now: Date, seq: number, prevHash: string) {
  const row = {
    seq: String(seq),
    org_id: entry.orgId,
    actor_type: entry.actorType,
    actor_id: entry.actorId,
    actor_via: entry.actorVia ?? null,
    actor_credential_id: entry.actorCredentialId ?? null,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    before: entry.before === undefined ? null : JSON.parse(JSON.stringify(entry.before)),
    after: entry.after === undefined ? null : JSON.parse(JSON.stringify(entry.after)),
    ip: entry.ip,
    user_agent: entry.userAgent,
    request_id: entry.requestId,
    created_at: now,
  }
  const hash = entryHash(prevHash, row)
  return {
    columns: {
      ...row,
      before: row.before === null ? null : JSON.stringify(row.before),
      after: row.after === null ? null : JSON.stringify(row.after),
      prev_hash: prevHash,
      hash,
    },
    row: { ...row, prev_hash: prevHash, hash } satisfies Omit<AuditRow, 'id'>,
  }
}

/** The entry's org's enabled endpoints, read by the statement that inserts the entry (RETURNING). */
const endpointsOf = sql<
  AuditEndpoint[]
>`(select coalesce(json_agg(json_build_object('id', w.id, 'events', w.events)), '[]'::json)
  from webhooks w where w.org_id = audit_log.org_id and w.enabled)`

const chainLock = (key: string) => sql`pg_advisory_xact_lock(hashtextextended(${`audit:${key}`}, 0))`

/**
 * Appends an entry in the caller's transaction, chained to the org's previous one. An advisory lock per
 * chain orders concurrent appends, so the chain has no forks.
 */
export async function appendAudit(tx: Tx, entry: AuditInput, now: Date): Promise<AuditRow> {
  return (await appendAuditEntry(tx, entry, now, null)).row
}

/**
 * `appendAudit`, also returning the entry's org's enabled endpoints (for its webhook event), read by the
 * insert itself. `head` is the chain's newest entry as the caller last saw it committed (or appended earlier
 * in this transaction): while it still is the newest, the append is that one statement — the chain's lock,
 * a check that `head` is in the chain (or is its anchor), and an insert at `head.seq + 1` that the chain's
 * unique (chain, seq) index refuses, doing nothing, when another entry took that seq meanwhile. A refused or
 * missing `head` costs the full append: lock, read the newest entry, insert. Either way the entry's hash is
 * `entryHash` over the same fields: one chain definition, which `verifyChain` checks. With `last` (and a
 * `head`), the append is its transaction's last statement, or fails with `NOT_LAST` (see below).
 */
export async function appendAuditEntry(
  tx: Tx,
  entry: AuditInput,
  now: Date,
  head: ChainHead | null,
  feed?: { changes: readonly Change[]; mac: FeedMac },
  { last = false }: { last?: boolean } = {},
): Promise<{ row: AuditRow; endpoints: AuditEndpoint[]; revision: number | null }> {
  const key = entry.orgId ?? NO_ORG
  if (head) {
    const { columns: r, row: known } = chained(entry, now, head.seq + 1, head.hash)
    // The lock is taken as the select yields its one row, before the insert checks the unique index; the
    // head's check reads the statement's snapshot, which holds every entry committed before this process
    // saw `head`, and this transaction's own. With `feed`, the same statement logs the write's changes
    // (changes.repository.ts) when the entry went in — one round trip less — and takes no revision when it
    // didn't: then the caller records them itself, after the full append.
    const appended = sql`appended as (
      insert into audit_log (seq, org_id, actor_type, actor_id, actor_via, actor_credential_id, action,
        target_type, target_id, before, after, ip, user_agent, request_id, created_at, prev_hash, hash)
      select ${r.seq}::bigint, ${r.org_id}::uuid, ${r.actor_type}::text, ${r.actor_id}::text,
        ${r.actor_via}::text, ${r.actor_credential_id}::text, ${r.action}::text, ${r.target_type}::text,
        ${r.target_id}::text, ${r.before}::jsonb, ${r.after}::jsonb, ${r.ip}::text, ${r.user_agent}::text,
        ${r.request_id}::text, ${r.created_at}::timestamptz, ${r.prev_hash}::text, ${r.hash}::text
      from (select ${chainLock(key)}) as locked
      where exists (select 1 from audit_log where ${chainKey} = ${key}::uuid and seq = ${String(head.seq)}::bigint
          and hash = ${head.hash}::text)
        or exists (select 1 from audit_anchors where org_key = ${key}::uuid and seq = ${String(head.seq)}::bigint
          and hash = ${head.hash}::text)
      on conflict do nothing
      returning id, ${endpointsOf} as endpoints
    )`
    const logged = feed
      ? {
          ctes: sql`, ${feedAppend(feed.changes, feed.mac, sql`exists (select 1 from appended)`)}`,
          columns: sql`(select value from next) as revision, (select ${feedNotify} from next) as notified`,
        }
      : { ctes: sql``, columns: sql`null as revision, null as notified` }
    // Only what the caller does not know comes back (the id, the endpoints, the revision): the rest is what
    // went in. Printing, sending and parsing the whole row was a sixth of the statement's CPU on the embedded
    // database (issue 25.3).
    // `last`: the transaction's last statement, its commit sent behind it where the store can (prepared.ts,
    // `COMMITS`). It fails (`NOT_LAST`) rather than let the write commit without what would follow it: the
    // full append, when the entry did not go in at `head`; the outbox rows, when the org has endpoints.
    const { rows } = last
      ? await sql<AppendedRow>`${sql.raw(COMMITS)}with ${appended}${logged.ctes}
          select appended.id, appended.endpoints, ${logged.columns},
            case when appended.id is null or json_array_length(appended.endpoints) > 0 then orgkit_not_last() end
          from (select) as one left join appended on true`.execute(tx)
      : await sql<AppendedRow>`with ${appended}${logged.ctes}
          select appended.id, appended.endpoints, ${logged.columns} from appended`.execute(tx)
    if (rows[0]) {
      const { id, endpoints, revision } = rows[0]
      return { row: { id, ...known }, endpoints, revision: revision === null ? null : Number(revision) }
    }
  }
  await sql`select ${chainLock(key)}`.execute(tx)
  const newest = await chainHead(tx, entry.orgId)
  const { endpoints, ...row } = await tx
    .insertInto('audit_log')
    .values(chained(entry, now, (newest?.seq ?? 0) + 1, newest?.hash ?? GENESIS).columns)
    .returningAll()
    .returning(endpointsOf.as('endpoints'))
    .executeTakeFirstOrThrow()
  return { row, endpoints, revision: null }
}

/** What the one-statement append returns: only what the caller does not know. */
interface AppendedRow {
  id: string
  endpoints: AuditEndpoint[]
  revision: string | null
  notified: unknown
}

/**
 * SQLSTATE of a write's last audit append that found the write not done (`appendAuditEntry`'s `last`,
 * migration 0024): nothing of the transaction committed; run it again without `last`.
 */
export const NOT_LAST = 'OKL01'

export const isNotLast = (error: unknown) => (error as { code?: unknown } | null)?.code === NOT_LAST

/** A chain's newest entry: what a reader keeps outside the database to detect a cut tail later. */
export interface ChainHead {
  seq: number
  hash: string
}

/**
 * What became of a head the caller kept: `reached` (the entry at that seq still has that hash), `missing`
 * (no entry at that seq any more: the tail was deleted), `mismatch` (an entry there hashes differently: the
 * log was rewritten), or `pruned` (that seq is older than the anchor retention left: it cannot be checked).
 */
export interface KeptHeadReport extends ChainHead {
  status: 'reached' | 'missing' | 'mismatch' | 'pruned'
  /** The hash the chain holds at that seq now, when it holds one. */
  found: string | null
}

export interface ChainReport {
  ok: boolean
  checked: number
  /** The first entry whose hash, link or sequence does not hold, and why. */
  firstBroken: { id: string; seq: string; reason: 'content' | 'link' | 'gap' } | null
  /** The newest entry (or the anchor, when retention pruned every entry); null for an empty chain. */
  head: ChainHead | null
  /** True when a kept head was given and the chain no longer reaches it with its hash. */
  truncated: boolean
  kept: KeptHeadReport | null
}

/** The newest entry of an org's chain, or its anchor when every entry was pruned; null when empty. */
export async function chainHead(db: Executor, orgId: string | null): Promise<ChainHead | null> {
  const last = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .where(chainKey, '=', orgId ?? NO_ORG)
    .orderBy(chainKey, 'desc')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
  if (last) return { seq: Number(last.seq), hash: last.hash! }
  const anchor = await db
    .selectFrom('audit_anchors')
    .select(['seq', 'hash'])
    .where('org_key', '=', orgId ?? NO_ORG)
    .executeTakeFirst()
  return anchor ? { seq: Number(anchor.seq), hash: anchor.hash } : null
}

/** Every existing org's head (an index step each), for checkpoints; orgs with no entries left out. */
export async function orgChainHeads(db: Executor): Promise<Array<ChainHead & { orgId: string }>> {
  const rows = await db
    .selectFrom('orgs')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('audit_log')
          .select(['seq', 'hash'])
          .where(chainKey, '=', sql<string>`orgs.id`)
          .orderBy(chainKey, 'desc')
          .orderBy('seq', 'desc')
          .limit(1)
          .as('head'),
      (join) => join.onTrue(),
    )
    .select(['orgs.id as org_id', 'head.seq', 'head.hash'])
    .orderBy('orgs.id')
    .execute()
  return rows.map((r) => ({ orgId: r.org_id, seq: Number(r.seq), hash: r.hash! }))
}

/**
 * Walks an org's chain from its anchor (or the genesis) and reports the first broken link. With `kept`, a
 * head the caller kept earlier, it also reports whether the chain still reaches that head with that hash:
 * the links alone cannot show that newest entries were deleted.
 */
export async function verifyChain(
  db: Executor,
  orgId: string | null,
  kept?: ChainHead,
): Promise<ChainReport> {
  const links = await verifyLinks(db, orgId)
  const head = await chainHead(db, orgId)
  const keptReport = kept ? await keptHead(db, orgId, kept) : null
  const truncated = keptReport !== null && keptReport.status !== 'reached' && keptReport.status !== 'pruned'
  return { ...links, ok: links.ok && !truncated, head, truncated, kept: keptReport }
}

async function keptHead(db: Executor, orgId: string | null, kept: ChainHead): Promise<KeptHeadReport> {
  const anchor = await db
    .selectFrom('audit_anchors')
    .select(['seq', 'hash'])
    .where('org_key', '=', orgId ?? NO_ORG)
    .executeTakeFirst()
  if (anchor && Number(anchor.seq) >= kept.seq) {
    if (Number(anchor.seq) > kept.seq) return { ...kept, status: 'pruned', found: null }
    return { ...kept, status: anchor.hash === kept.hash ? 'reached' : 'mismatch', found: anchor.hash }
  }
  const row = await db
    .selectFrom('audit_log')
    .select(['hash'])
    .where((eb) => (orgId ? eb('org_id', '=', orgId) : eb('org_id', 'is', null)))
    .where('seq', '=', String(kept.seq))
    .executeTakeFirst()
  if (!row) return { ...kept, status: 'missing', found: null }
  return { ...kept, status: row.hash === kept.hash ? 'reached' : 'mismatch', found: row.hash }
}

async function verifyLinks(
  db: Executor,
  orgId: string | null,
): Promise<Pick<ChainReport, 'ok' | 'checked' | 'firstBroken'>> {
  const key = orgId ?? NO_ORG
  const anchor = await db
    .selectFrom('audit_anchors')
    .selectAll()
    .where('org_key', '=', key)
    .executeTakeFirst()
  let prevHash = anchor?.hash ?? GENESIS
  let expectedSeq = Number(anchor?.seq ?? 0) + 1
  let checked = 0
  let after = 0
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where((eb) => (orgId ? eb('org_id', '=', orgId) : eb('org_id', 'is', null)))
      .where('seq', '>', String(after))
      .orderBy('seq')
      .limit(1000)
      .execute()
    for (const row of rows) {
      const broken = (reason: 'content' | 'link' | 'gap') => ({
        ok: false,
        checked,
        firstBroken: { id: row.id, seq: row.seq!, reason },
      })
      if (Number(row.seq) !== expectedSeq) return broken('gap')
      if (row.prev_hash !== prevHash) return broken('link')
      if (entryHash(prevHash, row as Hashed) !== row.hash) return broken('content')
      prevHash = row.hash!
      expectedSeq++
      checked++
      after = Number(row.seq)
    }
    if (rows.length < 1000) return { ok: true, checked, firstBroken: null }
  }
}

/**
 * Deletes entries older than `before`, keeping each chain verifiable: the last pruned entry's seq and
 * hash become the chain's anchor.
 */
export async function pruneAudit(tx: Tx, before: Date): Promise<number> {
  // GROUP BY org_id puts the account-level entries (org_id null) in a group of their own.
  const lasts = await tx
    .selectFrom('audit_log')
    .select((eb) => ['org_id', eb.fn.max('seq').as('seq')])
    .where('created_at', '<', before)
    .groupBy('org_id')
    .execute()
  for (const last of lasts) {
    const orgId = last.org_id
    const orgKey = orgId ?? NO_ORG
    await sql`select pg_advisory_xact_lock(hashtextextended(${`audit:${orgKey}`}, 0))`.execute(tx)
    const row = await tx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where((eb) => (orgId ? eb('org_id', '=', orgId) : eb('org_id', 'is', null)))
      .where('seq', '=', String(last.seq))
      .executeTakeFirstOrThrow()
    await tx
      .insertInto('audit_anchors')
      .values({ org_key: orgKey, seq: row.seq!, hash: row.hash! })
      .onConflict((oc) => oc.column('org_key').doUpdateSet({ seq: row.seq!, hash: row.hash! }))
      .execute()
  }
  const deleted = await tx.deleteFrom('audit_log').where('created_at', '<', before).executeTakeFirst()
  return Number(deleted.numDeletedRows)
}

export type AuditRow = Selectable<AuditLogTable>

/** Which of an org's entries to read. */
export interface AuditFilter {
  /** May the reader see billing entries (`billing.*`), and the others? At least one is true. */
  billing: boolean
  rest: boolean
  actorId?: string | undefined
  /** One action, or a family: `member.*`. */
  action?: string | undefined
  targetType?: string | undefined
  targetId?: string | undefined
  /** Created at or after `from`, and before `to`. */
  from?: Date | undefined
  to?: Date | undefined
  /** The previous page's last `seq`. */
  beforeSeq?: string | undefined
}

/** An org's entries, newest first, a page of `limit` at a time. */
export function listAuditEntries(
  db: Executor,
  orgId: string,
  filter: AuditFilter,
  limit: number,
): Promise<AuditRow[]> {
  let rows = db.selectFrom('audit_log').selectAll().where('org_id', '=', orgId)
  if (!filter.billing) rows = rows.where('action', 'not like', 'billing.%')
  if (!filter.rest) rows = rows.where('action', 'like', 'billing.%')
  if (filter.actorId) rows = rows.where('actor_id', '=', filter.actorId)
  if (filter.action)
    rows = filter.action.endsWith('.*')
      ? rows.where('action', 'like', `${filter.action.slice(0, -1)}%`)
      : rows.where('action', '=', filter.action)
  if (filter.targetType) rows = rows.where('target_type', '=', filter.targetType)
  if (filter.targetId) rows = rows.where('target_id', '=', filter.targetId)
  if (filter.from) rows = rows.where('created_at', '>=', filter.from)
  if (filter.to) rows = rows.where('created_at', '<', filter.to)
  if (filter.beforeSeq) rows = rows.where('seq', '<', filter.beforeSeq)
  return rows.orderBy('seq', 'desc').limit(limit).execute()
}
