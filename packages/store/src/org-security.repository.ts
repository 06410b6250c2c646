import { type Changed, changed } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import type { OrgRow } from './orgs.repository.ts'
import { toOrgRecord } from './snapshot.ts'

/**
 * An org's security policy (SPEC 6): whether members need 2FA, the password policy (its rules and its id,
 * a fingerprint the engine compares with each user's compliant ids) and the API key policy. Policies are
 * JSON: the server validates and reads them.
 */

/** The org's policy, or undefined when there is no such org. */
export function findPolicy(db: Executor, orgId: string) {
  return db
    .selectFrom('orgs')
    .select(['require_mfa', 'password_policy', 'api_key_policy'])
    .where('id', '=', orgId)
    .executeTakeFirst()
}

/** Sets the org's policy; the engine's gates (`mfa_required`, `password_policy`) follow. */
export async function updatePolicy(
  tx: Tx,
  orgId: string,
  policy: {
    requireMfa: boolean
    passwordPolicy: unknown
    passwordPolicyId: string | null
    apiKeyPolicy: unknown
  },
  now: Date,
): Promise<Changed<OrgRow>> {
  const row = await tx
    .updateTable('orgs')
    .set({
      require_mfa: policy.requireMfa,
      password_policy: policy.passwordPolicy ? JSON.stringify(policy.passwordPolicy) : null,
      password_policy_id: policy.passwordPolicyId,
      api_key_policy: policy.apiKeyPolicy ? JSON.stringify(policy.apiKeyPolicy) : null,
      updated_at: now,
    })
    .where('id', '=', orgId)
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'org.put', org: toOrgRecord(row) }])
}

/** Every distinct password policy some org has: a new password is checked against each. */
export async function passwordPolicies(db: Executor): Promise<unknown[]> {
  const rows = await db
    .selectFrom('orgs')
    .select('password_policy')
    .distinct()
    .where('password_policy', 'is not', null)
    .execute()
  return rows.map((r) => r.password_policy)
}

/** The API key policy of each of these orgs (null where it has none). */
export function apiKeyPolicies(db: Executor, orgIds: readonly string[]) {
  if (orgIds.length === 0) return Promise.resolve([])
  return db.selectFrom('orgs').select(['id', 'api_key_policy']).where('id', 'in', orgIds).execute()
}

/** What compliance is measured against: the 2FA requirement and the password policy's id. */
export function findRequirements(db: Executor, orgId: string) {
  return db
    .selectFrom('orgs')
    .select(['require_mfa', 'password_policy_id'])
    .where('id', '=', orgId)
    .executeTakeFirst()
}

/** The org's active members with their 2FA state and compliant policy ids, by email. */
export function memberCredentials(db: Executor, orgId: string) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select([
      'users.id',
      'users.email',
      'users.name',
      'users.mfa_enabled',
      'users.compliant_password_policies',
    ])
    .where('memberships.org_id', '=', orgId)
    .where('memberships.status', '=', 'active')
    .orderBy('users.email')
    .execute()
}
