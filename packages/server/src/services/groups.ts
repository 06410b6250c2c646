import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, rules, TEAM_ROLE } from '@orgkit/core'
import { bindings, type Executor, groups, members, orgs, scim, type Tx } from '@orgkit/store'
import {
  type Actor,
  actorFacts,
  actorUserId,
  authorize,
  type Ctx,
  can,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'
import { assertMayEditGroup, levelsAreTeamLevels, setGroupOrgRole, withOrgRoles } from './group-roles.ts'
import { guardOwners } from './owners.ts'

export interface GroupView {
  id: string
  orgId: string
  name: string
  description: string
  role: string | null
  createdAt: string
  /** `directory`: the org's SCIM directory sets its name and members (issue 21.3); roles are the admins'. */
  managedBy: 'directory' | null
}

const toView = (row: groups.GroupRow): GroupView => ({
  id: row.id,
  orgId: row.org_id,
  name: row.name,
  description: row.description,
  role: row.role,
  createdAt: row.created_at.toISOString(),
  managedBy: null,
})

/** Says which of the views are groups the org's directory manages. */
async function withManagedBy<T extends GroupView>(db: Executor, views: T[]): Promise<T[]> {
  const managed = await scim.directoryGroupIds(
    db,
    views.map((v) => v.id),
  )
  return views.map((v) => ({ ...v, managedBy: managed.has(v.id) ? 'directory' : null }))
}

/**
 * A directory group's name and members are the directory's (it would undo any other change at its next
 * sync): refused here with DIRECTORY_MANAGED. Its roles and description stay the org admins' to set.
 */
async function assertNotDirectoryManaged(db: Executor, groupId: string, what: string) {
  if ((await scim.directoryGroupIds(db, [groupId])).size > 0)
    throw new OrgkitError(
      'DIRECTORY_MANAGED',
      `the organization's directory manages this group: ${what} there`,
      {
        groupId,
      },
    )
}

/** A group the model gives every org (seed 002's DEFAULT and ADMIN, seed 003's Owners team). */
const builtIn = (ctx: Ctx, group: { name: string }) =>
  ctx.model.org.groups?.find((g) => g.name === group.name)

/**
 * A built-in group that holds an owner role (the Owners team, seed 002's ADMIN) keeps at least one member:
 * refuses a change that would take the last one of these groups' members away.
 */
export async function assertOwnerGroupsKeepAMember(
  ctx: Ctx,
  tx: Executor,
  orgIds: readonly string[],
  leaving: string,
  onlyGroupId?: string,
) {
  const guarded = (ctx.model.org.groups ?? []).filter((g) => ctx.model.org.ownerRoles.includes(g.role))
  if (guarded.length === 0 || orgIds.length === 0) return
  const [last] = await groups.groupsWhereOnlyMember(tx, {
    orgIds,
    names: guarded.map((g) => g.name),
    userId: leaving,
    groupId: onlyGroupId,
  })
  if (last) {
    throw new OrgkitError('LAST_OWNER', `the ${last.name} group keeps at least one member`, {
      groupId: last.id,
      userId: leaving,
    })
  }
}

async function findGroup(db: Executor, orgId: string, id: string) {
  const row = await groups.findGroup(db, orgId, id)
  if (!row) throw new OrgkitError('GROUP_NOT_FOUND', 'no such group', { groupId: id })
  return row
}

/**
 * The role a team role (SPEC 1.3) means at a scope type: a level of the model's `teamLevels` (seed 003's
 * Read / Write / Admin), or a role of the model or the org.
 */
export function teamRoleAt(ctx: Ctx, orgId: string, key: string, scopeType: string) {
  return ctx.engine.authorizer.role(ctx.compiled.teamRoleKey(key, scopeType), orgId)
}

/**
 * The roles a group's bindings give one member, resolved as the engine will (a `team` binding through the
 * org's single-role switch, the member's own role and the team's levels). Used to keep every change of
 * group membership under the same rules as granting or revoking those roles directly.
 */
export async function rolesGiven(
  ctx: Ctx,
  tx: Tx,
  orgId: string,
  group: { id: string; role: string | null },
  memberRole: string | null,
) {
  const org = (await orgs.findOrg(tx, orgId))!
  const rows = await bindings.listBindings(tx, { orgIds: [orgId], groupId: group.id })
  return rows.flatMap((b) => {
    const key =
      b.role === TEAM_ROLE ? (org.single_role_teams ? group.role : (memberRole ?? group.role)) : b.role
    const role = key ? teamRoleAt(ctx, orgId, key, b.scope_type) : undefined
    return role ? [{ role, scope: { type: b.scope_type, id: b.resource_id ?? orgId } }] : []
  })
}

/** Taking these roles away from someone: owner roles need an owner, and none may outrank the actor. */
function assertCanRevokeAll(ctx: Ctx, actor: Actor, given: Awaited<ReturnType<typeof rolesGiven>>) {
  for (const { role, scope } of given)
    rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, scope), role, null)
}

