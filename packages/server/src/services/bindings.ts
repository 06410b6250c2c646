import { randomUUID } from 'node:crypto'
import {
  ORG,
  OrgkitError,
  type PrincipalRef,
  type RoleHandle,
  rules,
  type Target,
  TEAM_ROLE,
} from '@orgkit/core'
import { bindings, type Executor, groups, orgs } from '@orgkit/store'
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
import { assertNotModelGroupsRole, modelGroupName } from './group-roles.ts'
import { teamRoleAt } from './groups.ts'
import { groupHolding } from './joining.ts'
import { orgRole } from './members.ts'
import { guardOwners } from './owners.ts'
import { manageAccessTarget, visibleTarget } from './resources.ts'

export interface BindingView {
  id: string
  orgId: string
  principal: PrincipalRef
  role: string
  scope: Target
  expiresAt: string | null
  grantedBy: string | null
  reason: string | null
  createdAt: string
}

export const toBindingView = (row: bindings.BindingRow): BindingView => ({
  id: row.id,
  orgId: row.org_id,
  principal: row.user_id ? { type: 'user', id: row.user_id } : { type: 'group', id: row.group_id! },
  role: row.role,
  scope: { type: row.scope_type, id: row.resource_id ?? row.org_id },
  expiresAt: row.expires_at?.toISOString() ?? null,
  grantedBy: row.granted_by,
  reason: row.reason,
  createdAt: row.created_at.toISOString(),
})

export async function listBindings(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  filter: { userId?: string | undefined; groupId?: string | undefined; resourceId?: string | undefined },
): Promise<BindingView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_access', { type: ORG, id: orgId })
  const rows = await bindings.listBindings(ctx.db, {
    orgIds: [orgId],
    userId: filter.userId,
    groupId: filter.groupId,
    ...(filter.resourceId !== undefined && { resourceIds: [filter.resourceId] }),
  })
  return rows.map(toBindingView)
}

/** Where a binding lands and who may manage access there (in a write: the engine answers, no read). */
function scopeFor(ctx: Ctx, actor: Actor, orgId: string, resourceId: string | null | undefined) {
  if (!resourceId) {
    requireOrg(ctx, actor, orgId)
    return {
      scope: { type: ORG, id: orgId },
      manage: { permission: 'org.update_user_roles', target: { type: ORG, id: orgId } },
    }
  }
  const resource = visibleTarget(ctx, actor, orgId, resourceId)
  return {
    scope: { type: resource.type, id: resource.id },
    manage: manageAccessTarget(ctx, { id: resource.id, type: resource.type, orgId, chain: resource.chain }),
  }
}

/**
 * Seed 003's "Permissions" setting: on a resource type that has it, those who manage only the resource's
 * access (a repository admin) give teams access to it only when the org's setting allows. Org-level access
 * managers always may. Read under the org lock `write` holds, so a concurrent switch can't slip between.
 */
async function assertMayGiveTeamAccess(
  ctx: Ctx,
  actor: Actor,
  tx: Executor,
  orgId: string,
  principal: PrincipalRef,
  scope: Target,
) {
  if (principal.type !== 'group' || scope.type === ORG) return
  if (!ctx.model.resourceTypes[scope.type]?.teamAccessSetting) return
  if (can(ctx, actor, 'org.update_user_roles', { type: ORG, id: orgId })) return
  const org = await orgs.findOrg(tx, orgId)
  if (org?.resource_admins_grant_team_access) return
  throw new OrgkitError(
    'FORBIDDEN',
    `only organization owners give teams access to a ${scope.type} here: the organization doesn't let ${scope.type} admins do it`,
    { permission: 'org.update_user_roles', setting: 'resourceAdminsGrantTeamAccess' },
  )
}

/**
 * The role a binding will name, checked against the model: a role of the model or the org that binds at the
 * scope's type, or (null) the teams preset's `team` role, which only a group holds.
 */
function resolveGrant(
  ctx: Ctx,
  orgId: string,
  principal: PrincipalRef,
  key: string,
  scope: Target,
): RoleHandle | null {
  if (key !== TEAM_ROLE) return orgRole(ctx, orgId, key, scope.type)
  if (principal.type !== 'group')
    throw new OrgkitError('VALIDATION_FAILED', `only a group can hold "${TEAM_ROLE}"`, { field: 'role' })
  if (!ctx.model.teamLevels) {
    throw new OrgkitError('VALIDATION_FAILED', `model "${ctx.model.name}" has no team levels: bind a role`, {
      field: 'role',
    })
  }
  return null
}

/**
 * A team binding gives each member the team's role or their own (SPEC 1.3): every one of those must be a
 * role the actor may grant here, owner roles included.
 */
async function assertCanGiveTeamLevels(
  ctx: Ctx,
  tx: Executor,
  orgId: string,
  group: { id: string; role: string | null },
  scope: Target,
  facts: rules.ActorFacts,
) {
  const memberRoles = await groups.membersOfGroups(tx, [group.id])
  for (const key of new Set([group.role, ...memberRoles.map((m) => m.member_role)])) {
    if (key === null) continue
    const resolved = teamRoleAt(ctx, orgId, key, scope.type)
    if (!resolved)
      throw new OrgkitError('UNKNOWN_ROLE', `"${key}" means no role at ${scope.type}`, { field: 'role' })
    rules.assertCanChangeRole(ctx.model, facts, null, resolved)
  }
}

