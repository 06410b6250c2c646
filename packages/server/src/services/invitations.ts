import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, type RoleHandle, rules, type Target } from '@orgkit/core'
import {
  bindings,
  credentials,
  customRoles,
  invitations,
  members,
  orgs,
  resources,
  users,
} from '@orgkit/store'
import { hit } from '../security/rate-limit.ts'
import { newSecret, sha256 } from '../security/tokens.ts'
import { openInvitation } from './accounts.ts'
import { toBindingView } from './bindings.ts'
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
import { manageAccessTarget, resourceChain, visibleResource } from './resources.ts'

const INVITATION_DAYS = 7

export interface InvitationView {
  id: string
  orgId: string
  email: string
  /** The primary role: an org role, or, with `resourceId`, the role on that resource. */
  role: string
  /** Every role given on accepting: `role`, then any more org roles (seed 004's module roles). */
  roles: string[]
  /** Access to this resource only, no membership: the invitee joins as an external account (seed 002). */
  resourceId: string | null
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
  extra_roles: string[]
  resource_id: string | null
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
  roles: [r.role, ...r.extra_roles],
  resourceId: r.resource_id,
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

export interface InviteInput {
  email: string
  /** An org role, or, with `resourceId`, a role bound at that resource. */
  role: string
  /** More org roles (seed 004: module roles beside the Member base). */
  roles?: string[] | undefined
  /** Give access to this resource only: the invitee joins as an external account (seed 002). */
  resourceId?: string | undefined
  firstName?: string | undefined
  lastName?: string | undefined
  captcha?: string | undefined
}

/**
 * The org roles an invitation gives: the ones chosen, and the model's default role ("added to the team as
 * a Member with read only access", seed 004) unless a chosen role holds its slot or already covers it, so
 * an invitee with module roles only is never invisible to themselves.
 */
function invitedOrgRoles(ctx: Ctx, orgId: string, keys: readonly string[]): RoleHandle[] {
  const roles = [...new Set(keys)].map((k) => orgRole(ctx, orgId, k))
  for (const role of roles) {
    const sameSlot = roles.filter((r) => r.slot === role.slot).map((r) => r.key)
    rules.assertSlotFree(ctx.model, role.slot, sameSlot, role.key)
  }
  const base = ctx.engine.authorizer.role(ctx.model.org.defaultRole, orgId)
  if (!base || roles.some((r) => r.key === base.key)) return roles
  const slotTaken = roles.some((r) => r.slot === base.slot)
  const covered = roles.some((r) => base.permissions.every((p) => r.permissions.includes(p)))
  return slotTaken || covered ? roles : [base, ...roles]
}

/** What an invitation grants, checked against what the actor may grant: org roles, or one resource role. */
async function invitedGrant(
  ctx: Ctx,
  actor: Actor,
  work: Work,
  orgId: string,
  input: InviteInput,
): Promise<{ roles: RoleHandle[]; resource: { id: string; name: string } | null }> {
  if (input.resourceId === undefined) {
    authorize(ctx, actor, 'org.invite_user', { type: ORG, id: orgId })
    const roles = invitedOrgRoles(ctx, orgId, [input.role, ...(input.roles ?? [])])
    const facts = actorFacts(ctx, actor, { type: ORG, id: orgId })
    for (const role of roles) rules.assertCanChangeRole(ctx.model, facts, null, role)
    return { roles, resource: null }
  }
  if (input.roles?.length)
    throw new OrgkitError('VALIDATION_FAILED', 'an invitation to a resource gives one role there', {
      field: 'roles',
    })
  const resource = await visibleResource(ctx, actor, orgId, input.resourceId, work.tx)
  const manage = manageAccessTarget(ctx, {
    id: resource.id,
    type: resource.type,
    orgId,
    chain: resource.chain,
  })
  authorize(ctx, actor, manage.permission, manage.target)
  const role = orgRole(ctx, orgId, input.role, resource.type)
  const facts = actorFacts(ctx, actor, { type: resource.type, id: resource.id })
  rules.assertCanChangeRole(ctx.model, facts, null, role)
  return { roles: [role], resource: { id: resource.id, name: resource.name } }
}

/**
 * Invites someone by email with a role chosen first (seed 001), behind a captcha. The mail holds a
 * single-use magic link; only its hash is stored. The invitee counts as a seat while pending, unless the
 * invitation gives access to one resource only (seed 002's external accounts are not members).
 */
export async function invite(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, input: InviteInput) {
  const email = input.email.trim().toLowerCase()
  const token = newSecret('oki')
  const { result, revision } = await write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    const grant = await invitedGrant(ctx, actor, work, orgId, input)
    if (actor.kind !== 'platform') await ctx.captcha.verify(work.tx, input.captcha)
    await hit(work.tx, `invite:org:${orgId}`, 100, 3600, ctx.clock())
    const member = await members.findMembershipByEmail(work.tx, orgId, email)
    if (member)
      throw new OrgkitError('ALREADY_MEMBER', 'already a member of this organization', { field: 'email' })
    // One open invitation per email and target: the org, or one resource (issue 19.7: a project given by
    // email beside a pending member invitation); each is accepted for what it grants.
    const open = await invitations.findOpenForEmail(work.tx, orgId, email, grant.resource?.id ?? null)
    if (open)
      throw new OrgkitError('ALREADY_EXISTS', 'already invited here: resend the invitation instead', {
        invitationId: open.id,
      })
    if (grant.resource === null) await assertSeatAvailable(ctx, work, orgId)
    const [primary, ...more] = grant.roles.map((r) => r.key)
    const row = await invitations.insertInvitation(work.tx, {
      id: randomUUID(),
      orgId,
      email,
      role: primary!,
      extraRoles: more,
      resourceId: grant.resource?.id ?? null,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      tokenHash: sha256(token),
      invitedBy: actorUserId(actor),
      expiresAt: new Date(ctx.clock() + INVITATION_DAYS * 86_400_000),
    })
    await mailInvitation(work, ctx, orgId, email, token, primary!)
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
    if (expired) await assertSeatAvailable(ctx, work, orgId)
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
  const roles = [row.role, ...row.extra_roles]
  const resource = row.resource_id ? await resources.findResource(ctx.db, row.org_id, row.resource_id) : null
  return {
    orgId: row.org_id,
    orgName: org.name,
    email: row.email,
    role: row.role,
    roles,
    // The words every other screen uses for these roles: the model's, or the org's custom role's label.
    roleLabels: await Promise.all(roles.map((key) => roleLabelOf(ctx, row.org_id, key))),
    resourceId: row.resource_id,
    resourceName: resource?.name ?? null,
    firstName: row.first_name,
    lastName: row.last_name,
    expiresAt: row.expires_at.toISOString(),
  }
}

async function roleLabelOf(ctx: Ctx, orgId: string, key: string): Promise<string> {
  return ctx.model.roles[key]?.label ?? (await customRoles.findCustomRole(ctx.db, orgId, key))?.label ?? key
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
    const inviter: Actor | null =
      claimed.invited_by === null ? null : { kind: 'user', userId: claimed.invited_by, via: 'session' }
    if (claimed.resource_id !== null) {
      await acceptResourceAccess(work, ctx, inviter, { ...claimed, resource_id: claimed.resource_id }, userId)
    } else {
      // The inviter must still be able to grant the roles now (they may have been demoted or removed since).
      const invited = [claimed.role, ...claimed.extra_roles]
        .map((key) => ctx.engine.authorizer.role(key, orgId))
        .filter((r): r is RoleHandle => r !== null && r !== undefined)
      if (inviter) assertInviterMayStill(ctx, inviter, { type: ORG, id: orgId }, invited)
      const existing = await members.findMembership(work.tx, orgId, userId)
      if (existing?.status !== 'active') {
        await joinOrg(work, ctx, {
          orgId,
          userId,
          roles: invited.length > 0 ? invited.map((r) => r.key) : [ctx.model.org.defaultRole],
          grantedBy: claimed.invited_by,
          via: 'invitation',
        })
      }
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
    return {
      orgId,
      role: claimed.role,
      roles: [claimed.role, ...claimed.extra_roles],
      resourceId: claimed.resource_id,
    }
  })
  return { ...result, revision }
}

