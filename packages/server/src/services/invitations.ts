import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, rules } from '@orgkit/core'
import { bindings } from '@orgkit/store'
import { queueMail } from '../mail/mailer.ts'
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
import { orgRole } from './members.ts'
import { joinEveryoneGroups } from './org-groups.ts'
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
  const org = await work.tx
    .selectFrom('orgs')
    .select('name')
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow()
  const label =
    ctx.engine.authorizer.role(role, orgId)?.key === role ? (ctx.model.roles[role]?.label ?? role) : role
  const link = `${ctx.settings.publicUrl}/invitations/${token}`
  await queueMail(work.tx, {
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
    const member = await work.tx
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select('memberships.status')
      .where('memberships.org_id', '=', orgId)
      .where((eb) => eb(eb.fn('lower', ['users.email']), '=', email))
      .executeTakeFirst()
    if (member)
      throw new OrgkitError('ALREADY_MEMBER', 'already a member of this organization', { field: 'email' })
    const open = await work.tx
      .selectFrom('invitations')
      .select('id')
      .where('org_id', '=', orgId)
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (open)
      throw new OrgkitError('ALREADY_EXISTS', 'already invited: resend the invitation instead', {
        invitationId: open.id,
      })
    await assertSeatAvailable(ctx, work.tx, orgId)
    const row = await work.tx
      .insertInto('invitations')
      .values({
        id: randomUUID(),
        org_id: orgId,
        email,
        role: role.key,
        first_name: input.firstName ?? null,
        last_name: input.lastName ?? null,
        token_hash: sha256(token),
        invited_by: actorUserId(actor),
        expires_at: new Date(ctx.clock() + INVITATION_DAYS * 86_400_000),
        accepted_at: null,
        accepted_by: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
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
  const rows = await ctx.db
    .selectFrom('invitations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .execute()
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
    const expired = await work.tx
      .selectFrom('invitations')
      .select('id')
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .where('expires_at', '<=', new Date(ctx.clock()))
      .executeTakeFirst()
    if (expired) await assertSeatAvailable(ctx, work.tx, orgId)
    const row = await work.tx
      .updateTable('invitations')
      .set({ token_hash: sha256(token), expires_at: new Date(ctx.clock() + INVITATION_DAYS * 86_400_000) })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst()
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
    const row = await work.tx
      .updateTable('invitations')
      .set({ revoked_at: new Date(ctx.clock()) })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst()
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
  const org = await ctx.db
    .selectFrom('orgs')
    .select('name')
    .where('id', '=', row.org_id)
    .executeTakeFirstOrThrow()
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
    const user = await work.tx
      .selectFrom('users')
      .select(['email'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow()
    if (user.email.toLowerCase() !== pending.email.toLowerCase()) {
      throw new OrgkitError('INVITATION_WRONG_EMAIL', 'this invitation is for another email address')
    }
    const claimed = await work.tx
      .updateTable('invitations')
      .set({ accepted_at: new Date(ctx.clock()), accepted_by: userId })
      .where('token_hash', '=', sha256(token))
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', new Date(ctx.clock()))
      .returningAll()
      .executeTakeFirst()
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
    const existing = await work.tx
      .selectFrom('memberships')
      .select('status')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    if (existing?.status !== 'active') {
      await work.tx
        .insertInto('memberships')
        .values({ org_id: orgId, user_id: userId, status: 'active' })
        .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ status: 'active' }))
        .execute()
      work.change({ op: 'membership.put', membership: { orgId, userId, status: 'active' } })
      await joinEveryoneGroups(work, ctx, orgId, userId)
      const role = ctx.engine.authorizer.role(claimed.role, orgId)?.key ?? ctx.model.org.defaultRole
      const row = await bindings.insertBinding(work.tx, {
        id: randomUUID(),
        orgId,
        userId,
        groupId: null,
        role,
        scopeType: 'org',
        resourceId: null,
        expiresAt: null,
        grantedBy: claimed.invited_by,
        reason: 'invitation',
      })
      work.change({ op: 'binding.put', binding: bindings.toRecord(row) })
    }
    await work.tx
      .updateTable('users')
      .set({ email_verified_at: new Date(ctx.clock()) })
      .where('id', '=', userId)
      .where('email_verified_at', 'is', null)
      .execute()
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
