import { randomUUID } from 'node:crypto'
import { bindings, groups } from '@orgkit/store'
import type { Ctx, Work } from './context.ts'

/**
 * The groups a model gives every org (seed 002's DEFAULT and ADMIN): made with the org, bound to their
 * role at it, and — for `everyone` groups — joined by every member as they join.
 */
export async function createModelGroups(
  work: Work,
  ctx: Ctx,
  orgId: string,
  creatorId: string,
): Promise<void> {
  for (const spec of ctx.model.org.groups ?? []) {
    const group = await groups.insertGroup(work.tx, {
      id: randomUUID(),
      orgId,
      name: spec.name,
      description: '',
      role: null,
    })
    const binding = await bindings.insertBinding(work.tx, {
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
    })
    await groups.upsertGroupMember(work.tx, group.id, creatorId, null)
    work.change(
      { op: 'group.put', group: { id: group.id, orgId, role: null } },
      { op: 'binding.put', binding: bindings.toRecord(binding) },
      { op: 'groupMember.put', member: { groupId: group.id, userId: creatorId, memberRole: null } },
    )
  }
}

/** A new member joins the org's `everyone` groups ("by default, when joined, they will have the DEFAULT role"). */
export async function joinEveryoneGroups(work: Work, ctx: Ctx, orgId: string, userId: string): Promise<void> {
  const names = (ctx.model.org.groups ?? []).filter((g) => g.members === 'everyone').map((g) => g.name)
  if (names.length === 0) return
  const rows = await work.tx
    .selectFrom('groups')
    .select('id')
    .where('org_id', '=', orgId)
    .where('name', 'in', names)
    .execute()
  for (const row of rows) {
    await groups.upsertGroupMember(work.tx, row.id, userId, null)
    work.change({ op: 'groupMember.put', member: { groupId: row.id, userId, memberRole: null } })
  }
}
