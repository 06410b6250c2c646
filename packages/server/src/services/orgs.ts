import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { bindings, members, orgs, toOrgRecord } from '@orgkit/store'
import {
  type Actor,
  actorUserId,
  authorize,
  type Ctx,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

export interface OrgView {
  id: string
  name: string
  parentId: string | null
  creatorId: string | null
  managementEmail: string | null
  logoUrl: string | null
  createdAt: string
}

export const toOrgView = (row: orgs.OrgRow): OrgView => ({
  id: row.id,
  name: row.name,
  parentId: row.parent_id,
  creatorId: row.creator_id,
  managementEmail: row.management_email,
  logoUrl: row.logo_url,
  createdAt: row.created_at.toISOString(),
})

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
  return write(ctx, actor, meta, parentId, async (work) => {
    if (parentId !== null) {
      requireOrg(ctx, actor, parentId)
      authorize(ctx, actor, 'org.update_settings', { type: 'org', id: parentId })
    }
    const id = randomUUID()
    const row = await orgs.insertOrg(work.tx, { id, parentId, name: input.name, creatorId })
    await members.upsertMembership(work.tx, id, creatorId, 'active')
    const binding = await bindings.insertBinding(work.tx, {
      id: randomUUID(),
      orgId: id,
      userId: creatorId,
      groupId: null,
      role: ctx.model.org.creatorRole,
      scopeType: 'org',
      resourceId: null,
      expiresAt: null,
      grantedBy: creatorId,
      reason: 'creator',
    })
    work.change(
      { op: 'org.put', org: toOrgRecord(row) },
      { op: 'membership.put', membership: { orgId: id, userId: creatorId, status: 'active' } },
      { op: 'binding.put', binding: bindings.toRecord(binding) },
    )
    work.audit({ orgId: id, action: 'org.created', targetType: 'org', targetId: id, after: toOrgView(row) })
    return toOrgView(row)
  })
}

export async function getOrg(ctx: Ctx, actor: Actor, orgId: string): Promise<OrgView> {
  requireOrg(ctx, actor, orgId)
  const row = await orgs.findOrg(ctx.db, orgId)
  if (!row) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  return toOrgView(row)
}

/** The orgs the actor can see (every org, for a platform token). */
export async function listOrgs(ctx: Ctx, actor: Actor): Promise<OrgView[]> {
  const userId = actorUserId(actor)
  const ids =
    userId === null
      ? (await ctx.db.selectFrom('orgs').select('id').execute()).map((r) => r.id)
      : ctx.engine.authorizer.listResources({ type: 'user', id: userId }, 'org.read', 'org')
  return (await orgs.listOrgsByIds(ctx.db, ids)).map(toOrgView)
}

export async function updateOrg(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  patch: {
    name?: string | undefined
    managementEmail?: string | null | undefined
    logoUrl?: string | null | undefined
  },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.update_settings', { type: 'org', id: orgId })
    const before = await orgs.lockOrg(work.tx, orgId)
    if (!before) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
    const row = await orgs.updateOrg(work.tx, orgId, {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.managementEmail !== undefined && { management_email: patch.managementEmail }),
      ...(patch.logoUrl !== undefined && { logo_url: patch.logoUrl }),
    })
    work.audit({
      orgId,
      action: 'org.updated',
      targetType: 'org',
      targetId: orgId,
      before: toOrgView(before),
      after: toOrgView(row),
    })
    return toOrgView(row)
  })
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
    await orgs.deleteOrg(work.tx, orgId)
    work.change({ op: 'org.delete', id: orgId })
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
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.transfer', { type: 'org', id: orgId })
    const before = await orgs.lockOrg(work.tx, orgId)
    if (!before) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
    const membership = await members.findMembership(work.tx, orgId, toUserId)
    if (membership?.status !== 'active') {
      throw new OrgkitError('NOT_A_MEMBER', 'ownership goes to an active member', { userId: toUserId })
    }
    const owners = await members.activeOwnerIds(work.tx, orgId, ctx.model.org.ownerRoles)
    if (!owners.has(toUserId)) {
      const held = await bindings.listBindings(work.tx, {
        orgIds: [orgId],
        userId: toUserId,
        orgScopeOnly: true,
      })
      const creatorSlot = ctx.model.roles[ctx.model.org.creatorRole]!.slot
      const replaced = held.filter((b) => (ctx.model.roles[b.role]?.slot ?? null) === creatorSlot)
      await bindings.deleteBindings(
        work.tx,
        replaced.map((b) => b.id),
      )
      const granted = await bindings.insertBinding(work.tx, {
        id: randomUUID(),
        orgId,
        userId: toUserId,
        groupId: null,
        role: ctx.model.org.creatorRole,
        scopeType: 'org',
        resourceId: null,
        expiresAt: null,
        grantedBy: actorUserId(actor),
        reason: 'transfer',
      })
      work.change(...replaced.map((b) => ({ op: 'binding.delete' as const, id: b.id })), {
        op: 'binding.put',
        binding: bindings.toRecord(granted),
      })
    }
    const row = await orgs.updateOrg(work.tx, orgId, { creator_id: toUserId })
    work.change({ op: 'org.put', org: toOrgRecord(row) })
    work.audit({
      orgId,
      action: 'org.transferred',
      targetType: 'org',
      targetId: orgId,
      before: { creatorId: before.creator_id },
      after: { creatorId: toUserId },
    })
    return toOrgView(row)
  })
}
