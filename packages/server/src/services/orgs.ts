import { OrgkitError, rules } from '@orgkit/core'
import { bindings, groups, members, orgs } from '@orgkit/store'
import { setBillingEmail } from './billing.ts'
import {
  type Actor,
  actorFacts,
  actorUserId,
  assertNotApiKey,
  authorize,
  type Ctx,
  type RequestMeta,
  requireOrg,
  subjectOf,
  type Work,
  write,
} from './context.ts'
import { foundOrg, giveOrgRoles, groupHolding, keepEveryoneInAnOrg } from './joining.ts'
import { type OrgView, toOrgView } from './org-view.ts'
import { assertFeature } from './plan-limits.ts'

export { type OrgView, toOrgView } from './org-view.ts'

/**
 * Creates an org and makes its creator an active member holding the model's creator role. A sub-org needs
 * the model to allow them and the right to change the parent org's settings.
 */
export async function createOrg(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  input: { name: string; parentId?: string | null },
) {
  assertNotApiKey(actor, 'create organizations')
  const creatorId = actorUserId(actor)
  if (creatorId === null) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      'a platform token creates orgs as one of its users (X-Orgkit-User)',
      {
        field: 'X-Orgkit-User',
      },
    )
  }
  const parentId = input.parentId ?? null
  if (parentId !== null && !ctx.model.org.subOrgs) {
    throw new OrgkitError('SUB_ORGS_DISABLED', `model "${ctx.model.name}" has no sub-organizations`)
  }
  return seenBy(
    ctx,
    actor,
    await write(ctx, actor, meta, parentId, async (work) => {
      if (parentId !== null) {
        requireOrg(ctx, actor, parentId)
        authorize(ctx, actor, 'org.update_settings', { type: 'org', id: parentId })
        await assertFeature(ctx, work, parentId, 'subOrgs')
      }
      const row = await foundOrg(work, ctx, { name: input.name, parentId, creatorId })
      return toOrgView(row)
    }),
  )
}

export async function getOrg(ctx: Ctx, actor: Actor, orgId: string): Promise<OrgView> {
  requireOrg(ctx, actor, orgId)
  const row = await orgs.findOrg(ctx.db, orgId)
  if (!row) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  return withBelonging(ctx, actor, toOrgView(row))
}

/**
 * The orgs the actor belongs to (SPEC 1.4: as a member, inherited from an org above, or as an external
 * collaborator holding a role on one of its resources), each with how; every org for a platform token.
 * An API key lists those its org limits reach.
 */
export async function listOrgs(ctx: Ctx, actor: Actor): Promise<OrgView[]> {
  const subject = subjectOf(actor)
  if (subject === null) return (await orgs.listOrgsByIds(ctx.db, await orgs.allOrgIds(ctx.db))).map(toOrgView)
  const belonging = new Map(ctx.engine.authorizer.orgsOf(subject).map((o) => [o.id, o.belonging]))
  const rows = await orgs.listOrgsByIds(ctx.db, [...belonging.keys()])
  return rows.map((row) => ({ ...toOrgView(row), belonging: belonging.get(row.id) ?? null }))
}

/** The view with how the actor belongs to it (null for a platform token). */
function withBelonging(ctx: Ctx, actor: Actor, view: OrgView): OrgView {
  const subject = subjectOf(actor)
  return { ...view, belonging: subject === null ? null : ctx.engine.authorizer.belonging(subject, view.id) }
}

/** A write's outcome, its org seen by the actor once the engine has it. */
const seenBy = <T extends { result: OrgView }>(ctx: Ctx, actor: Actor, outcome: T): T => ({
  ...outcome,
  result: withBelonging(ctx, actor, outcome.result),
})

