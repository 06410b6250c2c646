import {
  type BindingRecord,
  emptySnapshot,
  type OverrideRecord,
  type Snapshot,
  type SnapshotPart,
} from '@orgkit/core'
import { type SelectQueryBuilder, sql } from 'kysely'
import { currentRevision } from './changes.repository.ts'
import type { Database, Executor } from './database.ts'
import { isBesidePool } from './snapshot-source.ts'

const principal = (userId: string | null, groupId: string | null) =>
  userId !== null ? ({ type: 'user', id: userId } as const) : ({ type: 'group', id: groupId! } as const)

/** Engine records from rows; the change feed uses the same mappers, so both paths agree. */
export const toBindingRecord = (row: {
  id: string
  org_id: string
  user_id: string | null
  group_id: string | null
  role: string
  scope_type: string
  resource_id: string | null
  expires_at: Date | null
}): BindingRecord => ({
  id: row.id,
  principal: principal(row.user_id, row.group_id),
  role: row.role,
  scope: { type: row.scope_type, id: row.resource_id ?? row.org_id },
  expiresAt: row.expires_at?.getTime() ?? null,
})

export const toOverrideRecord = (row: {
  resource_id: string
  user_id: string | null
  group_id: string | null
  permission: string
  effect: 'allow' | 'deny'
}): OverrideRecord => ({
  principal: principal(row.user_id, row.group_id),
  resourceId: row.resource_id,
  permission: row.permission,
  effect: row.effect,
})

/** Rows per FETCH: at most this many rows and records are held at once, not the whole snapshot. */
const PART_ROWS = 5000

/**
 * Everything the engine needs, read in one repeatable-read transaction, in parts (kind by kind in
 * `SNAPSHOT_KINDS` order, through a cursor per table): `add` takes each part as it arrives, and the next
 * is read once it returns (or its promise settles). Returns the revision the snapshot reflects: an
 * instance loads this, then applies the change feed after it. `ready`, when given, is asked once the read
 * has its connection (after any wait for a pool's) and before it reads anything: false ends it there, and
 * it resolves to null (a reload beside a write that another reload made needless meanwhile).
 */
export function streamSnapshot(
  db: Executor,
  add: (part: SnapshotPart) => void | Promise<void>,
): Promise<number>
export function streamSnapshot(
  db: Executor,
  add: (part: SnapshotPart) => void | Promise<void>,
  ready: () => boolean,
): Promise<number | null>
export async function streamSnapshot(
  db: Executor,
  add: (part: SnapshotPart) => void | Promise<void>,
  ready?: () => boolean,
): Promise<number | null> {
  // Inside a caller's transaction, read through it; otherwise open a repeatable-read one of our own.
  if (db.isTransaction) return ready && !ready() ? null : readSnapshot(db, add)
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      if (ready && !ready()) return null
      // A reload beside a write waits on no lock the write holds, only on a DDL statement queued behind it (a
      // migration run meanwhile): end that wait (the write fails) rather than leave the write and the
      // migration waiting for each other, unseen. Set here, not as a connection option: a pooler such as
      // PgBouncer refuses startup options it does not track.
      if (isBesidePool(db)) await sql`set local lock_timeout = '5s'`.execute(tx)
      return readSnapshot(tx, add)
    })
}

/** The whole snapshot at once (tests; an engine loads through `streamSnapshot`). */
export async function loadSnapshot(db: Executor): Promise<{ revision: number; snapshot: Snapshot }> {
  const snapshot = emptySnapshot()
  const revision = await streamSnapshot(db, ({ kind, records }) => {
    ;(snapshot[kind] as unknown[]).push(...records)
  })
  return { revision, snapshot }
}

