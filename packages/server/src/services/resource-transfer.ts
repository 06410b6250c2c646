import { ORG, OrgkitError, type Target } from '@orgkit/core'
import { apiKeys, bindings, type Executor, invitations, orgs, overrides, resources } from '@orgkit/store'
import {
  type Actor,
  authorize,
  type Ctx,
  can,
  type RequestMeta,
  requireOrg,
  type Work,
  write,
} from './context.ts'
import { assertResourceAvailable } from './plan-limits.ts'
import { actionPermission, type ResourceView, toView, visibleResource } from './resources.ts'

/**
 * The permission that moves a resource to another org or parent: `<type>.transfer` where the model declares
 * it on the type (capgo: `app.transfer`, the owner's), else the type's delete action — taking it away from
 * the org is at least deleting it there.
 */
export function transferPermission(ctx: Ctx, type: string): string {
  const own = `${type}.transfer`
  return ctx.model.permissions[own]?.on === type ? own : actionPermission(ctx, type, 'delete')
}

/** What deleting or transferring a resource takes with it, counted, for the confirmation that names it. */
export interface ResourceImpact {
  resource: ResourceView
  /** The resources below it, by type: deleted or moved with it. */
  below: { type: string; count: number }[]
  /** People who may read it now. */
  people: number
  /** Of those, the ones who can't once it is gone (delete) or in the other org (transfer). */
  peopleLosingAccess: number
  /** Live API keys that reach it now and won't. */
  apiKeysLosingAccess: number
  /** Role grants and allow / deny overrides on it and below it, which go with a delete or a move to another org. */
  roleGrants: number
  overrides: number
  /** Open invitations to it or below it, withdrawn likewise. */
  invitations: number
}

/** What the moved or deleted resources hold in their org: the rows that can't follow them elsewhere. */
async function heldOn(db: Executor, orgId: string, ids: readonly string[]) {
  const scoped = new Set(ids)
  return {
    grants: await bindings.listBindings(db, { orgIds: [orgId], resourceIds: ids }),
    overrides: (await overrides.listOverrides(db, { orgIds: [orgId] })).filter((o) =>
      scoped.has(o.resource_id),
    ),
    invitations: (await invitations.listOpen(db, orgId)).filter(
      (i) => i.resource_id !== null && scoped.has(i.resource_id),
    ),
  }
}

/**
 * The consequence of deleting the resource, or of moving it to `toOrgId`: who reads it now and who would
 * not (after a move, access comes from the other org's roles only). For those who may delete, transfer or
 * change it.
 */
export async function resourceImpact(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  id: string,
  toOrgId?: string,
): Promise<ResourceImpact> {
  const row = await visibleResource(ctx, actor, orgId, id, ctx.db)
  const target: Target = { type: row.type, id }
  const may = [transferPermission(ctx, row.type), actionPermission(ctx, row.type, 'delete')]
  if (!may.some((p) => can(ctx, actor, p, target))) authorize(ctx, actor, may[0]!, target)
  if (toOrgId !== undefined) requireOrg(ctx, actor, toOrgId)
  const moving = toOrgId !== undefined && toOrgId !== orgId
  const authz = ctx.engine.authorizer
  const read = actionPermission(ctx, row.type, 'read')
  const people = authz.listPrincipals(read, target)
  const keepsAt = (subject: { type: 'user' | 'apiKey'; id: string }) =>
    moving &&
    authz.belonging(subject, toOrgId) !== null &&
    authz.permissionsAt(subject, { type: ORG, id: toOrgId }).has(read)
  const losing = people.filter((u) => !keepsAt({ type: 'user', id: u }))
  const keys = (await apiKeys.listLiveKeysOf(ctx.db, people)).filter(
    (k) => authz.check({ type: 'apiKey', id: k.id }, read, target).allowed,
  )
  const subtree = await resources.subtreeResources(ctx.db, id)
  const below = new Map<string, number>()
  for (const r of subtree.slice(1)) below.set(r.type, (below.get(r.type) ?? 0) + 1)
  const held = await heldOn(
    ctx.db,
    orgId,
    subtree.map((r) => r.id),
  )
  const dropsAccess = moving || toOrgId === undefined
  return {
    resource: toView(row),
    below: [...below].map(([type, count]) => ({ type, count })),
    people: people.length,
    peopleLosingAccess: losing.length,
    apiKeysLosingAccess: keys.filter((k) => !keepsAt({ type: 'apiKey', id: k.id })).length,
    roleGrants: dropsAccess ? held.grants.length : 0,
    overrides: dropsAccess ? held.overrides.length : 0,
    invitations: dropsAccess ? held.invitations.length : 0,
  }
}

