import type { Executor, Tx } from './database.ts'

export type GroupRow = NonNullable<Awaited<ReturnType<typeof findGroup>>>

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

export async function insertGroup(
  tx: Tx,
  g: { id: string; orgId: string; name: string; description: string; role: string | null },
) {
  return tx
    .insertInto('groups')
    .values({ id: g.id, org_id: g.orgId, name: g.name, description: g.description, role: g.role })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function updateGroup(
  tx: Tx,
  id: string,
  patch: Partial<{ name: string; description: string; role: string | null }>,
) {
  return tx.updateTable('groups').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

export async function deleteGroup(tx: Tx, id: string) {
  await tx.deleteFrom('groups').where('id', '=', id).execute()
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

export async function upsertGroupMember(tx: Tx, groupId: string, userId: string, memberRole: string | null) {
  await tx
    .insertInto('group_members')
    .values({ group_id: groupId, user_id: userId, member_role: memberRole })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doUpdateSet({ member_role: memberRole }))
    .execute()
}

export async function deleteGroupMember(tx: Tx, groupId: string, userId: string) {
  const result = await tx
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** A user's group memberships in groups of these orgs. */
export function userGroupMemberships(db: Executor, userId: string, orgIds: readonly string[]) {
  if (orgIds.length === 0) return Promise.resolve([])
  return db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['group_members.group_id', 'group_members.user_id'])
    .where('group_members.user_id', '=', userId)
    .where('groups.org_id', 'in', orgIds)
    .execute()
}