async function readSnapshot(
  tx: Executor,
  add: (part: SnapshotPart) => void | Promise<void>,
): Promise<number> {
  const revision = await currentRevision(tx)
  // Roots first: a sub-org or a child resource that arrives before its parent waits for it (Graph.loader).
  await inParts(tx, tx.selectFrom('orgs').selectAll().orderBy(sql`parent_id is not null`), (rows) =>
    add({ kind: 'orgs', records: rows.map(toOrgRecord) }),
  )
  await inParts(
    tx,
    tx
      .selectFrom('resources')
      .select(['id', 'org_id', 'type', 'parent_id'])
      .orderBy(sql`parent_id is not null`),
    (rows) =>
      add({
        kind: 'resources',
        records: rows.map((r) => ({ id: r.id, orgId: r.org_id, type: r.type, parentId: r.parent_id })),
      }),
  )
  await inParts(
    tx,
    tx.selectFrom('users').select(['id', 'mfa_enabled', 'compliant_password_policies']),
    (rows) =>
      add({
        kind: 'users',
        records: rows.map((u) => ({
          id: u.id,
          mfaEnabled: u.mfa_enabled,
          compliantPasswordPolicies: u.compliant_password_policies,
        })),
      }),
  )
  await inParts(tx, tx.selectFrom('memberships').select(['org_id', 'user_id', 'status']), (rows) =>
    add({
      kind: 'memberships',
      records: rows.map((m) => ({ orgId: m.org_id, userId: m.user_id, status: m.status })),
    }),
  )
  await inParts(tx, tx.selectFrom('custom_roles').selectAll(), (rows) =>
    add({ kind: 'roles', records: rows.map(toCustomRoleRecord) }),
  )
  await inParts(tx, tx.selectFrom('groups').select(['id', 'org_id', 'role']), (rows) =>
    add({ kind: 'groups', records: rows.map((g) => ({ id: g.id, orgId: g.org_id, role: g.role })) }),
  )
  await inParts(tx, tx.selectFrom('group_members').select(['group_id', 'user_id', 'member_role']), (rows) =>
    add({
      kind: 'groupMembers',
      records: rows.map((m) => ({ groupId: m.group_id, userId: m.user_id, memberRole: m.member_role })),
    }),
  )
  await inParts(tx, tx.selectFrom('bindings').selectAll(), (rows) =>
    add({ kind: 'bindings', records: rows.map(toBindingRecord) }),
  )
  await inParts(tx, tx.selectFrom('overrides').selectAll(), (rows) =>
    add({ kind: 'overrides', records: rows.map(toOverrideRecord) }),
  )
  await inParts(
    tx,
    tx
      .selectFrom('api_keys')
      .select(['id', 'user_id', 'expires_at', 'revoked_at', 'org_ids', 'resource_ids', 'permissions']),
    (rows) => add({ kind: 'apiKeys', records: rows.map(toApiKeyRecord) }),
  )
  return revision
}

/** A query's rows through a cursor, PART_ROWS at a time (the transaction keeps one view throughout). */
async function inParts<Row>(
  tx: Executor,
  query: SelectQueryBuilder<Database, keyof Database, Row>,
  take: (rows: Row[]) => void | Promise<void>,
): Promise<void> {
  await sql`declare orgkit_snapshot no scroll cursor for ${query}`.execute(tx)
  for (;;) {
    const { rows } = await sql<Row>`fetch forward ${sql.lit(PART_ROWS)} from orgkit_snapshot`.execute(tx)
    if (rows.length > 0) await take(rows)
    if (rows.length < PART_ROWS) break
  }
  await sql`close orgkit_snapshot`.execute(tx)
}

export const toOrgRecord = (o: {
  id: string
  parent_id: string | null
  creator_id: string | null
  single_role_teams: boolean
  require_mfa: boolean
  password_policy_id: string | null
}) => ({
  id: o.id,
  parentId: o.parent_id,
  creatorId: o.creator_id,
  singleRoleTeams: o.single_role_teams,
  requireMfa: o.require_mfa,
  passwordPolicyId: o.password_policy_id,
})

export const toCustomRoleRecord = (r: {
  org_id: string
  key: string
  scope: string
  slot: string
  label: string
  permissions: string[]
  priority: number
}) => ({
  orgId: r.org_id,
  key: r.key,
  scope: r.scope,
  slot: r.slot,
  label: r.label,
  permissions: r.permissions,
  priority: r.priority,
})

export const toApiKeyRecord = (k: {
  id: string
  user_id: string
  expires_at: Date | null
  revoked_at: Date | null
  org_ids: string[] | null
  resource_ids: string[] | null
  permissions: string[] | null
}) => ({
  id: k.id,
  ownerId: k.user_id,
  expiresAt: k.expires_at?.getTime() ?? null,
  revoked: k.revoked_at !== null,
  orgIds: k.org_ids,
  resourceIds: k.resource_ids,
  permissions: k.permissions,
})
