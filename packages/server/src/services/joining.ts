import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { bindings, type Executor, groups, members, orgs, scim, users } from '@orgkit/store'
import { type Actor, actorUserId, type Ctx, type Work } from './context.ts'
import { toOrgView } from './org-view.ts'

/**
 * How a person comes to belong to an org, and how an org comes to be: one path each, whoever takes it
 * (member add, invitation, org creation, sign-up's personal org, and later SSO and directory sync), so
 * every way in leaves the same membership, model groups, bindings, audit entry, webhook event and engine
 * changes. Callers authorize and check their own preconditions (seats, invitations) first.
 */

/** Why a person joined: kept on their role bindings (`reason`) and in the `member.added` entry. */
export type JoinedVia = 'creator' | 'added' | 'invitation' | 'directory' | 'domain' | 'sso'

export interface Joining {
  orgId: string
  userId: string
  /** Org-scope roles to grant, already validated for this org. */
  roles: readonly string[]
  grantedBy: string | null
  via: JoinedVia
}

/**
 * Makes the user an active member: the membership, the org's `everyone` groups ("by default, when joined,
 * they will have the DEFAULT role", seed 002), their org roles, and one `member.added` audit entry (which
 * is also the `member.added` webhook event).
 */
export async function joinOrg(work: Work, ctx: Ctx, joining: Joining): Promise<void> {
  const { orgId, userId } = joining
  // Roles held only through a model group (seed 003's Owners) come with the default role of one's own, so
  // leaving that group leaves a member, not a stranger (Gitea: an owner who leaves Owners stays a member).
  const defaultRole = ctx.model.org.defaultRole
  const roles =
    joining.roles.length > 0 &&
    joining.roles.every((r) => groupHolding(ctx, r)) &&
    !groupHolding(ctx, defaultRole)
      ? [...joining.roles, defaultRole]
      : joining.roles
  // The membership and the roles of one's own, in one statement; then the model groups one is in: the
  // org's `everyone` groups, and those holding a role given.
  const { own, holders } = byHolder(ctx, roles)
  const held = own.map((role) => orgRoleBinding(orgId, userId, role, joining.grantedBy, joining.via))
  work.apply(await members.upsertMembership(work.tx, orgId, userId, 'active', held))
  const everyone = (ctx.model.org.groups ?? []).filter((g) => g.members === 'everyone').map((g) => g.name)
  for (const group of await groups.findGroupsByName(work.tx, orgId, [...new Set([...everyone, ...holders])]))
    work.apply(await groups.upsertGroupMember(work.tx, group.id, userId, null))
  work.audit({
    orgId,
    action: 'member.added',
    targetType: 'user',
    targetId: userId,
    after: { roles: [...roles], via: joining.via },
  })
}

/**
 * Whether the org's directory deactivated this person (their SCIM record stands, their membership doesn't,
 * issue 21.3): only the directory brings them back, so no automatic way in — an SSO sign-in, a verified
 * domain — undoes the identity provider's decision. An admin's own add or invitation still may.
 */
export async function heldOutByDirectory(db: Executor, orgId: string, userId: string): Promise<boolean> {
  const record = await scim.findUserByUserId(db, orgId, userId)
  return record !== undefined && !record.active
}

/**
 * The model group that holds a role at every org (seed 002's ADMIN holds ADMIN, seed 003's Owners team
 * holds ownership), if any: such a role is held only by being in that group, never by a binding of one's
 * own beside it, so the group and the role can't disagree (issue 19.2).
 */
export const groupHolding = (ctx: Ctx, role: string) => ctx.model.org.groups?.find((g) => g.role === role)

/**
 * Gives a member org roles: a role a model group holds, by membership of that group; any other, by a
 * binding of their own (`grantOrgRoles`).
 */
export async function giveOrgRoles(
  work: Work,
  ctx: Ctx,
  orgId: string,
  userId: string,
  roles: readonly string[],
  grantedBy: string | null,
  reason: string | null,
): Promise<void> {
  const { own, holders } = byHolder(ctx, roles)
  for (const group of await groups.findGroupsByName(work.tx, orgId, holders))
    work.apply(await groups.upsertGroupMember(work.tx, group.id, userId, null))
  await grantOrgRoles(work, orgId, userId, own, grantedBy, reason)
}

/** Roles split by how they are held: by a binding of one's own, or as the names of the groups holding them. */
function byHolder(ctx: Ctx, roles: readonly string[]): { own: string[]; holders: string[] } {
  const own: string[] = []
  const holders: string[] = []
  for (const role of roles) {
    const group = groupHolding(ctx, role)
    if (group) holders.push(group.name)
    else own.push(role)
  }
  return { own, holders }
}

/**
 * Takes org roles from a member: a role a model group holds, by leaving that group (a group every member is
 * in keeps them: seed 002's DEFAULT is every account's); any other, by deleting their binding of it.
 */
