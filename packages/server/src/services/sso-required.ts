import { OrgkitError } from '@orgkit/core'
import { type Executor, members, orgDomains, sso } from '@orgkit/store'
import type { Ctx } from './context.ts'

/**
 * "SSO required" (issue 21.1): password sign-in and password reset of an email in a verified domain of an
 * org that requires SSO fail with SSO_REQUIRED, naming where to sign in — but for the org's break-glass
 * owner (while an owner). Decided from the email's domain before any password is checked, so it tells no one whether a
 * password was right (only that the break-glass account is the one it lets through).
 */
export async function assertPasswordAllowed(
  ctx: Ctx,
  db: Executor,
  email: string,
  userId: string | null,
): Promise<void> {
  const domain = orgDomains.domainOfEmail(email)
  const verified = domain ? await orgDomains.findVerifiedByDomain(db, domain) : undefined
  if (!verified) return
  const settings = await sso.findSettings(db, verified.orgId)
  if (!settings.sso_required) return
  // The break-glass account passes while it is still an owner of the org (demoted, it is no exception).
  if (userId !== null && userId === settings.break_glass_user_id) {
    const owners = await members.activeOwnerIds(db, verified.orgId, ctx.model.org.ownerRoles)
    if (owners.has(userId)) return
  }
  throw new OrgkitError('SSO_REQUIRED', `${domain} signs in with single sign-on: use "Sign in with SSO"`, {
    orgId: verified.orgId,
    domain,
    signInUrl: `${ctx.settings.publicUrl.replace(/\/+$/, '')}/login?sso=1`,
  })
}
