import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, rules } from '@orgkit/core'
import { credentials, invitations, members, orgs, users } from '@orgkit/store'
import { hit } from '../security/rate-limit.ts'
import { newSecret, sha256 } from '../security/tokens.ts'
import { openInvitation } from './accounts.ts'
import {
  type Actor,
  actorFacts,
  actorUserId,
  authorize,
  type Ctx,
  can,
  type RequestMeta,
  requireOrg,
  type Work,
  write,
} from './context.ts'
import { joinOrg } from './joining.ts'
import { orgRole } from './members.ts'
import { assertSeatAvailable } from './plan-limits.ts'

const INVITATION_DAYS = 7

export interface InvitationView {
  id: string
  orgId: string
  email: string
  role: string
  firstName: string | null
  lastName: string | null
  status: 'pending' | 'expired'
  expiresAt: string
  createdAt: string
}

type Row = {
  id: string
  org_id: string
  email: string
  role: string
  first_name: string | null
  last_name: string | null
  expires_at: Date
  created_at: Date
}
const toView = (r: Row, now: number): InvitationView => ({
  id: r.id,
  orgId: r.org_id,
  email: r.email,
  role: r.role,
  firstName: r.first_name,
  lastName: r.last_name,
  status: r.expires_at.getTime() > now ? 'pending' : 'expired',
  expiresAt: r.expires_at.toISOString(),
  createdAt: r.created_at.toISOString(),
})

async function mailInvitation(
  work: Work,
  ctx: Ctx,
  orgId: string,
  email: string,
  token: string,
  role: string,
) {
  const org = (await orgs.findOrg(work.tx, orgId))!
  const label =
    ctx.engine.authorizer.role(role, orgId)?.key === role ? (ctx.model.roles[role]?.label ?? role) : role
  const link = `${ctx.settings.publicUrl}/invitations/${token}`
  await ctx.mail.queue(work.tx, {
    to: email,
    subject: `You're invited to join ${org.name} on Orgkit`,
    text: `You have been invited to join ${org.name} as ${label}.\n\nAccept the invitation:\n${link}\n\nThe link works once and expires in ${INVITATION_DAYS} days.`,
    html: `<p>You have been invited to join <b>${escapeHtml(org.name)}</b> as ${escapeHtml(label)}.</p><p><a href="${link}">Accept the invitation</a></p><p>The link works once and expires in ${INVITATION_DAYS} days.</p>`,
  })
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * Invites someone by email with a role chosen first (seed 001), behind a captcha. The mail holds a
 * single-use magic link; only its hash is stored. The invitee counts as a seat while pending.
 */
export async function invite(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: {
    email: string
    role: string
    firstName?: string | undefined
    lastName?: string | undefined
    captcha?: string | undefined
  },
) {
  const email = input.email.trim().toLowerCase()
  const token = newSecret('oki')
  const { result, revision } = await write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.invite_user', { type: ORG, id: orgId })
    const role = orgRole(ctx, orgId, input.role)
    rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, { type: ORG, id: orgId }), null, role)
    if (actor.kind !== 'platform') await ctx.captcha.verify(work.tx, input.captcha)
    await hit(work.tx, `invite:org:${orgId}`, 100, 3600, ctx.clock())
    const member = await members.findMembershipByEmail(work.tx, orgId, email)
    if (member)
      throw new OrgkitError('ALREADY_MEMBER', 'already a member of this organization', { field: 'email' })
    const open = await invitations.findOpenForEmail(work.tx, orgId, email)
    if (open)
      throw new OrgkitError('ALREADY_EXISTS', 'already invited: resend the invitation instead', {
        invitationId: open.id,
      })
    await assertSeatAvailable(ctx, work.tx, orgId)
    const row = await invitations.insertInvitation(work.tx, {
      id: randomUUID(),
      orgId,
      email,
      role: role.key,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      tokenHash: sha256(token),
      invitedBy: actorUserId(actor),
      expiresAt: new Date(ctx.clock() + INVITATION_DAYS * 86_400_000),
    })
    await mailInvitation(work, ctx, orgId, email, token, role.key)
    work.audit({
      orgId,
      action: 'invitation.created',
      targetType: 'invitation',
      targetId: row.id,
      after: toView(row, ctx.clock()),
    })
    return toView(row, ctx.clock())
  })
  void ctx.mail.deliver()
  return { ...result, revision }
}

export async function listInvitations(ctx: Ctx, actor: Actor, orgId: string): Promise<InvitationView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_members', { type: ORG, id: orgId })
  const rows = await invitations.listOpen(ctx.db, orgId)
  return rows.map((r) => toView(r, ctx.clock()))
}