function assertInviterMayStill(ctx: Ctx, inviter: Actor, target: Target, roles: readonly RoleHandle[]) {
  if (!can(ctx, inviter, 'org.invite_user', target)) {
    throw new OrgkitError(
      'INVITATION_INVALID',
      'whoever invited you can no longer invite: ask for a new invitation',
    )
  }
  const facts = actorFacts(ctx, inviter, target)
  for (const role of roles) rules.assertCanChangeRole(ctx.model, facts, null, role)
}

/**
 * Seed 002: an ADMIN gives an outside person access to a project by email. On accepting they hold the role
 * on that resource and no membership, so they belong to the org as an external account (SPEC 1.4).
 */
async function acceptResourceAccess(
  work: Work,
  ctx: Ctx,
  inviter: Actor | null,
  claimed: { org_id: string; role: string; resource_id: string; invited_by: string | null },
  userId: string,
) {
  const orgId = claimed.org_id
  const resource = await resourceChain(work.tx, orgId, claimed.resource_id)
  const role = ctx.engine.authorizer.role(claimed.role, orgId)
  if (!resource || !role || role.scope !== resource.type)
    throw new OrgkitError('INVITATION_INVALID', 'this invitation is invalid, used, revoked or expired')
  if (inviter) {
    const manage = manageAccessTarget(ctx, {
      id: resource.id,
      type: resource.type,
      orgId,
      chain: resource.chain,
    })
    if (!can(ctx, inviter, manage.permission, manage.target))
      throw new OrgkitError(
        'INVITATION_INVALID',
        'whoever invited you can no longer give access here: ask for a new invitation',
      )
    const facts = actorFacts(ctx, inviter, { type: resource.type, id: resource.id })
    rules.assertCanChangeRole(ctx.model, facts, null, role)
  }
  const held = await bindings.listBindings(work.tx, { orgIds: [orgId], userId, resourceIds: [resource.id] })
  if (held.some((b) => b.role === role.key)) return
  const sameSlot = held
    .filter((b) => ctx.engine.authorizer.role(b.role, orgId)?.slot === role.slot)
    .map((b) => b.role)
  rules.assertSlotFree(ctx.model, role.slot, sameSlot, role.key)
  const row = work.apply(
    await bindings.insertBinding(work.tx, {
      id: randomUUID(),
      orgId,
      userId,
      groupId: null,
      role: role.key,
      scopeType: resource.type,
      resourceId: resource.id,
      expiresAt: null,
      grantedBy: claimed.invited_by,
      reason: 'invitation',
    }),
  )
  work.audit({
    orgId,
    action: 'binding.created',
    targetType: 'binding',
    targetId: row.id,
    after: toBindingView(row),
  })
}
