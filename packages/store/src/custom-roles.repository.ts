import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { toCustomRoleRecord } from './snapshot.ts'

export type CustomRoleRow = NonNullable<Awaited<ReturnType<typeof findCustomRole>>>

export interface CustomRoleFields {
  scope: string
  slot: string
  label: string
  description: string
  permissions: string[]
  priority: number
}

export function findCustomRole(db: Executor, orgId: string, key: string) {
  return db
    .selectFrom('custom_roles')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('key', '=', key)
    .executeTakeFirst()
}

export function listCustomRoles(db: Executor, orgId: string) {
  return db.selectFrom('custom_roles').selectAll().where('org_id', '=', orgId).execute()
}

export async function insertCustomRole(
  tx: Tx,
  orgId: string,
  key: string,
  role: CustomRoleFields,
): Promise<Changed<CustomRoleRow>> {
  const row = await tx
    .insertInto('custom_roles')
    .values({ org_id: orgId, key, ...role })
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'role.put', role: toCustomRoleRecord(row) }])
}

export async function updateCustomRole(
  tx: Tx,
  orgId: string,
  key: string,
  patch: Omit<CustomRoleFields, 'scope'>,
): Promise<Changed<CustomRoleRow>> {
  const row = await tx
    .updateTable('custom_roles')
    .set(patch)
    .where('org_id', '=', orgId)
    .where('key', '=', key)
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'role.put', role: toCustomRoleRecord(row) }])
}

export async function deleteCustomRole(tx: Tx, orgId: string, key: string): Promise<Changed<void>> {
  await tx.deleteFrom('custom_roles').where('org_id', '=', orgId).where('key', '=', key).execute()
  return changes({ op: 'role.delete', orgId, key })
}
