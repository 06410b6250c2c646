import { ORG, OrgkitError } from '@orgkit/core'
import { orgSecurity, orgs } from '@orgkit/store'
import { type PasswordPolicy, policyId } from '../security/passwords.ts'
import { type Actor, authorize, type Ctx, type RequestMeta, requireOrg, write } from './context.ts'
import { requestMfa, type Unmet, unmetBy } from './password-compliance.ts'

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
 * denied by the engine (`mfa_required`, `password_policy`) in this org and every sub-org until they do;
 * compliance with a new password policy is computed for everyone in the same transaction, from the traits
 * kept when each password was set (password-compliance.ts). Whoever sets it must meet it first (SPEC 3: a
 * Super Admin cannot switch on a policy they fail): POLICY_NOT_MET_BY_YOU says what to do.
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
    if (actor.kind === 'user') {
      const self = await orgSecurity.personState(work.tx, actor.userId)
      const mine = self && unmetBy(self, input, requestMfa(actor))
      if (mine && mine.unmet.length > 0)
        throw new OrgkitError(
          'POLICY_NOT_MET_BY_YOU',
          `you don't meet this policy yourself: ${mine.unmet.map((u) => FIRST[u]).join(' and ')} first`,
          { unmet: mine.unmet, password: mine.password, rules: mine.rules },
        )
    }
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
    if (input.passwordPolicy)
      work.apply(
        await orgSecurity.grantCompliance(work.tx, policyId(input.passwordPolicy), input.passwordPolicy),
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

const FIRST: Record<Unmet, string> = {
  mfa: 'enrol two-factor authentication',
  password: 'change your password',
}

export interface PreviewItem {
  userId: string
  email: string
  name: string
  /** What they would have to do: enrol 2FA, change (or set) their password. */
  unmet: Unmet[]
  /** `unknown`: set before its traits were kept (known at their next sign-in); `none`: no password. */
  password: 'ok' | 'fails' | 'unknown' | 'none'
}

/**
 * Who a proposed policy would gate, before it is saved: everyone who belongs to the org or one of its
 * sub-orgs (members, inherited, external) and would not comply, and whether the actor would (the console
 * shows the names and asks to confirm; PUT refuses a policy its actor fails). Which rules a member's
 * password breaks is not said to others: only that it does.
 */
export async function previewSecurity(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  input: Pick<SecurityPolicy, 'requireMfa' | 'passwordPolicy'>,
) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.manage_security', { type: ORG, id: orgId })
  const below = await orgs.subtreeIds(ctx.db, orgId)
  const reach = new Set([...(await orgs.chainIds(ctx.db, orgId)), ...below])
  const authz = ctx.engine.authorizer
  const people = (await orgSecurity.peopleOf(ctx.db, [...reach])).filter((p) =>
    below.some((id) => authz.belonging({ type: 'user', id: p.id }, id) !== null),
  )
  const items: PreviewItem[] = []
  for (const person of people) {
    const { unmet, password } = unmetBy(person, input)
    if (unmet.length > 0)
      items.push({ userId: person.id, email: person.email, name: person.name, unmet, password })
  }
  let you: { unmet: Unmet[]; password: PreviewItem['password']; rules: string[] } | null = null
  if (actor.kind === 'user') {
    const self = await orgSecurity.personState(ctx.db, actor.userId)
    if (self) you = unmetBy(self, input, requestMfa(actor))
  }
  return { items, nonCompliant: items.length, total: people.length, you }
}