export async function takeOrgRoles(
  work: Work,
  ctx: Ctx,
  orgId: string,
  userId: string,
  roles: readonly string[],
): Promise<void> {
  const names = roles.flatMap((r) => {
    const group = groupHolding(ctx, r)
    return group && group.members !== 'everyone' ? [group.name] : []
  })
  for (const group of await groups.findGroupsByName(work.tx, orgId, names))
    work.apply(await groups.deleteGroupMember(work.tx, group.id, userId))
  // A copy of a group's role as a binding of one's own, left by orgs made before issue 19.2, was folded into
  // the group by migration 0013: a group's role is only ever the group's.
  const own = roles.filter((r) => !groupHolding(ctx, r))
  work.apply(await bindings.deleteOrgRoleBindings(work.tx, orgId, userId, own))
}

/** Org-scope role bindings for a member (`reason`: why they were granted, kept on each binding). */
export async function grantOrgRoles(
  work: Work,
  orgId: string,
  userId: string,
  roles: readonly string[],
  grantedBy: string | null,
  reason: string | null,
): Promise<void> {
  // Built from the lock's now() and sent with the write's last statement (store's insertBinding).
  for (const role of roles)
    work.apply(
      await bindings.insertBinding(
        work.tx,
        orgRoleBinding(orgId, userId, role, grantedBy, reason),
        work.startedAt,
      ),
    )
}

/** A member's own binding of an org role (`reason`: why it was granted). */
export const orgRoleBinding = (
  orgId: string,
  userId: string,
  role: string,
  grantedBy: string | null,
  reason: string | null,
): bindings.NewBinding => ({
  id: randomUUID(),
  orgId,
  userId,
  groupId: null,
  role,
  scopeType: 'org',
  resourceId: null,
  expiresAt: null,
  grantedBy,
  reason,
})

/**
 * Creates an org with its model groups (seed 002's DEFAULT and ADMIN, seed 003's Owners), its `org.created`
 * entry, and its creator joined holding the model's creator role — through the model group that holds it
 * when there is one (the creator is in Owners, and that is their ownership).
 */
export async function foundOrg(
  work: Work,
  ctx: Ctx,
  input: { name: string; parentId: string | null; creatorId: string },
) {
  const id = randomUUID()
  const row = work.apply(
    await orgs.insertOrg(work.tx, {
      id,
      parentId: input.parentId,
      name: input.name,
      creatorId: input.creatorId,
    }),
  )
  work.audit({ orgId: id, action: 'org.created', targetType: 'org', targetId: id, after: toOrgView(row) })
  await createModelGroups(work, ctx, id, input.creatorId)
  await joinOrg(work, ctx, {
    orgId: id,
    userId: input.creatorId,
    roles: [ctx.model.org.creatorRole],
    grantedBy: input.creatorId,
    via: 'creator',
  })
  return row
}

/** The groups a model gives every org, bound to their role at it; the creator joins the `creator` ones. */
async function createModelGroups(work: Work, ctx: Ctx, orgId: string, creatorId: string): Promise<void> {
  for (const spec of ctx.model.org.groups ?? []) {
    const group = work.apply(
      await groups.insertGroup(work.tx, {
        id: randomUUID(),
        orgId,
        name: spec.name,
        description: '',
        role: null,
      }),
    )
    work.apply(
      await bindings.insertBinding(work.tx, {
        id: randomUUID(),
        orgId,
        userId: null,
        groupId: group.id,
        role: spec.role,
        scopeType: 'org',
        resourceId: null,
        expiresAt: null,
        grantedBy: creatorId,
        reason: 'model group',
      }),
    )
    if (spec.members === 'creator')
      work.apply(await groups.upsertGroupMember(work.tx, group.id, creatorId, null))
  }
}

/** The org sign-up makes where the model asks for one (seed 001, seed 004), owned by its person. */
export async function foundPersonalOrg(work: Work, ctx: Ctx, user: { id: string; name: string }) {
  return foundOrg(work, ctx, {
    name: `${user.name || 'My'}'s organization`.slice(0, 200),
    parentId: null,
    creatorId: user.id,
  })
}

/**
 * Seed 001, "every Capgo account belongs to at least one organization" (models that make a personal org at
 * sign-up). Called by a write that took memberships away — leaving, a removal, deleting an org — with the
 * accounts it took them from, once it has: an account now a member of no org either did it itself, and is
 * refused (`LAST_ORG`: create or join another org first, as Capgo offers no "Delete" on one's last org), or
 * had it done by someone else, and gets a new personal org, as at sign-up: nobody can keep their place in
 * an org by having nowhere else to go. Runs under the users' row locks (`usersInNoOrg`), so two writes
 * taking a person's last two orgs can't both see the other one left.
 */
export async function keepEveryoneInAnOrg(
  work: Work,
  ctx: Ctx,
  actor: Actor,
  userIds: readonly string[],
): Promise<void> {
  // Seed 004's stronger rule (every user owns an org, `everyUserOwnsAnOrg`) refuses such writes instead.
  if (!ctx.model.org.personalOrgOnSignup || ctx.model.org.everyUserOwnsAnOrg) return
  const orgless = await members.usersInNoOrg(work.tx, userIds)
  if (orgless.length === 0) return
  const self = actorUserId(actor)
  if (self !== null && orgless.includes(self)) {
    throw new OrgkitError(
      'LAST_ORG',
      'every account belongs to at least one organization: this is your last one, so create or join another first',
      { userId: self },
    )
  }
  for (const user of await users.listUsersByIds(work.tx, orgless)) await foundPersonalOrg(work, ctx, user)
}
