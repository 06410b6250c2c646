import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely'
import type { Database, Executor, Tx } from './database.ts'

/**
 * SCIM directory sync (issue 21.3, migration 0014): an org's directory tokens, its directory's users (each
 * mapped to a global Orgkit user) and the marks on the groups the directory manages. Nothing here is what
 * the engine mirrors: memberships, group members and bindings are written through their own repositories,
 * and a SCIM user's `active` is read from the membership, never stored.
 */

// ---------------------------------------------------------------------------------------------- tokens

const TOKEN_COLUMNS = [
  'id',
  'org_id',
  'name',
  'prefix',
  'created_by',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const

export type ScimTokenRow = Awaited<ReturnType<typeof listTokens>>[number]

export function insertToken(
  tx: Tx,
  token: {
    id: string
    orgId: string
    name: string
    prefix: string
    secretHash: string
    createdBy: string | null
    now: Date
  },
) {
  return tx
    .insertInto('scim_tokens')
    .values({
      id: token.id,
      org_id: token.orgId,
      name: token.name,
      prefix: token.prefix,
      secret_hash: token.secretHash,
      created_by: token.createdBy,
      created_at: token.now,
    })
    .returning(TOKEN_COLUMNS)
    .executeTakeFirstOrThrow()
}

/** An org's tokens, revoked ones too, newest first (never a secret or its hash). */
export function listTokens(db: Executor, orgId: string) {
  return db
    .selectFrom('scim_tokens')
    .select(TOKEN_COLUMNS)
    .where('org_id', '=', orgId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute()
}

/** The live token with this secret's hash, or undefined. */
export function findLiveTokenByHash(db: Executor, secretHash: string) {
  return db
    .selectFrom('scim_tokens')
    .select(['id', 'org_id', 'name', 'last_used_at'])
    .where('secret_hash', '=', secretHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
}

/** Revokes the org's live token with this id: answers it, or undefined (none, another org's, or revoked). */
export function revokeToken(tx: Tx, orgId: string, id: string, now: Date) {
  return tx
    .updateTable('scim_tokens')
    .set({ revoked_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(TOKEN_COLUMNS)
    .executeTakeFirst()
}

/** Records a use, at most once a minute per token (a directory's import must not write once per request). */
export async function touchToken(db: Executor, id: string, now: Date): Promise<void> {
  await db
    .updateTable('scim_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]),
    )
    .execute()
}

// ------------------------------------------------------------------------------------------- filters

/**
 * A directory's filter, as the service understood it (RFC 7644 3.4.2.2, the part directories send): `eq`
 * on one attribute, combined with and / or. Values compare as SCIM says: `userName`, `emails.value` and
 * `displayName` case-insensitively, `id` and `externalId` exactly.
 */
export type ScimFilter =
  | { and: readonly ScimFilter[] }
  | { or: readonly ScimFilter[] }
  | { attr: 'id' | 'userName' | 'externalId' | 'email' | 'displayName'; value: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const never = sql<SqlBool>`false`

function userCondition(eb: ExpressionBuilder<Database, 'scim_users'>, f: ScimFilter): Expression<SqlBool> {
  if ('and' in f) return eb.and(f.and.map((g) => userCondition(eb, g)))
  if ('or' in f) return eb.or(f.or.map((g) => userCondition(eb, g)))
  switch (f.attr) {
    case 'id':
      return UUID.test(f.value) ? eb('scim_users.id', '=', f.value) : never
    case 'userName':
      return eb(eb.fn('lower', ['scim_users.user_name']), '=', f.value.toLowerCase())
    case 'externalId':
      return eb('scim_users.external_id', '=', f.value)
    case 'email':
      return sql<SqlBool>`exists (select 1 from jsonb_array_elements(case when jsonb_typeof(scim_users.attributes -> 'emails') = 'array' then scim_users.attributes -> 'emails' else '[]'::jsonb end) e where lower(e ->> 'value') = ${f.value.toLowerCase()})`
    default:
      return never
  }
}

function groupCondition(
  eb: ExpressionBuilder<Database, 'scim_groups' | 'groups'>,
  f: ScimFilter,
): Expression<SqlBool> {
  if ('and' in f) return eb.and(f.and.map((g) => groupCondition(eb, g)))
  if ('or' in f) return eb.or(f.or.map((g) => groupCondition(eb, g)))
  switch (f.attr) {
    case 'id':
      return UUID.test(f.value) ? eb('scim_groups.group_id', '=', f.value) : never
    case 'displayName':
      return eb(eb.fn('lower', ['groups.name']), '=', f.value.toLowerCase())
    case 'externalId':
      return eb('scim_groups.external_id', '=', f.value)
    default:
      return never
  }
}

export interface Page {
  /** Rows to skip (SCIM's startIndex - 1). */
  offset: number
  limit: number
}

// --------------------------------------------------------------------------------------------- users

/** A directory user with `active` read from the org's membership (the one place it is kept). */
const userSelect = (db: Executor) =>
  db
    .selectFrom('scim_users')
    .selectAll('scim_users')
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('memberships')
            .select('memberships.user_id')
            .whereRef('memberships.org_id', '=', 'scim_users.org_id')
            .whereRef('memberships.user_id', '=', 'scim_users.user_id')
            .where('memberships.status', '=', 'active'),
        )
        .$castTo<boolean>()
        .as('active'),
    )

export type ScimUserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>

export function findUser(db: Executor, orgId: string, id: string) {
  if (!UUID.test(id)) return Promise.resolve(undefined)
  return userSelect(db)
    .where('scim_users.org_id', '=', orgId)
    .where('scim_users.id', '=', id)
    .executeTakeFirst()
}

/** The org's directory user for this Orgkit user, if the directory has one. */
export function findUserByUserId(db: Executor, orgId: string, userId: string) {
  return userSelect(db)
    .where('scim_users.org_id', '=', orgId)
    .where('scim_users.user_id', '=', userId)
    .executeTakeFirst()
}

/** The org's directory user with this userName (case-insensitively), if any. */
export function findUserByUserName(db: Executor, orgId: string, userName: string) {
  return userSelect(db)
    .where('scim_users.org_id', '=', orgId)
    .where((eb) => eb(eb.fn('lower', ['scim_users.user_name']), '=', userName.toLowerCase()))
    .executeTakeFirst()
}

/** One page of the org's directory users matching the filter (all without one), oldest first, and how many match. */
export async function listUsers(
  db: Executor,
  orgId: string,
  filter: ScimFilter | null,
  page: Page,
): Promise<{ rows: ScimUserRow[]; total: number }> {
  const where = (eb: ExpressionBuilder<Database, 'scim_users'>) =>
    eb.and([eb('scim_users.org_id', '=', orgId), ...(filter ? [userCondition(eb, filter)] : [])])
  const [rows, count] = await Promise.all([
    page.limit === 0
      ? Promise.resolve([])
      : userSelect(db)
          .where(where)
          .orderBy('scim_users.created_at')
          .orderBy('scim_users.id')
          .offset(page.offset)
          .limit(page.limit)
          .execute(),
    db
      .selectFrom('scim_users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where(where)
      .executeTakeFirstOrThrow(),
  ])
  return { rows, total: Number(count.n) }
}

export interface ScimUserInput {
  userName: string
  externalId: string | null
  /** What the directory sent beyond the fields above (name, displayName, emails, title…), as sent. */
  attributes: Record<string, unknown>
}

export async function insertUser(
  tx: Tx,
  user: ScimUserInput & { id: string; orgId: string; userId: string; now: Date },
): Promise<ScimUserRow> {
  await tx
    .insertInto('scim_users')
    .values({
      id: user.id,
      org_id: user.orgId,
      user_id: user.userId,
      user_name: user.userName,
      external_id: user.externalId,
      attributes: JSON.stringify(user.attributes),
      created_at: user.now,
      updated_at: user.now,
    })
    .execute()
  return (await findUser(tx, user.orgId, user.id))!
}

/** Replaces what the directory says of a user; each change moves its version (the ETag). */
export async function updateUser(tx: Tx, orgId: string, id: string, user: ScimUserInput, now: Date) {
  await tx
    .updateTable('scim_users')
    .set((eb) => ({
      user_name: user.userName,
      external_id: user.externalId,
      attributes: JSON.stringify(user.attributes),
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute()
  return (await findUser(tx, orgId, id))!
}

/** Moves a user's version (their access changed: `active`, or a group's membership). */
export async function touchUser(tx: Tx, orgId: string, id: string, now: Date): Promise<void> {
  await tx
    .updateTable('scim_users')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute()
}

/** The directory groups a deactivated user is to rejoin when active again (empty while active). */
export async function setSuspendedGroups(tx: Tx, orgId: string, id: string, groupIds: readonly string[]) {
  await tx
    .updateTable('scim_users')
    .set({ suspended_groups: sql<string[]>`${[...groupIds]}::uuid[]` })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute()
}

export async function deleteUser(tx: Tx, orgId: string, id: string): Promise<boolean> {
  const result = await tx
    .deleteFrom('scim_users')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

// -------------------------------------------------------------------------------------------- groups

const groupSelect = (db: Executor) =>
  db
    .selectFrom('scim_groups')
    .innerJoin('groups', 'groups.id', 'scim_groups.group_id')
    .select([
      'scim_groups.group_id as id',
      'scim_groups.org_id',
      'groups.name',
      'scim_groups.external_id',
      'scim_groups.version',
      'scim_groups.created_at',
      'scim_groups.updated_at',
    ])

export type ScimGroupRow = NonNullable<Awaited<ReturnType<typeof findGroup>>>

export function findGroup(db: Executor, orgId: string, id: string) {
  if (!UUID.test(id)) return Promise.resolve(undefined)
  return groupSelect(db)
    .where('scim_groups.org_id', '=', orgId)
    .where('scim_groups.group_id', '=', id)
    .executeTakeFirst()
}

export async function listGroups(
  db: Executor,
  orgId: string,
  filter: ScimFilter | null,
  page: Page,
): Promise<{ rows: ScimGroupRow[]; total: number }> {
  const where = (eb: ExpressionBuilder<Database, 'scim_groups' | 'groups'>) =>
    eb.and([eb('scim_groups.org_id', '=', orgId), ...(filter ? [groupCondition(eb, filter)] : [])])
  const [rows, count] = await Promise.all([
    page.limit === 0
      ? Promise.resolve([])
      : groupSelect(db)
          .where(where)
          .orderBy('scim_groups.created_at')
          .orderBy('scim_groups.group_id')
          .offset(page.offset)
          .limit(page.limit)
          .execute(),
    db
      .selectFrom('scim_groups')
      .innerJoin('groups', 'groups.id', 'scim_groups.group_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where(where)
      .executeTakeFirstOrThrow(),
  ])
  return { rows, total: Number(count.n) }
}

/** Marks a new group as the directory's. */
export async function insertGroup(
  tx: Tx,
  group: { groupId: string; orgId: string; externalId: string | null; now: Date },
): Promise<ScimGroupRow> {
  await tx
    .insertInto('scim_groups')
    .values({
      group_id: group.groupId,
      org_id: group.orgId,
      external_id: group.externalId,
      created_at: group.now,
      updated_at: group.now,
    })
    .execute()
  return (await findGroup(tx, group.orgId, group.groupId))!
}

/** A change to a directory group (its name, externalId or members) moves its version. */
export async function touchGroup(
  tx: Tx,
  orgId: string,
  groupId: string,
  now: Date,
  externalId?: string | null,
): Promise<void> {
  await tx
    .updateTable('scim_groups')
    .set((eb) => ({
      version: eb('version', '+', 1),
      updated_at: now,
      ...(externalId !== undefined && { external_id: externalId }),
    }))
    .where('org_id', '=', orgId)
    .where('group_id', '=', groupId)
    .execute()
}

/** Of these groups, those the directory manages. */
export async function directoryGroupIds(db: Executor, groupIds: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set()
  const rows = await db
    .selectFrom('scim_groups')
    .select('group_id')
    .where('group_id', 'in', groupIds)
    .execute()
  return new Set(rows.map((r) => r.group_id))
}

/**
 * The directory users in each of these groups: those in it now (group_members), and deactivated ones who
 * will rejoin it (suspended_groups). `value` is the SCIM user id.
 */
export async function groupMembers(
  db: Executor,
  orgId: string,
  groupIds: readonly string[],
): Promise<Map<string, { value: string; display: string }[]>> {
  const byGroup = new Map<string, { value: string; display: string }[]>(groupIds.map((id) => [id, []]))
  if (groupIds.length === 0) return byGroup
  const [current, waiting] = await Promise.all([
    db
      .selectFrom('group_members')
      .innerJoin('scim_users', (join) =>
        join.onRef('scim_users.user_id', '=', 'group_members.user_id').on('scim_users.org_id', '=', orgId),
      )
      .select(['group_members.group_id', 'scim_users.id', 'scim_users.user_name'])
      .where('group_members.group_id', 'in', groupIds)
      .orderBy('scim_users.created_at')
      .execute(),
    db
      .selectFrom('scim_users')
      .select(['scim_users.id', 'scim_users.user_name', 'scim_users.suspended_groups'])
      .where('scim_users.org_id', '=', orgId)
      .where(sql<SqlBool>`scim_users.suspended_groups && ${[...groupIds]}::uuid[]`)
      .execute(),
  ])
  for (const m of current) byGroup.get(m.group_id)?.push({ value: m.id, display: m.user_name })
  for (const u of waiting)
    for (const g of u.suspended_groups) byGroup.get(g)?.push({ value: u.id, display: u.user_name })
  return byGroup
}

/** The directory groups of this org a user is in now. */
export async function directoryGroupsOf(db: Executor, orgId: string, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('group_members')
    .innerJoin('scim_groups', 'scim_groups.group_id', 'group_members.group_id')
    .select('group_members.group_id')
    .where('scim_groups.org_id', '=', orgId)
    .where('group_members.user_id', '=', userId)
    .execute()
  return rows.map((r) => r.group_id)
}

/** The org's directory users with these SCIM ids: their Orgkit user and whether they are active. */
export function usersByIds(db: Executor, orgId: string, ids: readonly string[]) {
  const valid = ids.filter((id) => UUID.test(id))
  if (valid.length === 0) return Promise.resolve([])
  return userSelect(db).where('scim_users.org_id', '=', orgId).where('scim_users.id', 'in', valid).execute()
}

/** Takes a deleted group out of every deactivated user's list of groups to rejoin. */
export async function forgetSuspendedGroup(tx: Tx, orgId: string, groupId: string): Promise<void> {
  await tx
    .updateTable('scim_users')
    .set({ suspended_groups: sql<string[]>`array_remove(suspended_groups, ${groupId}::uuid)` })
    .where('org_id', '=', orgId)
    .where(sql<SqlBool>`${groupId}::uuid = any(suspended_groups)`)
    .execute()
}
