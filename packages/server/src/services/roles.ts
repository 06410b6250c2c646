import { ORG, OrgkitError, rules, type Target } from '@orgkit/core'
import { bindings, customRoles, type Executor } from '@orgkit/store'
import {
  type Actor,
  actorFacts,
  authorize,
  type Ctx,
  can,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'
import { assertFeature } from './plan-limits.ts'
import { manageAccessTarget, visibleResource } from './resources.ts'

export interface RoleView {
  key: string
  scope: string
  slot: string
  label: string
  description: string
  permissions: string[]
  priority: number
  builtIn: boolean
  /** Asked for: whether the caller may give it at the scope asked about (seed 001's pickers). */
  grantable?: boolean
}

/** The model's built-in roles followed by the org's custom ones, highest priority first. */
export async function listRoles(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  options: { grantable?: boolean | undefined; resourceId?: string | undefined } = {},
): Promise<RoleView[]> {
  requireOrg(ctx, actor, orgId)
  const views = await allRoles(ctx, orgId)
  if (!options.grantable) return views
  const may = await grantableAt(ctx, actor, orgId, options.resourceId)
  return views.map((v) => ({ ...v, grantable: may(v.key) }))
}

/**
 * Which roles the actor may give at the org, or on one of its resources: those bound at that scope that
 * `rules.assertCanChangeRole` lets through (owner roles need an owner, nothing above one's own rank or
 * beyond one's own permissions), and none where the actor may not manage access at all.
 */
async function grantableAt(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  resourceId: string | undefined,
): Promise<(key: string) => boolean> {
  let scope: Target = { type: ORG, id: orgId }
  let manages = can(ctx, actor, 'org.update_user_roles', scope) || can(ctx, actor, 'org.invite_user', scope)
  if (resourceId !== undefined) {
    const resource = await visibleResource(ctx, actor, orgId, resourceId, ctx.db)
    scope = { type: resource.type, id: resource.id }
    const manage = manageAccessTarget(ctx, { ...resource, orgId })
    manages = can(ctx, actor, manage.permission, manage.target)
  }
  const facts = actorFacts(ctx, actor, scope)
  return (key) => {
    const role = ctx.engine.authorizer.role(key, orgId)
    if (!manages || !role || role.scope !== scope.type) return false
    try {
      rules.assertCanChangeRole(ctx.model, facts, null, role)
      return true
    } catch {
      return false
    }
  }
}

async function allRoles(ctx: Ctx, orgId: string): Promise<RoleView[]> {
  const builtIn = Object.entries(ctx.model.roles).map(([key, r]) => ({
    key,
    ...r,
    permissions: [...r.permissions],
    builtIn: true,
  }))
  const custom = await customRoles.listCustomRoles(ctx.db, orgId)
  return [
    ...builtIn,
    ...custom.map((r) => ({
      key: r.key,
      scope: r.scope,
      slot: r.slot,
      label: r.label,
      description: r.description,
      permissions: r.permissions,
      priority: r.priority,
      builtIn: false,
    })),
  ].sort((a, b) => b.priority - a.priority || a.key.localeCompare(b.key))
}

export interface RoleInput {
  key: string
  scope: string
  slot: string
  label: string
  description?: string | undefined
  permissions: string[]
  priority: number
}

/** Nobody defines a role holding permissions they lack, or ranking above their own. */
function checkDefinable(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  input: Omit<RoleInput, 'key'> & { key: string },
) {
  const probe = ctx.compiled.newRoleHandle(input.key, orgId)
  ctx.compiled.fillRole(probe, input.scope, input.slot, input.permissions, input.priority)
  rules.assertCanGrant(actorFacts(ctx, actor, { type: ORG, id: orgId }), input)
}

/** A custom role of the org, for editing; built-in roles are read-only. */
async function editableRole(ctx: Ctx, db: Executor, orgId: string, key: string) {
  if (ctx.model.roles[key]) throw new OrgkitError('FORBIDDEN', 'built-in roles are read-only', { role: key })
  const role = await customRoles.findCustomRole(db, orgId, key)
  if (!role) throw new OrgkitError('ROLE_NOT_FOUND', 'no such role', { role: key })
  return role
}

export async function createRole(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, input: RoleInput) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.update_user_roles', { type: ORG, id: orgId })
    await assertFeature(ctx, work, orgId, 'customRoles')
    if (ctx.model.roles[input.key] || input.key === 'team') {
      throw new OrgkitError('ALREADY_EXISTS', `"${input.key}" is a built-in role`, { field: 'key' })
    }
    checkDefinable(ctx, actor, orgId, input)
    if (await customRoles.findCustomRole(work.tx, orgId, input.key))
      throw new OrgkitError('ALREADY_EXISTS', `role "${input.key}" exists`, { field: 'key' })
    const { key, ...fields } = input
    const row = work.apply(
      await customRoles.insertCustomRole(work.tx, orgId, key, {
        ...fields,
        description: input.description ?? '',
      }),
    )
    work.audit({ orgId, action: 'role.created', targetType: 'role', targetId: row.key, after: input })
    return { ...input, description: row.description, builtIn: false }
  })
}

