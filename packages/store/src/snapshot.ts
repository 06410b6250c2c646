import type { BindingRecord, OverrideRecord, Snapshot } from '@orgkit/core'
import { currentRevision } from './changes.repository.ts'
import type { Executor } from './database.ts'

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

/**
 * Everything the engine needs, read in one repeatable-read transaction, with the revision it reflects:
 * an instance loads this, then applies the change feed after that revision.
 */
export async function loadSnapshot(db: Executor): Promise<{ revision: number; snapshot: Snapshot }> {
  // Inside a caller's transaction, read through it; otherwise open a repeatable-read one of our own.
  if (db.isTransaction) return readSnapshot(db)
  return db.transaction().setIsolationLevel('repeatable read').execute(readSnapshot)
}

async function readSnapshot(tx: Executor): Promise<{ revision: number; snapshot: Snapshot }> {
  const revision = await currentRevision(tx)
  const [orgs, resources, users, memberships, groups, groupMembers, bindings, overrides, roles, apiKeys] =
    await Promise.all([
      tx.selectFrom('orgs').selectAll().execute(),
      tx.selectFrom('resources').select(['id', 'org_id', 'type', 'parent_id']).execute(),
      tx.selectFrom('users').select(['id', 'mfa_enabled', 'compliant_password_policies']).execute(),
      tx.selectFrom('memberships').select(['org_id', 'user_id', 'status']).execute(),
      tx.selectFrom('groups').select(['id', 'org_id', 'role']).execute(),
      tx.selectFrom('group_members').select(['group_id', 'user_id', 'member_role']).execute(),
      tx.selectFrom('bindings').selectAll().execute(),
      tx.selectFrom('overrides').selectAll().execute(),
      tx.selectFrom('custom_roles').selectAll().execute(),
      tx
        .selectFrom('api_keys')
        .select(['id', 'user_id', 'expires_at', 'revoked_at', 'org_ids', 'resource_ids', 'permissions'])
        .execute(),
    ])
  const snapshot: Snapshot = {
    orgs: orgs.map(toOrgRecord),
    resources: resources.map((r) => ({ id: r.id, orgId: r.org_id, type: r.type, parentId: r.parent_id })),
    users: users.map((u) => ({
      id: u.id,
      mfaEnabled: u.mfa_enabled,
      compliantPasswordPolicies: u.compliant_password_policies,
    })),
    memberships: memberships.map((m) => ({ orgId: m.org_id, userId: m.user_id, status: m.status })),
    groups: groups.map((g) => ({ id: g.id, orgId: g.org_id, role: g.role })),
    groupMembers: groupMembers.map((m) => ({
      groupId: m.group_id,
      userId: m.user_id,
      memberRole: m.member_role,
    })),
    bindings: bindings.map(toBindingRecord),
    overrides: overrides.map(toOverrideRecord),
    apiKeys: apiKeys.map(toApiKeyRecord),
    roles: roles.map(toCustomRoleRecord),
  }
  return { revision, snapshot }
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
