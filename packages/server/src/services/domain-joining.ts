import { OrgkitError } from '@orgkit/core'
import { members, orgDomains } from '@orgkit/store'
import { type Actor, assertNotApiKey, type Ctx, type RequestMeta, type Work, write } from './context.ts'
import { heldOutByDirectory, joinOrg } from './joining.ts'
import { orgRole } from './members.ts'
import { assertSeatAvailable } from './plan-limits.ts'

/**
 * Joining an org through a verified domain (issue 21.2): a person whose *verified* email is at a domain an
 * org holds verified joins it on their own — at once where the org's mode is `auto` (when their email is
 * verified and at each sign-in, as Slack and Clerk do), or by accepting the suggestion where it is
 * `suggest`. Only `joinOrg` makes the member, with the domain's default role (the model's default when it
 * has none, or when that role is gone), so the `member.added` entry and webhook event say `via: 'domain'`.
 */

export interface SuggestedOrg {
  orgId: string
  name: string
  domain: string
  joinMode: 'suggest' | 'auto'
}

function personOf(actor: Actor): string {
  assertNotApiKey(actor, 'join an organization')
  if (actor.kind !== 'user') throw new OrgkitError('FORBIDDEN', 'only a person joins an organization')
  return actor.userId
}

/** The orgs the person may join through their email's domain and hasn't: at most one (a domain has one holder). */
export async function suggestedOrgs(ctx: Ctx, actor: Actor): Promise<SuggestedOrg[]> {
  const userId = personOf(actor)
  const joinable = await orgDomains.joinableFor(ctx.db, userId)
  if (!joinable) return []
  if ((await members.findMembership(ctx.db, joinable.orgId, userId))?.status === 'active') return []
  if (await heldOutByDirectory(ctx.db, joinable.orgId, userId)) return []
  return [
    {
      orgId: joinable.orgId,
      name: joinable.orgName,
      domain: joinable.domain,
      joinMode: joinable.joinMode as SuggestedOrg['joinMode'],
    },
  ]
}

/**
 * Joins the person to `orgId` through their domain, under the org's lock: everything is read again there
 * (the domain still verified and open to joining, their email still verified and at it, not a member yet,
 * a seat free). An org they may not join this way is ORG_NOT_FOUND, as for anyone outside it.
 */
async function joinUnderLock(
  work: Work,
  ctx: Ctx,
  userId: string,
  orgId: string,
  modes: readonly orgDomains.JoinMode[],
): Promise<{ orgId: string; roles: string[] }> {
  const joinable = await orgDomains.joinableFor(work.tx, userId)
  if (joinable?.orgId !== orgId || !modes.includes(joinable.joinMode))
    throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  if ((await members.findMembership(work.tx, orgId, userId))?.status === 'active')
    throw new OrgkitError('ALREADY_MEMBER', 'you are a member of this organization already', { orgId })
  // Deactivated by the org's directory: as closed to them as to anyone outside it.
  if (await heldOutByDirectory(work.tx, orgId, userId))
    throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  await assertSeatAvailable(ctx, work, orgId)
  const roles = [roleFor(ctx, orgId, joinable.defaultRole)]
  await joinOrg(work, ctx, { orgId, userId, roles, grantedBy: null, via: 'domain' })
  return { orgId, roles }
}

/** The domain's role while it still is an org role here; else the model's default. */
function roleFor(ctx: Ctx, orgId: string, key: string | null): string {
  if (key === null) return ctx.model.org.defaultRole
  try {
    return orgRole(ctx, orgId, key).key
  } catch {
    return ctx.model.org.defaultRole
  }
}

/** `POST /v1/orgs/{orgId}/join`: the person accepts a suggestion (or joins an `auto` org they left). */
export async function joinThroughDomain(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string) {
  const userId = personOf(actor)
  return write(ctx, actor, meta, orgId, (work) =>
    joinUnderLock(work, ctx, userId, orgId, ['suggest', 'auto']),
  )
}

/**
 * At a moment the person proved their mailbox — email verification, each sign-in — joins them to the org
 * holding their email's domain verified in `auto` mode, if they aren't in it. Never fails the sign-in: an org
 * out of seats (or a race that joined them already) leaves them out this time and the next sign-in tries again.
 */
export async function autoJoinByDomain(ctx: Ctx, meta: RequestMeta, userId: string): Promise<string | null> {
  const joinable = await orgDomains.joinableFor(ctx.db, userId)
  if (joinable?.joinMode !== 'auto') return null
  if ((await members.findMembership(ctx.db, joinable.orgId, userId))?.status === 'active') return null
  const actor: Actor = { kind: 'user', userId, via: 'session' }
  try {
    await write(ctx, actor, meta, joinable.orgId, (work) =>
      joinUnderLock(work, ctx, userId, joinable.orgId, ['auto']),
    )
    return joinable.orgId
  } catch (error) {
    if (error instanceof OrgkitError) return null
    throw error
  }
}