/** Resend: a new token and a new expiry; the old link is dead from this moment. */
export async function resend(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  const token = newSecret('oki')
  const { result, revision } = await write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.invite_user', { type: ORG, id: orgId })
    await hit(work.tx, `invite:resend:${id}`, 5, 3600, ctx.clock())
    // An expired invitation holds no seat; resending makes it pending again, so it needs one.
    const expired = await invitations.isExpired(work.tx, orgId, id, new Date(ctx.clock()))
    if (expired) await assertSeatAvailable(ctx, work.tx, orgId)
    const expiresAt = new Date(ctx.clock() + INVITATION_DAYS * 86_400_000)
    const row = await invitations.renew(work.tx, orgId, id, sha256(token), expiresAt)
    if (!row) throw new OrgkitError('INVITATION_INVALID', 'no such pending invitation', { id })
    await mailInvitation(work, ctx, orgId, row.email, token, row.role)
    work.audit({ orgId, action: 'invitation.resent', targetType: 'invitation', targetId: id })
    return toView(row, ctx.clock())
  })
  void ctx.mail.deliver()
  return { ...result, revision }
}

export async function revoke(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.invite_user', { type: ORG, id: orgId })
    const row = await invitations.revoke(work.tx, orgId, id, new Date(ctx.clock()))
    if (!row) throw new OrgkitError('INVITATION_INVALID', 'no such pending invitation', { id })
    work.audit({
      orgId,
      action: 'invitation.revoked',
      targetType: 'invitation',
      targetId: id,
      before: toView(row, ctx.clock()),
    })
    return null
  })
}

/** What the invitation page shows to whoever holds the link. */
export async function describeInvitation(ctx: Ctx, meta: RequestMeta, token: string) {
  await hit(ctx.db, `invitation:ip:${meta.ip}`, 60, 900, ctx.clock())
  const row = await openInvitation(ctx.db, token, ctx.clock())
  if (!row)
    throw new OrgkitError('INVITATION_INVALID', 'this invitation is invalid, used, revoked or expired')
  const org = (await orgs.findOrg(ctx.db, row.org_id))!
  return {
    orgId: row.org_id,
    orgName: org.name,
    email: row.email,
    role: row.role,
    firstName: row.first_name,
    lastName: row.last_name,
    expiresAt: row.expires_at.toISOString(),
  }
}

/**
 * Accepts an invitation as the signed-in user, who must be the invited email (else it stays pending).
 * Claiming the row is one conditional UPDATE, so of many concurrent accepts exactly one joins.
 */
export async function accept(ctx: Ctx, actor: Actor, meta: RequestMeta, token: string) {
  if (actor.kind !== 'user' || actor.keyId)
    throw new OrgkitError('UNAUTHENTICATED', 'sign in (or sign up) as the invited email first')
  const userId = actor.userId
  await hit(ctx.db, `invitation:ip:${meta.ip}`, 60, 900, ctx.clock())
  const pending = await openInvitation(ctx.db, token, ctx.clock())
  if (!pending)
    throw new OrgkitError('INVITATION_INVALID', 'this invitation is invalid, used, revoked or expired')
  const { result, revision } = await write(ctx, actor, meta, pending.org_id, async (work) => {
    const user = (await users.findUser(work.tx, userId))!
    if (user.email.toLowerCase() !== pending.email.toLowerCase()) {
      throw new OrgkitError('INVITATION_WRONG_EMAIL', 'this invitation is for another email address')
    }
    const claimed = await invitations.claim(work.tx, sha256(token), userId, new Date(ctx.clock()))
    if (!claimed)
      throw new OrgkitError('INVITATION_INVALID', 'this invitation is invalid, used, revoked or expired')
    const orgId = claimed.org_id
    // The inviter must still be able to grant the role now (they may have been demoted or removed since).
    const invitedRole = ctx.engine.authorizer.role(claimed.role, orgId)
    if (claimed.invited_by !== null && invitedRole) {
      const inviter: Actor = { kind: 'user', userId: claimed.invited_by, via: 'session' }
      const target = { type: ORG, id: orgId }
      if (!can(ctx, inviter, 'org.invite_user', target)) {
        throw new OrgkitError(
          'INVITATION_INVALID',
          'whoever invited you can no longer invite: ask for a new invitation',
        )
      }
      rules.assertCanChangeRole(ctx.model, actorFacts(ctx, inviter, target), null, invitedRole)
    }
    const existing = await members.findMembership(work.tx, orgId, userId)
    if (existing?.status !== 'active') {
      await joinOrg(work, ctx, {
        orgId,
        userId,
        roles: [invitedRole?.key ?? ctx.model.org.defaultRole],
        grantedBy: claimed.invited_by,
        via: 'invitation',
      })
    }
    // The link came to that address: it is verified now, if it wasn't already.
    await credentials.markEmailVerified(work.tx, userId, new Date(ctx.clock()))
    work.audit({
      orgId,
      action: 'invitation.accepted',
      targetType: 'invitation',
      targetId: claimed.id,
      after: { userId, role: claimed.role },
    })
    return { orgId, role: claimed.role }
  })
  return { ...result, revision }
}