/** A model group's own role (ADMIN's ADMIN, the Owners team's ownership) is what the group is: it stays. */
async function assertNotModelGroupsOwnBinding(
  ctx: Ctx,
  tx: Executor,
  orgId: string,
  row: bindings.BindingRow,
) {
  const name = row.scope_type === ORG ? await modelGroupName(ctx, tx, orgId, row.group_id) : null
  if (name !== null && groupHolding(ctx, row.role)?.name === name) {
    throw new OrgkitError('BUILT_IN_GROUP', `"${name}" is built in: it keeps its role`, { role: row.role })
  }
}

/**
 * The principal's bindings at the scope, expired ones too. The engine's, with no read: inside the org's lock
 * it has caught up with every committed write, and a binding at the org or its resources is made or removed
 * only under that lock. Not in a joined write (config apply): its earlier steps are in the transaction, not
 * yet in the engine.
 */
async function heldAt(
  ctx: Ctx,
  tx: Executor,
  orgId: string,
  principal: PrincipalRef,
  scope: Target,
): Promise<{ id: string; role: string }[]> {
  if (!ctx.within) return ctx.engine.authorizer.bindingsAt(principal, scope)
  return await bindings.listBindings(tx, {
    orgIds: [orgId],
    ...(principal.type === 'user' ? { userId: principal.id } : { groupId: principal.id }),
    ...(scope.type === ORG ? { orgScopeOnly: true } : { resourceIds: [scope.id] }),
  })
}

/**
 * One role per single slot: the principal's other bindings at the scope, `except` the one being changed.
 * The only guard against a duplicate (bindings have no unique index): the org's lock serializes its writes.
 */
async function assertSlotAllows(
  ctx: Ctx,
  tx: Executor,
  orgId: string,
  principal: PrincipalRef,
  scope: Target,
  key: string,
  role: RoleHandle | null,
  except?: string,
) {
  const held = (await heldAt(ctx, tx, orgId, principal, scope)).filter((b) => b.id !== except)
  if (held.some((b) => b.role === key)) {
    throw new OrgkitError('ALREADY_EXISTS', `already holds "${key}" here`, { role: key })
  }
  if (role) {
    const sameSlot = held
      .filter((b) => ctx.engine.authorizer.role(b.role, orgId)?.slot === role.slot)
      .map((b) => b.role)
    rules.assertSlotFree(ctx.model, role.slot, sameSlot, role.key)
  }
}

/**
 * Grants a role to a user or group at the org or on a resource. A user bound on a resource without being
 * a member becomes an external account (seed 002); org roles need a membership.
 */
export async function createBinding(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: {
    principal: PrincipalRef
    role: string
    resourceId?: string | null | undefined
    expiresAt?: string | null | undefined
    reason?: string | null | undefined
  },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const { scope, manage } = scopeFor(ctx, actor, orgId, input.resourceId)
    authorize(ctx, actor, manage.permission, manage.target)
    await assertMayGiveTeamAccess(ctx, actor, work.tx, orgId, input.principal, scope)
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null
    if (expiresAt && expiresAt.getTime() <= ctx.clock()) {
      throw new OrgkitError('VALIDATION_FAILED', 'expiresAt must be in the future', { field: 'expiresAt' })
    }
    const facts = actorFacts(ctx, actor, scope)
    const role = resolveGrant(ctx, orgId, input.principal, input.role, scope)
    if (role) {
      rules.assertOwnerRoleHasNoExpiry(ctx.model, role.key, expiresAt?.getTime())
      rules.assertCanChangeRole(ctx.model, facts, null, role)
    }
    // The org's row is locked already: `write` takes it before the body runs.
    let groupName: string | null = null
    // The group's id as the database spells it (a uuid's case is the request's): the binding's row is built
    // here, not read back (`insertBinding`), and the engine knows the group by this spelling.
    let groupId: string | null = null
    if (input.principal.type === 'user') {
      // The engine has every user and caught up inside the org's lock (a later delete fails the foreign key).
      if (!ctx.engine.authorizer.hasUser(input.principal.id)) {
        throw new OrgkitError('USER_NOT_FOUND', 'no such user', { userId: input.principal.id })
      }
      // So is every membership (made only by joinOrg, under its org's lock).
      if (scope.type === ORG && ctx.engine.authorizer.membership(orgId, input.principal.id) === null) {
        throw new OrgkitError('NOT_A_MEMBER', 'org roles go to members: invite them first', {
          userId: input.principal.id,
        })
      }
    } else {
      const group = await groups.findGroup(work.tx, orgId, input.principal.id)
      if (!group) throw new OrgkitError('GROUP_NOT_FOUND', 'no such group', { groupId: input.principal.id })
      if (role === null) await assertCanGiveTeamLevels(ctx, work.tx, orgId, group, scope, facts)
      groupName = group.name
      groupId = group.id
    }
    assertNotModelGroupsRole(ctx, input.principal, groupName, input.role, scope)
    await assertSlotAllows(ctx, work.tx, orgId, input.principal, scope, input.role, role)
    const row = work.apply(
      await bindings.insertBinding(
        work.tx,
        {
          id: randomUUID(),
          orgId,
          userId: input.principal.type === 'user' ? input.principal.id : null,
          groupId,
          role: input.role,
          scopeType: scope.type,
          resourceId: scope.type === ORG ? null : scope.id,
          expiresAt,
          grantedBy: actorUserId(actor),
          reason: input.reason ?? null,
        },
        work.startedAt,
      ),
    )
    work.audit({
      orgId,
      action: 'binding.created',
      targetType: 'binding',
      targetId: row.id,
      after: toBindingView(row),
    })
    return toBindingView(row)
  })
}

