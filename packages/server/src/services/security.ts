import { ORG, OrgkitError } from '@orgkit/core'
import { orgSecurity } from '@orgkit/store'
import { type PasswordPolicy, policyId } from '../security/passwords.ts'
import { type Actor, authorize, type Ctx, type RequestMeta, requireOrg, write } from './context.ts'

export interface SecurityPolicy {
  requireMfa: boolean
  passwordPolicy: PasswordPolicy | null
  apiKeyPolicy: { requireExpiry: boolean; maxDays: number | null } | null
}

export async function getSecurity(ctx: Ctx, actor: Actor, orgId: string): Promise<SecurityPolicy> {
  requireOrg(ctx, actor, orgId)
  const row = await orgSecurity.findPolicy(ctx.db, orgId)
  // Gone since the engine said it exists (deleted a moment ago): as for any org the actor can't see.
  if (!row) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
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
    const before = await orgSecurity.findPolicy(work.tx, orgId)
    work.apply(
      await orgSecurity.updatePolicy(
        work.tx,
        orgId,
        {
          requireMfa: input.requireMfa,
          passwordPolicy: input.passwordPolicy,
          passwordPolicyId: input.passwordPolicy ? policyId(input.passwordPolicy) : null,
          apiKeyPolicy: input.apiKeyPolicy,
        },
        new Date(ctx.clock()),
      ),
    )
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
  const org = await orgSecurity.findRequirements(ctx.db, orgId)
  if (!org) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  const rows = await orgSecurity.memberCredentials(ctx.db, orgId)
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
