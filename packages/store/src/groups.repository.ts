import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'

export type GroupRow = NonNullable<Awaited<ReturnType<typeof findGroup>>>

const groupPut = (row: { id: string; org_id: string; role: string | null }) =>
  ({ op: 'group.put', group: { id: row.id, orgId: row.org_id, role: row.role } }) as const

export function findGroup(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('groups')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
}

export function listGroups(db: Executor, orgId: string) {
  return db.selectFrom('groups').selectAll().where('org_id', '=', orgId).orderBy('name').execute()
}

/** The org's groups with these names (a model's groups: DEFAULT, ADMIN, Owners). */
export function findGroupsByName(db: Executor, orgId: string, names: readonly string[]) {
  if (names.length === 0) return Promise.resolve([])
  return db.selectFrom('groups').selectAll().where('org_id', '=', orgId).where('name', 'in', names).execute()
}

export async function insertGroup(
  tx: Tx,
  g: { id: string; orgId: string; name: string; description: string; role: string | null },
): Promise<Changed<GroupRow>> {
  const row = await tx
    .insertInto('groups')
    .values({ id: g.id, org_id: g.orgId, name: g.name, description: g.description, role: g.role })
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [groupPut(row)])
}

export async function updateGroup(
  tx: Tx,
  id: string,
  patch: Partial<{ name: string; description: string; role: string | null }>,
): Promise<Changed<GroupRow>> {
  const row = await tx
    .updateTable('groups')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, patch.role !== undefined ? [groupPut(row)] : [])
}

export async function deleteGroup(tx: Tx, id: string): Promise<Changed<void>> {
  await tx.deleteFrom('groups').where('id', '=', id).execute()
  return changes({ op: 'group.delete', id })
}

export function listGroupMembers(db: Executor, groupId: string) {
  return db
    .selectFrom('group_members')
    .innerJoin('users', 'users.id', 'group_members.user_id')
    .select([
      'group_members.user_id',
      'group_members.member_role',
      'group_members.created_at',
      'users.email',
      'users.name',
    ])
    .where('group_members.group_id', '=', groupId)
    .orderBy('users.email')
    .execute()
}

/** The membership rows of these groups (no user fields). */
export function membersOfGroups(db: Executor, groupIds: readonly string[]) {
  if (groupIds.length === 0) return Promise.resolve([])
  return db.selectFrom('group_members').selectAll().where('group_id', 'in', groupIds).execute()
}

export function findGroupMember(db: Executor, groupId: string, userId: string) {
  return db
    .selectFrom('group_members')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst()
}

export async function upsertGroupMember(
  tx: Tx,
  groupId: string,
  userId: string,
  memberRole: string | null,
): Promise<Changed<void>> {
  await tx
    .insertInto('group_members')
    .values({ group_id: groupId, user_id: userId, member_role: memberRole })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doUpdateSet({ member_role: memberRole }))
    .execute()
  return changes({ op: 'groupMember.put', member: { groupId, userId, memberRole } })
}

/** Removes the member; the value says whether they were one. */
export async function deleteGroupMember(tx: Tx, groupId: string, userId: string): Promise<Changed<boolean>> {
  const result = await tx
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst()
  const deleted = Number(result.numDeletedRows) > 0
  return changed(deleted, deleted ? [{ op: 'groupMember.delete', groupId, userId }] : [])
}

/** A user's group memberships in groups of these orgs. */
export function userGroupMemberships(db: Executor, userId: string, orgIds: readonly string[]) {
  if (orgIds.length === 0) return Promise.resolve([])
  return db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['group_members.group_id', 'group_members.user_id', 'groups.org_id'])
    .where('group_members.user_id', '=', userId)
    .where('groups.org_id', 'in', orgIds)
    .execute()
}

/**
 * Of the named groups in these orgs (a model's guarded groups: seed 003's Owners), those the user belongs
 * to as their only member. `groupId` narrows it to one group.
 */
export async function groupsWhereOnlyMember(
  db: Executor,
  filter: {
    orgIds: readonly string[]
    names: readonly string[]
    userId: string
    groupId?: string | undefined
  },
): Promise<{ id: string; name: string }[]> {
  if (filter.orgIds.length === 0 || filter.names.length === 0) return []
  let query = db
    .selectFrom('groups')
    .innerJoin('group_members', 'group_members.group_id', 'groups.id')
    .select(['groups.id', 'groups.name', (eb) => eb.fn.countAll<string>().as('members')])
    .where('groups.org_id', 'in', filter.orgIds)
    .where('groups.name', 'in', filter.names)
    .where('groups.id', 'in', (eb) =>
      eb.selectFrom('group_members').select('group_id').where('user_id', '=', filter.userId),
    )
    .groupBy(['groups.id', 'groups.name'])
  if (filter.groupId) query = query.where('groups.id', '=', filter.groupId)
  const rows = await query.execute()
  return rows.filter((g) => Number(g.members) <= 1).map(({ id, name }) => ({ id, name }))
}
