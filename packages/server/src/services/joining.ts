import { randomUUID } from 'node:crypto'
import { bindings, groups, members, orgs } from '@orgkit/store'
import type { Ctx, Work } from './context.ts'
import { toOrgView } from './org-view.ts'

/**
 * How a person comes to belong to an org, and how an org comes to be: one path each, whoever takes it
 * (member add, invitation, org creation, sign-up's personal org, and later SSO and directory sync), so
 * every way in leaves the same membership, model groups, bindings, audit entry, webhook event and engine
 * changes. Callers authorize and check their own preconditions (seats, invitations) first.
 */

/** Why a person joined: kept on their role bindings (`reason`) and in the `member.added` entry. */
export type JoinedVia = 'creator' | 'added' | 'invitation'

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
  work.apply(await members.upsertMembership(work.tx, orgId, userId, 'active'))
  const everyone = (ctx.model.org.groups ?? []).filter((g) => g.members === 'everyone').map((g) => g.name)
  for (const group of await groups.findGroupsByName(work.tx, orgId, everyone))
    work.apply(await groups.upsertGroupMember(work.tx, group.id, userId, null))
  await grantOrgRoles(work, orgId, userId, joining.roles, joining.grantedBy, joining.via)
  work.audit({
    orgId,
    action: 'member.added',
    targetType: 'user',
    targetId: userId,
    after: { roles: [...joining.roles], via: joining.via },
  })
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
  for (const role of roles) {
    work.apply(
      await bindings.insertBinding(work.tx, {
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
      }),
    )
  }
}

/**
 * Creates an org with its model groups (seed 002's DEFAULT and ADMIN, seed 003's Owners), its `org.created`
 * entry, and its creator joined holding the model's creator role.
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