/**
 * A team role must be a team level or a role of the model or the org, and never an owner role: ownership is
 * the Owners team's (seed 003), held through a binding every owner question reads (issue 19.2).
 */
function checkTeamRole(ctx: Ctx, orgId: string, role: string | null | undefined) {
  const isLevel = role != null && Object.hasOwn(ctx.model.teamLevels ?? {}, role)
  if (role != null && !isLevel && !ctx.engine.authorizer.role(role, orgId)) {
    throw new OrgkitError('UNKNOWN_ROLE', `unknown role "${role}"`, { field: 'role' })
  }
  if (rules.isOwnerRole(ctx.model, role)) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `"${role}" is ownership: it is held through the owners' group`,
      {
        field: 'role',
      },
    )
  }
}

/** A team's level reaches every member through its team bindings: the actor must be able to grant it. */
function assertMayGiveTeamLevel(ctx: Ctx, actor: Actor, orgId: string, level: string | null | undefined) {
  checkTeamRole(ctx, orgId, level)
  const role = level ? teamRoleAt(ctx, orgId, level, ORG) : undefined
  if (role) rules.assertCanGrant(actorFacts(ctx, actor, { type: ORG, id: orgId }), role)
}

export async function listGroups(ctx: Ctx, actor: Actor, orgId: string): Promise<GroupView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_members', { type: ORG, id: orgId })
  return withManagedBy(
    ctx.db,
    await withOrgRoles(ctx, ctx.db, orgId, (await groups.listGroups(ctx.db, orgId)).map(toView)),
  )
}

export async function getGroup(ctx: Ctx, actor: Actor, orgId: string, id: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_members', { type: ORG, id: orgId })
  const row = await findGroup(ctx.db, orgId, id)
  const memberRows = await groups.listGroupMembers(ctx.db, id)
  const suspended = await memberRolesSuspended(ctx, ctx.db, orgId)
  const [view] = await withManagedBy(ctx.db, await withOrgRoles(ctx, ctx.db, orgId, [toView(row)]))
  return {
    ...view!,
    members: memberRows.map((m) => ({
      userId: m.user_id,
      email: m.email,
      name: m.name,
      memberRole: m.member_role,
      // Seed 003: with single-role teams on, every member has the team's level; their own is kept, unused.
      memberRoleSuspended: suspended,
      effectiveRole: suspended ? row.role : (m.member_role ?? row.role),
    })),
  }
}

/** Seed 003's single-role teams: while on, per-member levels are suspended (kept, shown, not editable). */
async function memberRolesSuspended(ctx: Ctx, db: Executor, orgId: string): Promise<boolean> {
  if (!ctx.model.teamLevels) return false
  return (await orgs.findOrg(db, orgId))?.single_role_teams === true
}

/** The team level ranked highest (seed 003's Admin), by the priority of the role it means at the org. */
function topTeamLevel(ctx: Ctx, orgId: string): string | null {
  let top: { level: string; priority: number } | null = null
  for (const level of Object.keys(ctx.model.teamLevels ?? {})) {
    const priority = teamRoleAt(ctx, orgId, level, ORG)?.priority ?? -1
    if (top === null || priority > top.priority) top = { level, priority }
  }
  return top?.level ?? null
}

/**
 * Seed 003: "team administrators set different permission levels for individual members within the team":
 * a member of this team holding its top level (Admin), in person (not through an API key).
 */
