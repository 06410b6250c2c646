import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError, type Target } from '@orgkit/core'
import { bindings, type Executor, groups, members, orgs, overrides, resources, users } from '@orgkit/store'
import {
  type Actor,
  assertUngated,
  authorize,
  type Ctx,
  can,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'
import { assertResourceAvailable } from './plan-limits.ts'

export interface ResourceView {
  id: string
  orgId: string
  type: string
  parentId: string | null
  name: string
  createdAt: string
}

export const toView = (row: resources.ResourceRow): ResourceView => ({
  id: row.id,
  orgId: row.org_id,
  type: row.type,
  parentId: row.parent_id,
  name: row.name,
  createdAt: row.created_at.toISOString(),
})

/** The permission a resource type's action needs, from the model (platform fallbacks when it names none). */
export function actionPermission(
  ctx: Ctx,
  type: string,
  action: 'create' | 'read' | 'update' | 'delete',
): string {
  const def = ctx.model.resourceTypes[type]
  if (!def) throw new OrgkitError('UNKNOWN_RESOURCE_TYPE', `unknown resource type "${type}"`, { type })
  return def.actions?.[action] ?? (action === 'read' ? 'org.read' : 'org.update_settings')
}

/**
 * Who may manage access (bindings, overrides) at a scope: the nearest type at or above it whose
 * `<type>.update_user_roles` the model declares (capgo: `app.update_user_roles` for apps and their
 * channels), checked there; else `org.update_user_roles` on the org.
 */
export function manageAccessTarget(
  ctx: Ctx,
  resource: { id: string; type: string; orgId: string; chain: Target[] },
): {
  permission: string
  target: Target
} {
  for (const target of resource.chain) {
    const permission = `${target.type}.update_user_roles`
    if (ctx.model.permissions[permission]?.on === target.type) return { permission, target }
  }
  return { permission: 'org.update_user_roles', target: { type: ORG, id: resource.orgId } }
}

/** The resource and the resources above it, nearest first. */
export async function resourceChain(
  db: Executor,
  orgId: string,
  id: string,
): Promise<(resources.ResourceRow & { chain: Target[] }) | null> {
  const row = await resources.findResource(db, orgId, id)
  if (!row) return null
  const chain: Target[] = [{ type: row.type, id: row.id }]
  let parentId = row.parent_id
  while (parentId !== null) {
    const parent = await resources.findResource(db, orgId, parentId)
    if (!parent) break
    chain.push({ type: parent.type, id: parent.id })
    parentId = parent.parent_id
  }
  return { ...row, chain }
}

/** A resource of this org the actor may read, or 404 (never revealing one from another org). */
export async function visibleResource(ctx: Ctx, actor: Actor, orgId: string, id: string, db: Executor) {
  const row = await resourceChain(db, orgId, id)
  assertVisible(ctx, actor, orgId, id, row?.type ?? null)
  return row!
}

/**
 * The same, from the engine: a resource's chain, for a write (the engine caught up inside the org's lock,
 * and a resource changes only under its org's lock), when the write needs no more of its row.
 */
export function visibleTarget(ctx: Ctx, actor: Actor, orgId: string, id: string) {
  const chain = ctx.engine.authorizer.resourceChain(orgId, id) ?? []
  const type = chain[0]?.type ?? null
  assertVisible(ctx, actor, orgId, id, type)
  return { type: type!, id, chain }
}

/** A resource the actor may not read is not there for them (RESOURCE_NOT_FOUND); `type` null: it isn't. */
function assertVisible(ctx: Ctx, actor: Actor, orgId: string, id: string, type: string | null) {
  if (type === null || !can(ctx, actor, actionPermission(ctx, type, 'read'), { type, id })) {
    // A member gated by a policy is told so, not shown a 404 (issue 19.4).
    if (type !== null) assertUngated(ctx, actor, orgId)
    throw new OrgkitError('RESOURCE_NOT_FOUND', 'no such resource', { resourceId: id })
  }
}

export async function createResource(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { type: string; name: string; parentId?: string | null | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    const def = ctx.model.resourceTypes[input.type]
    if (!def)
      throw new OrgkitError('UNKNOWN_RESOURCE_TYPE', `unknown resource type "${input.type}"`, {
        field: 'type',
      })
    const parentId = input.parentId ?? null
    let parentTarget: Target = { type: ORG, id: orgId }
    if (def.parent === ORG) {
      if (parentId !== null)
        throw new OrgkitError('VALIDATION_FAILED', `a ${input.type} sits directly under the org`, {
          field: 'parentId',
        })
    } else {
      if (parentId === null)
        throw new OrgkitError('VALIDATION_FAILED', `a ${input.type} needs a parent ${def.parent}`, {
          field: 'parentId',
        })
      const parent = await visibleResource(ctx, actor, orgId, parentId, work.tx)
      if (parent.type !== def.parent) {
        throw new OrgkitError('VALIDATION_FAILED', `a ${input.type}'s parent must be a ${def.parent}`, {
          field: 'parentId',
        })
      }
      parentTarget = { type: parent.type, id: parent.id }
    }
    authorize(ctx, actor, actionPermission(ctx, input.type, 'create'), parentTarget)
    await assertResourceAvailable(ctx, work, orgId, input.type)
    const row = work.apply(
      await resources.insertResource(work.tx, {
        id: randomUUID(),
        orgId,
        type: input.type,
        parentId,
        name: input.name,
      }),
    )
    work.audit({
      orgId,
      action: 'resource.created',
      targetType: row.type,
      targetId: row.id,
      after: toView(row),
    })
    return toView(row)
  })
}

