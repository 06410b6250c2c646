import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { bindingColumns, type NewBinding } from './bindings.repository.ts'
import { type Changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { toBindingRecord } from './snapshot.ts'

export type MembershipStatus = 'active' | 'pending'

export function findMembership(db: Executor, orgId: string, userId: string) {
  return db
    .selectFrom('memberships')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst()
}

/**
 * Makes the user a member (`status`), holding `held`, bindings of their own at the org (a join's org roles):
 * one statement, the bindings' insert riding on the membership's (a round trip less on PostgreSQL). Within
 * the statement the bindings' insert can't see the membership's row (a trigger on bindings reading
 * memberships would miss it; none does): what checks them both runs at its end, as foreign keys do.
 */
export async function upsertMembership(
  tx: Tx,
  orgId: string,
  userId: string,
  status: MembershipStatus,
  held: readonly NewBinding[] = [],
): Promise<Changed<void>> {
  const membership = tx
    .insertInto('memberships')
    .values({ org_id: orgId, user_id: userId, status })
    .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ status }))
  const put = { op: 'membership.put', membership: { orgId, userId, status } } as const
  if (held.length === 0) {
    await membership.execute()
    return changes(put)
  }
  const rows = await tx
    .with('membership', () => membership.returning('user_id'))
    .insertInto('bindings')
    .values(held.map(bindingColumns))
    .returningAll()
    .execute()
  return changes(put, ...rows.map((row) => ({ op: 'binding.put' as const, binding: toBindingRecord(row) })))
}

export async function deleteMembership(tx: Tx, orgId: string, userId: string): Promise<Changed<void>> {
  await tx.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute()
  return changes({ op: 'membership.delete', orgId, userId })
}

/** Members of the orgs with their user fields. */
export function listMemberships(db: Executor, orgIds: readonly string[]) {
  if (orgIds.length === 0) return Promise.resolve([])
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select([
      'memberships.org_id',
      'memberships.user_id',
      'memberships.status',
      'memberships.created_at',
      'users.email',
      'users.name',
    ])
    .where('memberships.org_id', 'in', orgIds)
    .execute()
}

/**
 * Active members holding an owner role at org scope: bound to them, or to a group of the org they are in
 * (seed 003's Owners team, seed 002's ADMIN). One fact, read one way by every owner question below, so a
 * last-owner check can't count only direct bindings while ownership also flows through a group.
 */
const ownerBindings = (tx: Executor, ownerRoles: readonly string[]) =>
  tx
    .selectFrom('bindings')
    .innerJoin('memberships', (join) =>
      join
        .onRef('memberships.user_id', '=', 'bindings.user_id')
        .onRef('memberships.org_id', '=', 'bindings.org_id'),
    )
    .select(['bindings.user_id', 'bindings.org_id'])
    .where('bindings.scope_type', '=', 'org')
    .where('bindings.role', 'in', ownerRoles)
    .where('memberships.status', '=', 'active')
    .unionAll(
      tx
        .selectFrom('bindings')
        .innerJoin('group_members', 'group_members.group_id', 'bindings.group_id')
        .innerJoin('memberships', (join) =>
          join
            .onRef('memberships.user_id', '=', 'group_members.user_id')
            .onRef('memberships.org_id', '=', 'bindings.org_id'),
        )
        .select(['group_members.user_id', 'bindings.org_id'])
        .where('bindings.scope_type', '=', 'org')
        .where('bindings.role', 'in', ownerRoles)
        .where('memberships.status', '=', 'active'),
    )

const ownerRows = (tx: Executor, ownerRoles: readonly string[]) =>
  tx.selectFrom(ownerBindings(tx, ownerRoles).as('owners')).select('owners.user_id').distinct()

/**
 * Of these users, those who own no org any more (an owner role at org scope, active membership). Locks the
 * users' rows first, in id order, so two writes taking two of one user's orgs away queue on the user and
 * the second sees the first (seed 004: every user owns at least one org).
 */
export async function usersOwningNoOrg(
  tx: Tx,
  userIds: readonly string[],
  ownerRoles: readonly string[],
): Promise<string[]> {
  if (userIds.length === 0) return []
  const ids = [...new Set(userIds)].sort()
  await tx.selectFrom('users').select('id').where('id', 'in', ids).orderBy('id').forNoKeyUpdate().execute()
  const owning = await ownerRows(tx, ownerRoles).where('owners.user_id', 'in', ids).execute()
  const owners = new Set(owning.map((r) => r.user_id))
  return ids.filter((id) => !owners.has(id))
}

/**
 * Of these users, those who are an active member of no org any more (seed 001: every account belongs to at
 * least one organization). Locks the users' rows first, in id order, as `usersOwningNoOrg` does: two writes
 * each taking one of a user's last two orgs queue on the user, and the second sees the first.
 */