async function isTeamAdmin(ctx: Ctx, tx: Tx, orgId: string, group: groups.GroupRow, actor: Actor) {
  const userId = actorUserId(actor)
  if (userId === null || (actor.kind === 'user' && actor.keyId)) return false
  const top = topTeamLevel(ctx, orgId)
  const mine = await groups.findGroupMember(tx, group.id, userId)
  if (top === null || !mine) return false
  const suspended = await memberRolesSuspended(ctx, tx, orgId)
  return (suspended ? group.role : (mine.member_role ?? group.role)) === top
}

export async function createGroup(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { name: string; description?: string | undefined; role?: string | null | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    // Teams (seed 003): the role is the team's level. Elsewhere it is the group's organization role, a
    // binding written under the grant rules: nobody creates a group holding a role above their own.
    const levels = levelsAreTeamLevels(ctx)
    if (levels) assertMayGiveTeamLevel(ctx, actor, orgId, input.role)
    const row = work.apply(
      await groups.insertGroup(work.tx, {
        id: randomUUID(),
        orgId,
        name: input.name,
        description: input.description ?? '',
        role: levels ? (input.role ?? null) : null,
      }),
    )
    if (!levels && input.role) await setGroupOrgRole(ctx, work, actor, orgId, row, input.role)
    const [view] = await withOrgRoles(ctx, work.tx, orgId, [toView(row)])
    work.audit({ orgId, action: 'group.created', targetType: 'group', targetId: row.id, after: view })
    return view!
  })
}

export async function updateGroup(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  patch: { name?: string | undefined; description?: string | undefined; role?: string | null | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    const levels = levelsAreTeamLevels(ctx)
    const before = await findGroup(work.tx, orgId, id)
    // Nobody edits a group holding a role above their own.
    await assertMayEditGroup(ctx, actor, work.tx, orgId, before)
    if (patch.name !== undefined && patch.name !== before.name)
      await assertNotDirectoryManaged(work.tx, id, 'rename it')
    if (patch.name !== undefined && patch.name !== before.name && builtIn(ctx, before)) {
      throw new OrgkitError('BUILT_IN_GROUP', `"${before.name}" is built in: it keeps its name`, {
        field: 'name',
      })
    }
    const [beforeView] = await withOrgRoles(ctx, work.tx, orgId, [toView(before)])
    if (levels && patch.role != null && patch.role !== before.role)
      // The team's role reaches every member through its team bindings: the actor must be able to grant it.
      assertMayGiveTeamLevel(ctx, actor, orgId, patch.role)
    if (!levels && patch.role !== undefined && patch.role !== beforeView!.role) {
      if (builtIn(ctx, before))
        throw new OrgkitError('BUILT_IN_GROUP', `"${before.name}" is built in: it keeps its role`, {
          field: 'role',
        })
      await setGroupOrgRole(ctx, work, actor, orgId, before, patch.role)
    }
    const row = work.apply(
      await groups.updateGroup(work.tx, id, {
        name: patch.name ?? before.name,
        ...(patch.description !== undefined && { description: patch.description }),
        ...(levels && patch.role !== undefined && { role: patch.role }),
      }),
    )
    const [after] = await withManagedBy(work.tx, await withOrgRoles(ctx, work.tx, orgId, [toView(row)]))
    work.audit({
      orgId,
      action: 'group.updated',
      targetType: 'group',
      targetId: id,
      before: beforeView,
      after,
    })
    return after!
  })
}

export async function deleteGroup(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    const before = await findGroup(work.tx, orgId, id)
    if (builtIn(ctx, before))
      throw new OrgkitError('BUILT_IN_GROUP', `"${before.name}" is built in: every organization keeps it`)
    await assertNotDirectoryManaged(work.tx, id, 'delete it')
    await assertMayEditGroup(ctx, actor, work.tx, orgId, before)
    // Deleting a group takes its roles from every member: the actor must be able to take each away.
    const memberRows = await groups.membersOfGroups(work.tx, [id])
    for (const m of memberRows)
      assertCanRevokeAll(ctx, actor, await rolesGiven(ctx, work.tx, orgId, before, m.member_role))
    const owners = await guardOwners(ctx, work.tx, orgId)
    work.apply(await groups.deleteGroup(work.tx, id))
    await owners.after()
    work.audit({ orgId, action: 'group.deleted', targetType: 'group', targetId: id, before: toView(before) })
    return null
  })
}