export async function updateRole(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  key: string,
  patch: Partial<Omit<RoleInput, 'key' | 'scope'>>,
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.update_user_roles', { type: ORG, id: orgId })
    const before = await editableRole(ctx, work.tx, orgId, key)
    const next = {
      key,
      scope: before.scope,
      slot: patch.slot ?? before.slot,
      label: patch.label ?? before.label,
      description: patch.description ?? before.description,
      permissions: patch.permissions ?? before.permissions,
      priority: patch.priority ?? before.priority,
    }
    // Editing reaches everyone holding it: the actor must be able to grant both the old and the new role.
    checkDefinable(ctx, actor, orgId, { ...before, key })
    checkDefinable(ctx, actor, orgId, next)
    const { key: _, scope: __, ...fields } = next
    work.apply(await customRoles.updateCustomRole(work.tx, orgId, key, fields))
    work.audit({ orgId, action: 'role.updated', targetType: 'role', targetId: key, before, after: next })
    return { ...next, builtIn: false }
  })
}

/**
 * Deletes a custom role. In use, the caller must say what happens to its bindings: `delete` them, or
 * `reassign` them to another role of the same scope.
 */
export async function deleteRole(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  key: string,
  options: { bindings?: 'delete' | 'reassign' | undefined; to?: string | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.update_user_roles', { type: ORG, id: orgId })
    const before = await editableRole(ctx, work.tx, orgId, key)
    checkDefinable(ctx, actor, orgId, { ...before, key })
    const target =
      options.bindings === 'reassign' ? ctx.engine.authorizer.role(options.to ?? '', orgId) : undefined
    if (options.bindings === 'reassign') {
      if (!target || target.scope !== before.scope || target.key === key) {
        throw new OrgkitError('VALIDATION_FAILED', 'reassign to another role of the same scope', {
          field: 'to',
        })
      }
      // As if granting the new role to everyone holding the old one: owner roles need an owner, and an
      // owner role never goes onto a binding that expires.
      rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, { type: ORG, id: orgId }), null, target)
      if (rules.isOwnerRole(ctx.model, target.key)) {
        const held = await bindings.listBindings(work.tx, { orgIds: [orgId], role: key })
        const expiring = held.some((b) => b.expires_at !== null)
        if (expiring)
          throw new OrgkitError(
            'OWNER_ROLE_NO_EXPIRY',
            `"${target.key}" is an owner role and some of these bindings expire`,
            { role: target.key },
          )
      }
    }
    const inUse = await bindings.listBindings(work.tx, { orgIds: [orgId], role: key })
    if (inUse.length > 0 && !options.bindings) {
      throw new OrgkitError(
        'ROLE_IN_USE',
        `"${key}" is held by ${inUse.length} binding(s): say whether to delete or reassign them`,
        { bindings: inUse.length },
      )
    }
    const ids = inUse.map((b) => b.id)
    if (target) work.apply(await bindings.setRole(work.tx, ids, target.key))
    else work.apply(await bindings.deleteBindings(work.tx, ids))
    work.apply(await customRoles.deleteCustomRole(work.tx, orgId, key))
    work.audit({
      orgId,
      action: 'role.deleted',
      targetType: 'role',
      targetId: key,
      before,
      after: { bindings: options.bindings ?? 'none', to: target?.key ?? null },
    })
    return null
  })
}