export async function usersInNoOrg(tx: Tx, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return []
  const ids = [...new Set(userIds)].sort()
  const users = await tx
    .selectFrom('users')
    .select('id')
    .where('id', 'in', ids)
    .orderBy('id')
    .forNoKeyUpdate()
    .execute()
  const rows = await tx
    .selectFrom('memberships')
    .select('user_id')
    .distinct()
    .where('user_id', 'in', ids)
    .where('status', '=', 'active')
    .execute()
  const inOne = new Set(rows.map((r) => r.user_id))
  return users.map((u) => u.id).filter((id) => !inOne.has(id))
}

/**
 * Active members holding one of `ownerRoles` at the org, directly or through a group. Read inside the transaction that holds
 * the org lock, so two concurrent demotions can't both see two owners.
 */
export async function activeOwnerIds(
  tx: Executor,
  orgId: string,
  ownerRoles: readonly string[],
): Promise<Set<string>> {
  return (await activeOwnersByOrg(tx, [orgId], ownerRoles)).get(orgId) ?? new Set()
}

/** Each org's active owners, as `activeOwnerIds` reads them, for several orgs in one read (none: absent). */
export async function activeOwnersByOrg(
  tx: Executor,
  orgIds: readonly string[],
  ownerRoles: readonly string[],
): Promise<Map<string, Set<string>>> {
  const byOrg = new Map<string, Set<string>>()
  if (orgIds.length === 0) return byOrg
  const rows = await tx
    .selectFrom(ownerBindings(tx, ownerRoles).as('owners'))
    .select(['owners.org_id', 'owners.user_id'])
    .distinct()
    .where('owners.org_id', 'in', orgIds)
    .execute()
  for (const { org_id, user_id } of rows) {
    const owners = byOrg.get(org_id) ?? new Set<string>()
    owners.add(user_id!)
    byOrg.set(org_id, owners)
  }
  return byOrg
}

/** The org's membership of the account with this email (compared case-insensitively), if any. */
export function findMembershipByEmail(db: Executor, orgId: string, email: string) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['memberships.user_id', 'memberships.status'])
    .where('memberships.org_id', '=', orgId)
    .where((eb) => eb(eb.fn('lower', ['users.email']), '=', email.toLowerCase()))
    .executeTakeFirst()
}

/**
 * Org-scope roles that members hold through the orgs' groups (a group's organization role, seed 002's ADMIN,
 * seed 003's Owners team), one row per member, group and role; with `userId`, that member's only.
 * `exceptRole` leaves out bindings that resolve per member (the teams preset's `team` role), which only the
 * engine resolves.
 */
export function orgRolesThroughGroups(
  db: Executor,
  orgIds: readonly string[],
  exceptRole: string,
  userId?: string,
) {
  if (orgIds.length === 0) return Promise.resolve([])
  return throughGroups(db, orgIds, exceptRole, userId).execute()
}

/**
 * What a member's role change reads under the org's lock, in one statement (a round trip, where two were):
 * the org roles the member holds through the org's groups (`orgRolesThroughGroups`) and the org's active
 * owners (`activeOwnerIds`).
 */
export async function roleChangeReads(
  tx: Executor,
  orgId: string,
  userId: string,
  exceptRole: string,
  ownerRoles: readonly string[],
): Promise<{ viaGroups: string[]; owners: Set<string> }> {
  const row = await tx
    .selectNoFrom([
      jsonArrayFrom(throughGroups(tx, [orgId], exceptRole, userId)).as('via_groups'),
      jsonArrayFrom(ownerRows(tx, ownerRoles).where('owners.org_id', '=', orgId)).as('owners'),
    ])
    .executeTakeFirstOrThrow()
  return {
    // In code units, as the engine's roles are sorted: a database's collation may order `_` otherwise.
    viaGroups: row.via_groups.map((r) => r.role).sort(),
    owners: new Set(row.owners.map((r) => r.user_id!)),
  }
}

const throughGroups = (db: Executor, orgIds: readonly string[], exceptRole: string, userId?: string) => {
  let query = db
    .selectFrom('bindings')
    .innerJoin('group_members', 'group_members.group_id', 'bindings.group_id')
    .select(['group_members.user_id', 'bindings.org_id', 'bindings.group_id', 'bindings.role'])
    .where('bindings.org_id', 'in', orgIds)
    .where('bindings.scope_type', '=', 'org')
    .where('bindings.role', '!=', exceptRole)
  if (userId !== undefined) query = query.where('group_members.user_id', '=', userId)
  return query.orderBy('bindings.org_id').orderBy('group_members.user_id').orderBy('bindings.role')
}
