import { ORG, OrgkitError } from '@orgkit/core'
import { toOrgRecord } from '@orgkit/store'
import { type PasswordPolicy, policyId } from '../security/passwords.ts'
import { type Actor, authorize, type Ctx, type RequestMeta, requireOrg, write } from './context.ts'

export interface SecurityPolicy {
  requireMfa: boolean
  passwordPolicy: PasswordPolicy | null
  apiKeyPolicy: { requireExpiry: boolean; maxDays: number | null } | null
}

export async function getSecurity(ctx: Ctx, actor: Actor, orgId: string): Promise<SecurityPolicy> {
  requireOrg(ctx, actor, orgId)
  const row = await ctx.db
    .selectFrom('orgs')
    .select(['require_mfa', 'password_policy', 'api_key_policy'])
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow()
  return {
    requireMfa: row.require_mfa,
    passwordPolicy: (row.password_policy as PasswordPolicy | null) ?? null,
    apiKeyPolicy: (row.api_key_policy as SecurityPolicy['apiKeyPolicy']) ?? null,
  }
}

/**
 * Sets the org's security policy (super admins: `org.manage_security`). Members who don't comply are
 * denied by the engine (`mfa_required`, `password_policy`) in this org and every sub-org until they do.
 */
export async function putSecurity(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: SecurityPolicy,
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_security', { type: ORG, id: orgId })
    const before = await work.tx
      .selectFrom('orgs')
      .select(['require_mfa', 'password_policy', 'api_key_policy'])
      .where('id', '=', orgId)
      .executeTakeFirst()
    const row = await work.tx
      .updateTable('orgs')
      .set({
        require_mfa: input.requireMfa,
        password_policy: input.passwordPolicy ? JSON.stringify(input.passwordPolicy) : null,
        password_policy_id: input.passwordPolicy ? policyId(input.passwordPolicy) : null,
        api_key_policy: input.apiKeyPolicy ? JSON.stringify(input.apiKeyPolicy) : null,
        updated_at: new Date(ctx.clock()),
      })
      .where('id', '=', orgId)
      .returningAll()
      .executeTakeFirstOrThrow()
    work.change({ op: 'org.put', org: toOrgRecord(row) })
    work.audit({
      orgId,
      action: 'org.security_changed',
      targetType: 'org',
      targetId: orgId,
      before,
      after: input,
    })
    return input
  })
}

/** Members and whether each meets the policy: 2FA on, password verified against this policy. */
export async function compliance(ctx: Ctx, actor: Actor, orgId: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.manage_security', { type: ORG, id: orgId })
  const org = await ctx.db
    .selectFrom('orgs')
    .select(['require_mfa', 'password_policy_id'])
    .where('id', '=', orgId)
    .executeTakeFirst()
  if (!org) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  const rows = await ctx.db
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
  const items = rows.map((u) => {
    const mfaOk = !org.require_mfa || u.mfa_enabled
    const passwordOk =
      org.password_policy_id === null || u.compliant_password_policies.includes(org.password_policy_id)
    return {
      userId: u.id,
      email: u.email,
      name: u.name,
      mfaEnabled: u.mfa_enabled,
      mfaOk,
      passwordOk,
      compliant: mfaOk && passwordOk,
    }
  })
  return { items, nonCompliant: items.filter((i) => !i.compliant).length }
}