export async function updateOrg(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  patch: {
    name?: string | undefined
    managementEmail?: string | null | undefined
    logoUrl?: string | null | undefined
    fullName?: string | undefined
    description?: string | undefined
    website?: string | null | undefined
    location?: string | undefined
    singleRoleTeams?: boolean | undefined
    resourceAdminsGrantTeamAccess?: boolean | undefined
    parentId?: string | null | undefined
    billingEmail?: string | null | undefined
  },
) {
  const { billingEmail, ...settings } = patch
  const changesSettings = Object.values(settings).some((v) => v !== undefined)
  return seenBy(
    ctx,
    actor,
    await write(ctx, actor, meta, orgId, async (work) => {
      requireOrg(ctx, actor, orgId)
      // The billing email sits in General settings but is billing's (seed 001: the billing manager sets it,
      // an admin doesn't); everything else needs org.update_settings. One write: all of it, or none.
      if (changesSettings || billingEmail === undefined)
        authorize(ctx, actor, 'org.update_settings', { type: 'org', id: orgId })
      if (billingEmail !== undefined) await setBillingEmail(ctx, actor, work, orgId, billingEmail)
      const before = await orgs.lockOrg(work.tx, orgId)
      if (!before) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
      if (!changesSettings) return toOrgView(before)
      const moves = patch.parentId !== undefined && patch.parentId !== before.parent_id
      if (moves) await assertMayMove(ctx, actor, work, before, patch.parentId ?? null)
      if (
        patch.resourceAdminsGrantTeamAccess !== undefined &&
        !Object.values(ctx.model.resourceTypes).some((t) => t.teamAccessSetting)
      ) {
        throw new OrgkitError('VALIDATION_FAILED', `model "${ctx.model.name}" has no team access setting`, {
          field: 'resourceAdminsGrantTeamAccess',
        })
      }
      const switches =
        patch.singleRoleTeams !== undefined && patch.singleRoleTeams !== before.single_role_teams
      const switched = switches
        ? await switchSingleRoleTeams(ctx, actor, work, before, patch.singleRoleTeams!)
        : {}
      const row = work.apply(
        await orgs.updateOrg(
          work.tx,
          orgId,
          {
            ...(patch.name !== undefined && { name: patch.name }),
            ...(patch.managementEmail !== undefined && { management_email: patch.managementEmail }),
            ...(patch.logoUrl !== undefined && { logo_url: patch.logoUrl }),
            ...(patch.fullName !== undefined && { full_name: patch.fullName }),
            ...(patch.description !== undefined && { description: patch.description }),
            ...(patch.website !== undefined && { website: patch.website }),
            ...(patch.location !== undefined && { location: patch.location }),
            ...(patch.resourceAdminsGrantTeamAccess !== undefined && {
              resource_admins_grant_team_access: patch.resourceAdminsGrantTeamAccess,
            }),
            ...(moves && { parent_id: patch.parentId ?? null }),
            ...switched,
          },
          new Date(ctx.clock()),
        ),
      )
      work.audit({
        orgId,
        action: 'org.updated',
        targetType: 'org',
        targetId: orgId,
        before: toOrgView(before),
        after: toOrgView(row),
      })
      return toOrgView(row)
    }),
  )
}

const ownerAt = (ctx: Ctx, actor: Actor, orgId: string) =>
  actorFacts(ctx, actor, { type: 'org', id: orgId }).isOwner

/**
 * Moves an org under another (or to the top): owner rights on both ends, or one could lift an org into a
 * tree where it inherits more, or pull someone else's org under one's own (no escalation by re-parenting);
 * and never under itself.
 */
async function assertMayMove(ctx: Ctx, actor: Actor, work: Work, org: orgs.OrgRow, parentId: string | null) {
  if (!ctx.model.org.subOrgs)
    throw new OrgkitError('SUB_ORGS_DISABLED', `model "${ctx.model.name}" has no sub-organizations`)
  if (!ownerAt(ctx, actor, org.id))
    throw new OrgkitError('OWNER_REQUIRED', 'moving an organization needs an owner of it')
  if (parentId !== null) {
    requireOrg(ctx, actor, parentId)
    if (!ownerAt(ctx, actor, parentId))
      throw new OrgkitError('OWNER_REQUIRED', 'moving under an organization needs an owner of it too')
    await orgs.lockOrg(work.tx, parentId)
    if ((await orgs.subtreeIds(work.tx, org.id)).includes(parentId)) {
      throw new OrgkitError(
        'VALIDATION_FAILED',
        'an organization cannot move under itself or its own sub-organization',
        { field: 'parentId' },
      )
    }
  }
}

/**
 * The single-role-teams switch (seed 003). The first time it is turned on every team but the owners' is set
 * to the lowest level; per-member roles are never touched, so turning it off restores them exactly. Returns
 * the org's new switch fields.
 */
async function switchSingleRoleTeams(
  ctx: Ctx,
  actor: Actor,
  work: Work,
  org: orgs.OrgRow,
  enable: boolean,
): Promise<orgs.OrgPatch> {
  if (!ownerAt(ctx, actor, org.id))
    throw new OrgkitError('OWNER_REQUIRED', 'only owners switch single-role teams')
  const teamRows = await groups.listGroups(work.tx, org.id)
  const memberRows = await groups.membersOfGroups(
    work.tx,
    teamRows.map((t) => t.id),
  )
  const ownerGroups = new Set(
    (await bindings.listBindings(work.tx, { orgIds: [org.id], orgScopeOnly: true }))
      .filter((b) => b.group_id !== null && ctx.model.org.ownerRoles.includes(b.role))
      .map((b) => b.group_id!),
  )
  const plan = rules.planSingleRoleTeams({
    enable,
    current: org.single_role_teams,
    everEnabled: org.single_role_teams_ever,
    lowestRole: lowestTeamLevel(ctx),
    teams: teamRows.map((t) => ({
      id: t.id,
      role: t.role,
      isOwners: ownerGroups.has(t.id),
      members: memberRows
        .filter((m) => m.group_id === t.id)
        .map((m) => ({ userId: m.user_id, memberRole: m.member_role })),
    })),
  })
  for (const m of plan.memberRoles)
    work.apply(await groups.upsertGroupMember(work.tx, m.groupId, m.userId, m.memberRole))
  for (const t of plan.teamRoles) work.apply(await groups.updateGroup(work.tx, t.groupId, { role: t.role }))
  return { single_role_teams: plan.singleRoleTeams, single_role_teams_ever: plan.everEnabled }
}

