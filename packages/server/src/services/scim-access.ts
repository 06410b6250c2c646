import { rules } from '@orgkit/core'
import { apiKeys, bindings, groups, members, orgs, overrides, scim } from '@orgkit/store'
import type { Ctx, DirectoryActor, Work } from './context.ts'
import { assertOwnerGroupsKeepAMember } from './groups.ts'
import { joinOrg } from './joining.ts'
import { guardOwners } from './owners.ts'
import { assertSeatAvailable } from './plan-limits.ts'

/**
 * What a directory's `active` means for a person's access to its org (issue 21.3): deactivated, they have
 * none there, at once; active again, they are a member with the org's default role and in their directory
 * groups. Their other orgs (sub-orgs included: each is an org of its own) are untouched.
 */

/**
 * Ends a person's access to the org: every binding they hold there (org and resource scope), every group
 * membership, their allow overrides (denies stay: they only ever take away), their API keys' reach into it,
 * and the membership — all in the one write, so the engine answers "no" from its commit on. The directory
 * groups they were in are kept on their SCIM record to come back to. The org keeps an owner, and the
 * creator's role is the creator's alone (SPEC 2), as for any removal.
 */
export async function endAccess(
  work: Work,
  ctx: Ctx,
  actor: DirectoryActor,
  orgId: string,
  scimUser: { id: string; user_id: string },
): Promise<void> {
  const userId = scimUser.user_id
  const org = (await orgs.findOrg(work.tx, orgId))!
  rules.assertNotCreatorsRole({ creatorId: org.creator_id }, `directory:${actor.tokenId}`, userId)
  await assertOwnerGroupsKeepAMember(ctx, work.tx, [orgId], userId)
  const owners = await guardOwners(ctx, work.tx, orgId)
  await work.watchOwners(orgId)
  await scim.setSuspendedGroups(
    work.tx,
    orgId,
    scimUser.id,
    await scim.directoryGroupsOf(work.tx, orgId, userId),
  )
  for (const g of await groups.userGroupMemberships(work.tx, userId, [orgId]))
    work.apply(await groups.deleteGroupMember(work.tx, g.group_id, userId))
  const held = await bindings.listBindings(work.tx, { orgIds: [orgId], userId })
  work.apply(
    await bindings.deleteBindings(
      work.tx,
      held.map((b) => b.id),
    ),
  )
  const allows = (await overrides.listOverrides(work.tx, { orgIds: [orgId], userId })).filter(
    (o) => o.effect === 'allow',
  )
  work.apply(await overrides.deleteOverrides(work.tx, allows))
  work.apply(await apiKeys.withdrawOrgsFromKeys(work.tx, userId, [orgId], new Date(ctx.clock())))
  work.apply(await members.deleteMembership(work.tx, orgId, userId))
  await owners.after(userId)
  work.audit({
    orgId,
    action: 'member.removed',
    targetType: 'user',
    targetId: userId,
    before: { roles: held.filter((b) => b.scope_type === 'org').map((b) => b.role), via: 'directory' },
  })
}

/**
 * Makes a person an active member through the one way in (`joinOrg`, with the org's default role, within
 * the plan's seats), unless they already are one (their roles then stay as they are), and puts them back in
 * the directory groups they were in when deactivated (those that still exist).
 */
export async function grantAccess(
  work: Work,
  ctx: Ctx,
  orgId: string,
  scimUser: { id: string; user_id: string; suspended_groups: string[] },
): Promise<boolean> {
  const userId = scimUser.user_id
  const membership = await members.findMembership(work.tx, orgId, userId)
  if (membership?.status === 'active') return false
  await assertSeatAvailable(ctx, work, orgId)
  await joinOrg(work, ctx, {
    orgId,
    userId,
    roles: [ctx.model.org.defaultRole],
    grantedBy: null,
    via: 'directory',
  })
  const waiting = await scim.directoryGroupIds(work.tx, scimUser.suspended_groups)
  for (const groupId of waiting) work.apply(await groups.upsertGroupMember(work.tx, groupId, userId, null))
  if (scimUser.suspended_groups.length > 0) await scim.setSuspendedGroups(work.tx, orgId, scimUser.id, [])
  return true
}
