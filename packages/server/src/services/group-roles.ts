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
import { bindings, type Executor, groups } from '@orgkit/store'
import { type Actor, actorFacts, actorUserId, type Ctx, type Work } from './context.ts'
import { groupHolding } from './joining.ts'
import { guardOwners } from './owners.ts'

/**
 * Issue 19.2, one source of truth per role. A group's "Organization role" (seed 001's groups) is the group's
 * org-scope binding: the role the group view shows and the access its members get are one fact, written
 * through the binding rules. The teams preset keeps a team's level in the group row instead (SPEC 1.3): it
 * is what the team's `team` bindings mean, not a grant of its own.
 */
export const levelsAreTeamLevels = (ctx: Ctx) => ctx.model.teamLevels !== undefined

/** The slot of organization roles (seed 001's "Organization role"): the default role's. */
const orgSlot = (ctx: Ctx) => ctx.model.roles[ctx.model.org.defaultRole]?.slot ?? ORG

/** Each group's organization role, from its org-scope bindings in the org slot. */
export async function groupOrgRoles(ctx: Ctx, db: Executor, orgId: string): Promise<Map<string, string>> {
  const rows = await bindings.listBindings(db, { orgIds: [orgId], orgScopeOnly: true })
  const roles = new Map<string, string>()
  for (const b of rows) {
    if (!b.group_id || b.role === TEAM_ROLE) continue
    const role = ctx.engine.authorizer.role(b.role, orgId)
    if (role?.slot === orgSlot(ctx)) roles.set(b.group_id, b.role)
  }
  return roles
}

/** Group views with `role` read from the bindings (all but the teams preset, whose `role` is the level). */
export async function withOrgRoles<T extends { id: string; role: string | null }>(
  ctx: Ctx,
  db: Executor,
  orgId: string,
  views: T[],
): Promise<T[]> {
  if (levelsAreTeamLevels(ctx)) return views
  const roles = await groupOrgRoles(ctx, db, orgId)
  return views.map((v) => ({ ...v, role: roles.get(v.id) ?? null }))
}

/**
 * A role a model group holds at the org (seed 002's ADMIN, seed 003's Owners) is held by being in that
 * group, and by nothing else: not a person's own binding beside it, nor another group's.
 */
export function assertNotModelGroupsRole(
  ctx: Ctx,
  principal: PrincipalRef,
  principalName: string | null,
  key: string,
  scope: Target,
) {
  const holder = scope.type === ORG ? groupHolding(ctx, key) : undefined
  if (!holder || (principal.type === 'group' && principalName === holder.name)) return
  throw new OrgkitError(
    'BUILT_IN_GROUP',
    `"${key}" is held by being in the ${holder.name} group: add them to it instead`,
    { role: key, group: holder.name },
  )
}

/**
 * Nobody edits or deletes a group holding a role above their own: every role the group's bindings give
 * (a team binding: the team's level) must be one the actor could take away at its scope.
 */
export async function assertMayEditGroup(
  ctx: Ctx,
  actor: Actor,
  tx: Executor,
  orgId: string,
  group: { id: string; role: string | null },
) {
  for (const b of await bindings.listBindings(tx, { orgIds: [orgId], groupId: group.id })) {
    const scope = { type: b.scope_type, id: b.resource_id ?? orgId }
    const key = b.role === TEAM_ROLE ? group.role : b.role
    const role = key ? ctx.engine.authorizer.role(ctx.compiled.teamRoleKey(key, b.scope_type), orgId) : null
    if (role) rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, scope), role, null)
  }
}

/**
 * Sets a group's organization role (null: none) by writing its org-scope binding in place — inserted,
 * changed or deleted — under the rules of granting and revoking it: rank, owner roles, the last owner.
 */
export async function setGroupOrgRole(
  ctx: Ctx,
  work: Work,
  actor: Actor,
  orgId: string,
  group: { id: string; name: string },
  key: string | null,
) {
  const scope = { type: ORG, id: orgId }
  let to: RoleHandle | null = null
  if (key !== null) {
    to = ctx.engine.authorizer.role(key, orgId) ?? null
    if (!to) throw new OrgkitError('UNKNOWN_ROLE', `unknown role "${key}"`, { field: 'role' })
    if (to.scope !== ORG || to.slot !== orgSlot(ctx))
      throw new OrgkitError('ROLE_SCOPE_MISMATCH', `"${key}" is not an organization role`, { field: 'role' })
    assertNotModelGroupsRole(ctx, { type: 'group', id: group.id }, group.name, key, scope)
  }
  const current = (
    await bindings.listBindings(work.tx, { orgIds: [orgId], groupId: group.id, orgScopeOnly: true })
  )
    .filter((b) => b.role !== TEAM_ROLE)
    .find((b) => ctx.engine.authorizer.role(b.role, orgId)?.slot === orgSlot(ctx))
  const from = current ? (ctx.engine.authorizer.role(current.role, orgId) ?? null) : null
  if ((from?.key ?? null) === key) return
  rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, scope), from, to)
  const owners = await guardOwners(ctx, work.tx, orgId)
  await work.watchOwners(orgId)
  if (current && key) work.apply(await bindings.setRole(work.tx, [current.id], key))
  else if (current) work.apply(await bindings.deleteBindings(work.tx, [current.id]))
  else if (key) {
    work.apply(
      await bindings.insertBinding(work.tx, {
        id: randomUUID(),
        orgId,
        userId: null,
        groupId: group.id,
        role: key,
        scopeType: ORG,
        resourceId: null,
        expiresAt: null,
        grantedBy: actorUserId(actor),
        reason: 'group role',
      }),
    )
  }
  await owners.after()
}

/** The model group's name, when a binding's group is one (its own role binding can't be changed apart). */
export async function modelGroupName(ctx: Ctx, tx: Executor, orgId: string, groupId: string | null) {
  if (!groupId) return null
  const group = await groups.findGroup(tx, orgId, groupId)
  return group && ctx.model.org.groups?.some((g) => g.name === group.name) ? group.name : null
}