/**
 * Adds a member to a group (or sets their per-member role). Joining grants what the group's bindings give,
 * so the actor must be able to grant each of those roles at its scope (no escalation through groups).
 */
export async function putGroupMember(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  groupId: string,
  userId: string,
  input: { memberRole?: string | null | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    const group = await findGroup(work.tx, orgId, groupId)
    const existing = await groups.findGroupMember(work.tx, groupId, userId)
    if (!existing) await assertNotDirectoryManaged(work.tx, groupId, 'add people')
    // A team admin sets the levels of their own team's members; adding people takes org.manage_groups.
    const teamAdmin =
      existing !== undefined &&
      !can(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId }) &&
      (await isTeamAdmin(ctx, work.tx, orgId, group, actor))
    if (!teamAdmin) authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    checkTeamRole(ctx, orgId, input.memberRole)
    // Single-role teams on: a member's own level is suspended, kept for when the switch goes off again
    // (seed 003's worked example), and can't be set meanwhile.
    const kept = existing?.member_role ?? null
    if (await memberRolesSuspended(ctx, work.tx, orgId)) {
      if (input.memberRole !== undefined && input.memberRole !== kept)
        throw new OrgkitError(
          'MEMBER_ROLES_SUSPENDED',
          "single-role teams are on: every member has the team's level; turn them off to set members' own",
          { field: 'memberRole' },
        )
      input = { memberRole: kept }
    }
    // Joining (or a new per-member role) grants what the group's bindings give: the actor must be able to
    // grant each; a role the member loses must be one the actor may take away.
    const after = await rolesGiven(ctx, work.tx, orgId, group, input.memberRole ?? null)
    const before = existing ? await rolesGiven(ctx, work.tx, orgId, group, existing.member_role) : []
    for (const { role, scope } of after) {
      if (!before.some((b) => b.role === role && b.scope.id === scope.id)) {
        rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, scope), null, role)
      }
    }
    assertCanRevokeAll(
      ctx,
      actor,
      before.filter((b) => !after.some((a) => a.role === b.role && a.scope.id === b.scope.id)),
    )
    const membership = await members.findMembership(work.tx, orgId, userId)
    if (!membership)
      throw new OrgkitError('NOT_A_MEMBER', 'groups hold members of their organization', { userId })
    work.apply(await groups.upsertGroupMember(work.tx, groupId, userId, input.memberRole ?? null))
    work.audit({
      orgId,
      action: 'group.member_set',
      targetType: 'group',
      targetId: groupId,
      after: { userId, memberRole: input.memberRole ?? null },
    })
    return { groupId, userId, memberRole: input.memberRole ?? null }
  })
}

export async function removeGroupMember(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  groupId: string,
  userId: string,
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    const group = await findGroup(work.tx, orgId, groupId)
    await assertNotDirectoryManaged(work.tx, groupId, 'take people out')
    const existing = await groups.findGroupMember(work.tx, groupId, userId)
    const given = existing ? await rolesGiven(ctx, work.tx, orgId, group, existing.member_role) : []
    assertCanRevokeAll(ctx, actor, given)
    // Leaving a group that gives an org role changes that org role: the creator's is theirs alone to change.
    const org = (await orgs.findOrg(work.tx, orgId))!
    if (given.some((g) => g.scope.type === ORG))
      rules.assertNotCreatorsRole(
        { creatorId: org.creator_id },
        actorFacts(ctx, actor, { type: ORG, id: orgId }).id,
        userId,
      )
    await assertOwnerGroupsKeepAMember(ctx, work.tx, [orgId], userId, groupId)
    // Ownership held through this group (the Owners team) goes with it: the org keeps an owner.
    const owners = await guardOwners(ctx, work.tx, orgId)
    await work.watchOwners(orgId)
    if (!work.apply(await groups.deleteGroupMember(work.tx, groupId, userId))) {
      throw new OrgkitError('MEMBER_NOT_FOUND', 'not in this group', { userId })
    }
    await owners.after(userId)
    work.audit({
      orgId,
      action: 'group.member_removed',
      targetType: 'group',
      targetId: groupId,
      before: { userId },
    })
    return null
  })
}