/** Revokes a binding, under the owner, creator, rank and last-owner rules. */
export async function deleteBinding(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const existing = await bindings.findBinding(work.tx, orgId, id)
    if (!existing) throw new OrgkitError('BINDING_NOT_FOUND', 'no such binding', { bindingId: id })
    const { scope, manage } = scopeFor(ctx, actor, orgId, existing.resource_id)
    authorize(ctx, actor, manage.permission, manage.target)
    await assertMayGiveTeamAccess(ctx, actor, work.tx, orgId, toBindingView(existing).principal, scope)
    const facts = actorFacts(ctx, actor, scope)
    rules.assertCanChangeRole(
      ctx.model,
      facts,
      ctx.engine.authorizer.role(existing.role, orgId) ?? null,
      null,
    )
    // `write` locked the org's row before the body ran: the binding read above is current.
    const org = work.org
    const row = existing
    if (!org) throw new OrgkitError('BINDING_NOT_FOUND', 'no such binding', { bindingId: id })
    await assertNotModelGroupsOwnBinding(ctx, work.tx, orgId, row)
    if (row.user_id && row.scope_type === ORG)
      rules.assertNotCreatorsRole({ creatorId: org.creator_id }, facts.id, row.user_id)
    // A user's owner role or a group's (the Owners team's): the org keeps an owner either way.
    const owners = row.scope_type === ORG ? await guardOwners(ctx, work.tx, orgId) : null
    if (row.scope_type === ORG) await work.watchOwners(orgId)
    work.apply(await bindings.deleteBindings(work.tx, [id]))
    await owners?.after(row.user_id)
    work.audit({
      orgId,
      action: 'binding.deleted',
      targetType: 'binding',
      targetId: id,
      before: toBindingView(row),
    })
    return null
  })
}

/**
 * Changes a binding's role in place (seed 001's wrench on the Access tab): one write, so there is never a
 * moment with two roles or none, under every rule a revoke and a grant would meet — rank on both sides,
 * owner roles need an owner, the creator's role, the last owner, one role per slot, the role's scope, and
 * who may give teams access. Same id, principal, scope and expiry; one `binding.updated` entry.
 */
export async function updateBindingRole(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  input: { role: string },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const org = work.org
    const row = await bindings.findBinding(work.tx, orgId, id)
    if (!row || !org) throw new OrgkitError('BINDING_NOT_FOUND', 'no such binding', { bindingId: id })
    const before = toBindingView(row)
    const { scope, manage } = scopeFor(ctx, actor, orgId, row.resource_id)
    authorize(ctx, actor, manage.permission, manage.target)
    await assertMayGiveTeamAccess(ctx, actor, work.tx, orgId, before.principal, scope)
    if (input.role === row.role) return before
    await assertNotModelGroupsOwnBinding(ctx, work.tx, orgId, row)
    assertNotModelGroupsRole(
      ctx,
      before.principal,
      await modelGroupName(ctx, work.tx, orgId, row.group_id),
      input.role,
      scope,
    )
    const facts = actorFacts(ctx, actor, scope)
    const from = ctx.engine.authorizer.role(row.role, orgId) ?? null
    const to = resolveGrant(ctx, orgId, before.principal, input.role, scope)
    if (to) rules.assertOwnerRoleHasNoExpiry(ctx.model, to.key, row.expires_at?.getTime())
    rules.assertCanChangeRole(ctx.model, facts, from, to)
    if (row.user_id && scope.type === ORG)
      rules.assertNotCreatorsRole({ creatorId: org.creator_id }, facts.id, row.user_id)
    if (row.group_id && to === null) {
      const group = await groups.findGroup(work.tx, orgId, row.group_id)
      if (group) await assertCanGiveTeamLevels(ctx, work.tx, orgId, group, scope, facts)
    }
    await assertSlotAllows(ctx, work.tx, orgId, before.principal, scope, input.role, to, id)
    const owners = scope.type === ORG ? await guardOwners(ctx, work.tx, orgId) : null
    if (scope.type === ORG) await work.watchOwners(orgId)
    const [changed] = work.apply(await bindings.setRole(work.tx, [id], input.role))
    await owners?.after(row.user_id)
    const after = toBindingView(changed!)
    work.audit({ orgId, action: 'binding.updated', targetType: 'binding', targetId: id, before, after })
    return after
  })
}
