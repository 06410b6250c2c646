import type { Change } from '@orgkit/core'
import { sql } from 'kysely'
import { type Changed, changed, changes } from './changed.ts'
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

/**
 * What any password policy asks of a password, measured when it was set (migration 0012): never the
 * password. `length` counts characters, capped at 128 (the longest minimum a policy may ask).
 */
export interface PasswordTraits {
  length: number
  upper: boolean
  digit: boolean
  special: boolean
  common: boolean
}

/** A password policy's rules, as the server validates them. */
export interface PasswordRules {
  minLength: number
  requireUpper: boolean
  requireDigit: boolean
  requireSpecial: boolean
  rejectCommon: boolean
}

/**
 * Records a password's traits and the policy ids it meets, when the password is set (or seen at a sign-in);
 * the engine's `password_policy` gate follows at once (`user.put`).
 */
export async function setPasswordCompliance(
  tx: Tx,
  userId: string,
  traits: PasswordTraits | null,
  policyIds: readonly string[],
): Promise<Changed<void>> {
  const row = await tx
    .updateTable('users')
    .set({
      password_traits: traits ? JSON.stringify(traits) : null,
      compliant_password_policies: [...policyIds],
    })
    .where('id', '=', userId)
    .returning(['mfa_enabled'])
    .executeTakeFirstOrThrow()
  return changes({
    op: 'user.put',
    user: { id: userId, mfaEnabled: row.mfa_enabled, compliantPasswordPolicies: [...policyIds] },
  })
}

/**
 * A policy saved: every user whose recorded password traits meet `rules` and who doesn't hold `policyId`
 * yet gets it, in the saving transaction, so a compliant member keeps access the instant the policy is on
 * (issue 19.4). Over all users, not only the org's: a policy id is a fingerprint of its rules, so this keeps
 * one invariant — a user holds an id in use exactly when their password meets it — whatever org they join
 * later, and a policy another org uses already costs nothing. Users whose traits aren't known (no password,
 * or one set before migration 0012 and not seen since) stay gated until they set or use one.
 */
export async function grantCompliance(
  tx: Tx,
  policyId: string,
  rules: PasswordRules,
): Promise<Changed<{ userIds: string[] }>> {
  const traits = (name: keyof PasswordTraits) => sql`(password_traits ->> ${name})`
  let query = tx
    .updateTable('users')
    .set({ compliant_password_policies: sql`array_append(compliant_password_policies, ${policyId}::text)` })
    .where('password_traits', 'is not', null)
    .where(sql<boolean>`not (${policyId}::text = any(compliant_password_policies))`)
    .where(sql<boolean>`${traits('length')}::int >= ${rules.minLength}::int`)
  if (rules.requireUpper) query = query.where(sql<boolean>`${traits('upper')}::boolean`)
  if (rules.requireDigit) query = query.where(sql<boolean>`${traits('digit')}::boolean`)
  if (rules.requireSpecial) query = query.where(sql<boolean>`${traits('special')}::boolean`)
  if (rules.rejectCommon) query = query.where(sql<boolean>`not ${traits('common')}::boolean`)
  const rows = await query.returning(['id', 'mfa_enabled', 'compliant_password_policies']).execute()
  return changed(
    { userIds: rows.map((r) => r.id) },
    rows.map(
      (r): Change => ({
        op: 'user.put',
        user: {
          id: r.id,
          mfaEnabled: r.mfa_enabled,
          compliantPasswordPolicies: r.compliant_password_policies,
        },
      }),
    ),
  )
}

/**
 * Everyone who may reach these orgs (an active membership, a binding of their own, or a group of theirs
 * there), with what a policy looks at: 2FA, whether they have a password, its traits and compliant ids.
 * By email. The service narrows it with the engine's belonging.
 */
export function peopleOf(db: Executor, orgIds: readonly string[]) {
  if (orgIds.length === 0) return Promise.resolve([])
  return db
    .selectFrom('users')
    .select([
      'users.id',
      'users.email',
      'users.name',
      'users.mfa_enabled',
      'users.password_traits',
      'users.compliant_password_policies',
    ])
    .select(sql<boolean>`users.password_hash is not null`.as('has_password'))
    .where((eb) =>
      eb.or([
        eb(
          'users.id',
          'in',
          eb
            .selectFrom('memberships')
            .select('memberships.user_id')
            .where('memberships.org_id', 'in', orgIds)
            .where('memberships.status', '=', 'active'),
        ),
        eb(
          'users.id',
          'in',
          eb
            .selectFrom('bindings')
            .select('bindings.user_id')
            .where('bindings.org_id', 'in', orgIds)
            .where('bindings.user_id', 'is not', null),
        ),
        eb(
          'users.id',
          'in',
          eb
            .selectFrom('group_members')
            .innerJoin('groups', 'groups.id', 'group_members.group_id')
            .select('group_members.user_id')
            .where('groups.org_id', 'in', orgIds),
        ),
      ]),
    )
    .orderBy('users.email')
    .execute()
}

/** One user's state as a policy sees it (as `peopleOf`), or undefined. */
export function personState(db: Executor, userId: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'mfa_enabled', 'password_traits', 'compliant_password_policies'])
    .select(sql<boolean>`password_hash is not null`.as('has_password'))
    .where('id', '=', userId)
    .executeTakeFirst()
}
