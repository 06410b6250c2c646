import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, rules, TEAM_ROLE } from '@orgkit/core'
import { bindings, type Executor, groups, members } from '@orgkit/store'
import {
  type Actor,
  actorFacts,
  authorize,
  type Ctx,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

export interface GroupView {
  id: string
  orgId: string
  name: string
  description: string
  role: string | null
  createdAt: string
}

const toView = (row: groups.GroupRow): GroupView => ({
  id: row.id,
  orgId: row.org_id,
  name: row.name,
  description: row.description,
  role: row.role,
  createdAt: row.created_at.toISOString(),
})

async function findGroup(db: Executor, orgId: string, id: string) {
  const row = await groups.findGroup(db, orgId, id)
  if (!row) throw new OrgkitError('GROUP_NOT_FOUND', 'no such group', { groupId: id })
  return row
}

/** A team role (SPEC 1.3) must name a role of the model or the org. */
function checkTeamRole(ctx: Ctx, orgId: string, role: string | null | undefined) {
  if (role != null && !ctx.engine.authorizer.role(role, orgId)) {
    throw new OrgkitError('UNKNOWN_ROLE', `unknown role "${role}"`, { field: 'role' })
  }
}

export async function listGroups(ctx: Ctx, actor: Actor, orgId: string): Promise<GroupView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_members', { type: ORG, id: orgId })
  return (await groups.listGroups(ctx.db, orgId)).map(toView)
}

export async function getGroup(ctx: Ctx, actor: Actor, orgId: string, id: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_members', { type: ORG, id: orgId })
  const row = await findGroup(ctx.db, orgId, id)
  const memberRows = await groups.listGroupMembers(ctx.db, id)
  return {
    ...toView(row),
    members: memberRows.map((m) => ({
      userId: m.user_id,
      email: m.email,
      name: m.name,
      memberRole: m.member_role,
    })),
  }
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
    checkTeamRole(ctx, orgId, input.role)
    const row = await groups.insertGroup(work.tx, {
      id: randomUUID(),
      orgId,
      name: input.name,
      description: input.description ?? '',
      role: input.role ?? null,
    })
    work.change({ op: 'group.put', group: { id: row.id, orgId, role: row.role } })
    work.audit({ orgId, action: 'group.created', targetType: 'group', targetId: row.id, after: toView(row) })
    return toView(row)
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
    checkTeamRole(ctx, orgId, patch.role)
    const before = await findGroup(work.tx, orgId, id)
    if (patch.role != null && patch.role !== before.role) {
      // The team's role reaches every member through its team bindings: the actor must be able to grant it.
      rules.assertCanGrant(
        actorFacts(ctx, actor, { type: ORG, id: orgId }),
        ctx.engine.authorizer.role(patch.role, orgId)!,
      )
    }
    const row = await groups.updateGroup(work.tx, id, {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.role !== undefined && { role: patch.role }),
    })
    work.change({ op: 'group.put', group: { id, orgId, role: row.role } })
    work.audit({
      orgId,
      action: 'group.updated',
      targetType: 'group',
      targetId: id,
      before: toView(before),
      after: toView(row),
    })
    return toView(row)
  })
}

export async function deleteGroup(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    const before = await findGroup(work.tx, orgId, id)
    await groups.deleteGroup(work.tx, id)
    work.change({ op: 'group.delete', id })
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
    authorize(ctx, actor, 'org.manage_groups', { type: ORG, id: orgId })
    checkTeamRole(ctx, orgId, input.memberRole)
    const group = await findGroup(work.tx, orgId, groupId)
    const groupBindings = await bindings.listBindings(work.tx, { orgIds: [orgId], groupId })
    const grants = groupBindings.flatMap((b) => {
      const key = b.role === TEAM_ROLE ? (input.memberRole ?? group.role) : b.role
      const role = key ? ctx.engine.authorizer.role(key, orgId) : undefined
      const scope = { type: b.scope_type, id: b.resource_id ?? orgId }
      return role ? [{ role, actorAtScope: actorFacts(ctx, actor, scope) }] : []
    })
    rules.assertCanAddToGroup(grants)
    const membership = await members.findMembership(work.tx, orgId, userId)
    if (!membership)
      throw new OrgkitError('NOT_A_MEMBER', 'groups hold members of their organization', { userId })
    await groups.upsertGroupMember(work.tx, groupId, userId, input.memberRole ?? null)
    work.change({ op: 'groupMember.put', member: { groupId, userId, memberRole: input.memberRole ?? null } })
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
    await findGroup(work.tx, orgId, groupId)
    if (!(await groups.deleteGroupMember(work.tx, groupId, userId))) {
      throw new OrgkitError('MEMBER_NOT_FOUND', 'not in this group', { userId })
    }
    work.change({ op: 'groupMember.delete', groupId, userId })
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