/** One page of the org's resources the actor may read, by id. */
export async function listResources(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  query: {
    type?: string | undefined
    parentId?: string | undefined
    cursor?: string | undefined
    limit: number
  },
): Promise<{ items: ResourceView[]; nextCursor: string | null }> {
  requireOrg(ctx, actor, orgId)
  // Filtering by `can` would answer a gated member an empty list: the gate is said instead (issue 19.4).
  assertUngated(ctx, actor, orgId)
  if (query.type !== undefined) actionPermission(ctx, query.type, 'read')
  const items: ResourceView[] = []
  let after = query.cursor
  // Filter by what the actor may read; keep paging the table until the page is full or it runs out.
  for (;;) {
    const rows = await resources.listResources(ctx.db, {
      orgId,
      type: query.type,
      parentId: query.parentId,
      after,
      limit: query.limit,
    })
    for (const row of rows) {
      if (can(ctx, actor, actionPermission(ctx, row.type, 'read'), { type: row.type, id: row.id }))
        items.push(toView(row))
      if (items.length === query.limit) return { items, nextCursor: row.id }
    }
    if (rows.length < query.limit) return { items, nextCursor: null }
    after = rows.at(-1)!.id
  }
}

export async function getResource(ctx: Ctx, actor: Actor, orgId: string, id: string): Promise<ResourceView> {
  return toView(await visibleResource(ctx, actor, orgId, id, ctx.db))
}

export async function renameResource(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  name: string,
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const before = await visibleResource(ctx, actor, orgId, id, work.tx)
    authorize(ctx, actor, actionPermission(ctx, before.type, 'update'), { type: before.type, id })
    const row = work.apply(await resources.renameResource(work.tx, id, name))
    work.audit({
      orgId,
      action: 'resource.updated',
      targetType: row.type,
      targetId: id,
      before: toView(before),
      after: toView(row),
    })
    return toView(row)
  })
}

/** Deletes the resource and everything below it, with every binding and override on them. */
export async function deleteResource(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    const before = await visibleResource(ctx, actor, orgId, id, work.tx)
    authorize(ctx, actor, actionPermission(ctx, before.type, 'delete'), { type: before.type, id })
    if (ctx.model.resourceTypes[before.type]?.deleteOnlyWithoutAccess) {
      const held = await bindings.listBindings(work.tx, { orgIds: [orgId], resourceIds: [id] })
      if (held.length > 0) {
        throw new OrgkitError(
          'RESOURCE_IN_USE',
          `remove the ${held.length} role(s) and account(s) assigned to it first`,
          { bindings: held.length },
        )
      }
    }
    work.apply(await resources.deleteResource(work.tx, id))
    work.audit({
      orgId,
      action: 'resource.deleted',
      targetType: before.type,
      targetId: id,
      before: toView(before),
    })
    return null
  })
}

export interface AccessEntry {
  bindingId: string
  /** `external`: a user with no membership in the org or above (seed 002's accounts in blue). */
  principal: { type: 'user' | 'group'; id: string; email?: string; name: string; external?: boolean }
  role: string
  scope: { type: string; id: string }
  inherited: boolean
  grantedAt: string
  expiresAt: string | null
}

/**
 * The Access tab (seed 001): who holds a role on this resource or one above it, with the overrides on it
 * and below it (the channel-permissions modal).
 */
export async function accessOf(ctx: Ctx, actor: Actor, orgId: string, id: string) {
  const resource = await visibleResource(ctx, actor, orgId, id, ctx.db)
  const manage = manageAccessTarget(ctx, { id, type: resource.type, orgId, chain: resource.chain })
  if (!can(ctx, actor, 'org.read_access', { type: ORG, id: orgId }))
    authorize(ctx, actor, manage.permission, manage.target)
  const rows = await bindings.listBindings(ctx.db, {
    orgIds: [orgId],
    resourceIds: resource.chain.map((t) => t.id),
  })
  const userRows = await users.listUsersByIds(ctx.db, [
    ...new Set(rows.flatMap((r) => (r.user_id ? [r.user_id] : []))),
  ])
  const groupRows = await groups.listGroups(ctx.db, orgId)
  const memberIds = new Set(
    (await members.listMemberships(ctx.db, await orgs.chainIds(ctx.db, orgId)))
      .filter((m) => m.status === 'active')
      .map((m) => m.user_id),
  )
  const entries: AccessEntry[] = rows.map((r) => {
    const user = userRows.find((u) => u.id === r.user_id)
    const principal = r.user_id
      ? {
          type: 'user' as const,
          id: r.user_id,
          email: user?.email ?? '',
          name: user?.name ?? '',
          external: !memberIds.has(r.user_id),
        }
      : {
          type: 'group' as const,
          id: r.group_id!,
          name: groupRows.find((g) => g.id === r.group_id)?.name ?? '',
        }
    return {
      bindingId: r.id,
      principal,
      role: r.role,
      scope: { type: r.scope_type, id: r.resource_id! },
      inherited: r.resource_id !== id,
      grantedAt: r.created_at.toISOString(),
      expiresAt: r.expires_at?.toISOString() ?? null,
    }
  })
  const overrideRows = await overrides.listOverrides(ctx.db, { orgIds: [orgId] })
  const scoped = new Set([id, ...(await resources.childResourceIds(ctx.db, orgId, id))])
  return {
    resource: toView(resource),
    entries,
    overrides: overrideRows
      .filter((o) => scoped.has(o.resource_id))
      .map((o) => ({
        resourceId: o.resource_id,
        principal: o.user_id
          ? { type: 'user' as const, id: o.user_id }
          : { type: 'group' as const, id: o.group_id! },
        permission: o.permission,
        effect: o.effect,
      })),
  }
}
