import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, type PrincipalRef, rules } from '@orgkit/core'
import { type Executor, groups, overrides, resources, users } from '@orgkit/store'
import { type Actor, actorFacts, authorize, type Ctx, can, type RequestMeta, write } from './context.ts'
import { manageAccessTarget, visibleResource } from './resources.ts'

export interface OverrideView {
  resourceId: string
  principal: PrincipalRef
  permission: string
  effect: 'allow' | 'deny'
}

async function managed(ctx: Ctx, actor: Actor, orgId: string, resourceId: string, db: Executor) {
  // No org-level gate: an external account managing its app reaches it through the resource alone.
  const resource = await visibleResource(ctx, actor, orgId, resourceId, db)
  return {
    resource,
    manage: manageAccessTarget(ctx, { id: resource.id, type: resource.type, orgId, chain: resource.chain }),
  }
}

/** The overrides on a resource and on the resources directly below it (an app's channels). */
export async function listOverrides(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  resourceId: string,
): Promise<OverrideView[]> {
  const { manage } = await managed(ctx, actor, orgId, resourceId, ctx.db)
  if (!can(ctx, actor, 'org.read_access', { type: ORG, id: orgId }))
    authorize(ctx, actor, manage.permission, manage.target)
  const scope = new Set([resourceId, ...(await resources.childResourceIds(ctx.db, orgId, resourceId))])
  const rows = await overrides.listOverrides(ctx.db, { orgIds: [orgId] })
  return rows
    .filter((o) => scope.has(o.resource_id))
    .map((o) => ({
      resourceId: o.resource_id,
      principal: o.user_id ? { type: 'user', id: o.user_id } : { type: 'group', id: o.group_id! },
      permission: o.permission,
      effect: o.effect,
    }))
}

/**
 * Sets one override (seed 001's channel-permissions modal): allow, deny, or default (removes it). Allowing
 * needs the permission yourself.
 */
export async function putOverride(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  resourceId: string,
  input: { principal: PrincipalRef; permission: string; effect: 'allow' | 'deny' | 'default' },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const { resource, manage } = await managed(ctx, actor, orgId, resourceId, work.tx)
    authorize(ctx, actor, manage.permission, manage.target)
    const permission = ctx.compiled.permissions.get(input.permission)
    if (!permission || permission.on !== resource.type || !permission.overridable) {
      throw new OrgkitError(
        'VALIDATION_FAILED',
        `"${input.permission}" can't be overridden on a ${resource.type}`,
        { field: 'permission' },
      )
    }
    const facts = actorFacts(ctx, actor, { type: resource.type, id: resourceId })
    rules.assertCanAllow(facts, input.permission, input.effect)
    if (input.principal.type === 'user') {
      rules.assertOutranksOverridden(
        facts,
        ctx.engine.authorizer.rankAt(
          { type: 'user', id: input.principal.id },
          { type: resource.type, id: resourceId },
        ),
      )
    }
    const key = {
      resourceId,
      permission: input.permission,
      userId: input.principal.type === 'user' ? input.principal.id : null,
      groupId: input.principal.type === 'group' ? input.principal.id : null,
    }
    if (input.principal.type === 'user' && !(await users.findUser(work.tx, input.principal.id))) {
      throw new OrgkitError('USER_NOT_FOUND', 'no such user', { userId: input.principal.id })
    }
    if (input.principal.type === 'group' && !(await groups.findGroup(work.tx, orgId, input.principal.id))) {
      throw new OrgkitError('GROUP_NOT_FOUND', 'no such group', { groupId: input.principal.id })
    }
    const before = await overrides.findOverride(work.tx, key)
    if (input.effect === 'default') {
      if (before) work.apply(await overrides.deleteOverrides(work.tx, [before]))
    } else {
      work.apply(
        await overrides.upsertOverride(work.tx, { id: randomUUID(), orgId, ...key, effect: input.effect }),
      )
    }
    work.audit({
      orgId,
      action: 'override.set',
      targetType: resource.type,
      targetId: resourceId,
      before: {
        principal: input.principal,
        permission: input.permission,
        effect: before?.effect ?? 'default',
      },
      after: { principal: input.principal, permission: input.permission, effect: input.effect },
    })
    return { resourceId, principal: input.principal, permission: input.permission, effect: input.effect }
  })
}