/** The lowest team level (teams preset: read), else the lowest-priority role of the model. */
function lowestTeamLevel(ctx: Ctx): string {
  const levels = Object.entries(ctx.model.teamLevels ?? {})
  const rank = (roleKey: string | undefined) => (roleKey ? (ctx.model.roles[roleKey]?.priority ?? 0) : 0)
  if (levels.length > 0)
    return levels.sort(([, a], [, b]) => rank(Object.values(a)[0]) - rank(Object.values(b)[0]))[0]![0]
  return Object.entries(ctx.model.roles).sort(([, a], [, b]) => a.priority - b.priority)[0]![0]
}

/** Deletes the org and everything in it. Sub-orgs go first, explicitly: refuse while there are any. */
export async function deleteOrg(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.delete', { type: 'org', id: orgId })
    const before = await orgs.lockOrg(work.tx, orgId)
    if (!before) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
    if ((await orgs.childOrgIds(work.tx, orgId)).length > 0) {
      throw new OrgkitError('ORG_HAS_CHILDREN', 'delete or move the sub-organizations first', { orgId })
    }
    await work.watchOwners(orgId)
    const people = (await members.listMemberships(work.tx, [orgId])).map((m) => m.user_id)
    work.apply(await orgs.deleteOrg(work.tx, orgId))
    await keepEveryoneInAnOrg(work, ctx, actor, people)
    work.audit({
      orgId,
      action: 'org.deleted',
      targetType: 'org',
      targetId: orgId,
      before: toOrgView(before),
    })
    return null
  })
}

/**
 * Moves ownership: the new creator, an active member, gets the creator role; the old one keeps theirs
 * (they can step down afterwards, within the last-owner rule).
 */
export async function transferOrg(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  toUserId: string,
) {
  return seenBy(
    ctx,
    actor,
    await write(ctx, actor, meta, orgId, async (work) => {
      requireOrg(ctx, actor, orgId)
      authorize(ctx, actor, 'org.transfer', { type: 'org', id: orgId })
      const before = await orgs.lockOrg(work.tx, orgId)
      if (!before) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
      // Ownership moves only by the creator's own hand (SPEC 2): another super admin can't take it.
      if (
        actor.kind === 'user' &&
        (actor.keyId || (before.creator_id !== null && actor.userId !== before.creator_id))
      ) {
        throw new OrgkitError('CREATOR_ROLE_LOCKED', 'only the organization creator transfers it')
      }
      const membership = await members.findMembership(work.tx, orgId, toUserId)
      if (membership?.status !== 'active') {
        throw new OrgkitError('NOT_A_MEMBER', 'ownership goes to an active member', { userId: toUserId })
      }
      const owners = await members.activeOwnerIds(work.tx, orgId, ctx.model.org.ownerRoles)
      if (!owners.has(toUserId)) {
        // The creator role a model group holds (seed 003's Owners) is given by joining that group, beside
        // the member's own role; any other replaces their role in its slot.
        if (!groupHolding(ctx, ctx.model.org.creatorRole)) {
          const held = await bindings.listBindings(work.tx, {
            orgIds: [orgId],
            userId: toUserId,
            orgScopeOnly: true,
          })
          const creatorSlot = ctx.model.roles[ctx.model.org.creatorRole]!.slot
          const replaced = held.filter((b) => (ctx.model.roles[b.role]?.slot ?? null) === creatorSlot)
          work.apply(
            await bindings.deleteBindings(
              work.tx,
              replaced.map((b) => b.id),
            ),
          )
        }
        await giveOrgRoles(
          work,
          ctx,
          orgId,
          toUserId,
          [ctx.model.org.creatorRole],
          actorUserId(actor),
          'transfer',
        )
      }
      const row = work.apply(
        await orgs.updateOrg(work.tx, orgId, { creator_id: toUserId }, new Date(ctx.clock())),
      )
      work.audit({
        orgId,
        action: 'org.transferred',
        targetType: 'org',
        targetId: orgId,
        before: { creatorId: before.creator_id },
        after: { creatorId: toUserId },
      })
      return toOrgView(row)
    }),
  )
}