/**
 * Moves a resource, with everything below it, to another org the actor may create one in (an app to another
 * organization), or under another parent (a channel to another app). Authorized at both ends: the transfer
 * permission on the resource here, the type's create permission where it lands. Moving to another org,
 * the role grants, overrides and open invitations on the moved resources stay behind and are removed —
 * groups and custom roles belong to their org, and access there comes from that org's roles — so nobody
 * keeps access through the org it left. Audited in both orgs as `resource.transferred`.
 */
export async function transferResource(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  input: { toOrgId: string; parentId?: string | null | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const before = await visibleResource(ctx, actor, orgId, id, work.tx)
    authorize(ctx, actor, transferPermission(ctx, before.type), { type: before.type, id })
    const toOrgId = input.toOrgId
    const parentId = input.parentId ?? null
    const crossesOrgs = toOrgId !== orgId
    if (!crossesOrgs && parentId === before.parent_id)
      throw new OrgkitError('VALIDATION_FAILED', `this ${before.type} is there already`, { field: 'toOrgId' })
    if (crossesOrgs) await enterDestination(ctx, actor, work, toOrgId)
    const landing = await landingTarget(ctx, actor, work, before, toOrgId, parentId)
    authorize(ctx, actor, actionPermission(ctx, before.type, 'create'), landing)
    const subtree = (await resources.subtreeResources(work.tx, id)).map((r) => r.id)
    const left = crossesOrgs ? await leaveBehind(ctx, work, orgId, subtree) : null
    if (crossesOrgs) await assertResourceAvailable(ctx, work, toOrgId, before.type)
    const moved = work.apply(await resources.moveResource(work.tx, id, { orgId: toOrgId, parentId }))
    const after = toView(moved[0]!)
    const entry = {
      action: 'resource.transferred',
      targetType: before.type,
      targetId: id,
      before: toView(before),
      after: { ...after, moved: subtree.length, ...(left && { removed: left }) },
    }
    work.audit({ orgId, ...entry })
    if (crossesOrgs) work.audit({ orgId: toOrgId, ...entry })
    return after
  })
}

/** The other org: one the actor belongs to, locked like the first, the engine caught up within both locks. */
async function enterDestination(ctx: Ctx, actor: Actor, work: Work, toOrgId: string) {
  requireOrg(ctx, actor, toOrgId)
  if (!(await orgs.lockOrg(work.tx, toOrgId)))
    throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId: toOrgId })
  await ctx.engine.catchUpWithin(work.tx)
}

/** Where the resource lands: the org for a top-level type, else a parent of the right type there, not below it. */
async function landingTarget(
  ctx: Ctx,
  actor: Actor,
  work: Work,
  resource: resources.ResourceRow,
  toOrgId: string,
  parentId: string | null,
): Promise<Target> {
  const def = ctx.model.resourceTypes[resource.type]!
  if (def.parent === ORG) {
    if (parentId !== null)
      throw new OrgkitError('VALIDATION_FAILED', `a ${resource.type} sits directly under the org`, {
        field: 'parentId',
      })
    return { type: ORG, id: toOrgId }
  }
  if (parentId === null)
    throw new OrgkitError('VALIDATION_FAILED', `a ${resource.type} needs a parent ${def.parent}`, {
      field: 'parentId',
    })
  const parent = await visibleResource(ctx, actor, toOrgId, parentId, work.tx)
  if (parent.type !== def.parent || parent.chain.some((t) => t.id === resource.id))
    throw new OrgkitError('VALIDATION_FAILED', `a ${resource.type}'s parent must be a ${def.parent}`, {
      field: 'parentId',
    })
  return { type: parent.type, id: parent.id }
}

/** Removes what can't follow the resources to another org; returns what went, counted. */
async function leaveBehind(ctx: Ctx, work: Work, orgId: string, ids: readonly string[]) {
  const now = new Date(ctx.clock())
  const held = await heldOn(work.tx, orgId, ids)
  work.apply(
    await bindings.deleteBindings(
      work.tx,
      held.grants.map((b) => b.id),
    ),
  )
  if (held.overrides.length > 0) work.apply(await overrides.deleteOverrides(work.tx, held.overrides))
  for (const i of held.invitations) await invitations.revoke(work.tx, orgId, i.id, now)
  return {
    roleGrants: held.grants.length,
    overrides: held.overrides.length,
    invitations: held.invitations.length,
  }
}
