import { OrgkitError, type RoleHandle, rules, TEAM_ROLE } from '@orgkit/core'
import {
  apiKeys,
  bindings,
  groups,
  invitations,
  members,
  orgs,
  overrides,
  type Tx,
  users,
} from '@orgkit/store'
import {
  type Actor,
  actorFacts,
  actorUserId,
  assertNotApiKey,
  authorize,
  type Ctx,
  isPlatform,
  type RequestMeta,
  requireOrg,
  type Work,
  write,
} from './context.ts'
import { assertOwnerGroupsKeepAMember } from './groups.ts'
import { giveOrgRoles, groupHolding, joinOrg, keepEveryoneInAnOrg, takeOrgRoles } from './joining.ts'
import { assertSeatAvailable } from './plan-limits.ts'

export interface MemberView {
  /** Null for an invitation whose invitee has no account yet. */
  userId: string | null
  /** Set on a pending invitation (seed 001's orange Pending badge); it counts as a seat. */
  invitationId?: string
  email: string
  name: string
  roles: string[]
  status: 'active' | 'pending'
  /** direct: a member of this org; inherited: of an org above (seed 004); external: bindings only (seed 002). */
  source: 'direct' | 'inherited' | 'external'
  /** The org's groups they are in (seed 002: "you may assign each account multiple Roles"). */
  groups: { id: string; name: string }[]
}

/** A role key as it applies in this org, or a clear error. */
export function orgRole(ctx: Ctx, orgId: string, key: string, scope = 'org'): RoleHandle {
  const role = ctx.engine.authorizer.role(key, orgId)
  if (!role) throw new OrgkitError('UNKNOWN_ROLE', `unknown role "${key}"`, { role: key })
  if (role.scope !== scope) {
    throw new OrgkitError('ROLE_SCOPE_MISMATCH', `role "${key}" binds at ${role.scope}, not at ${scope}`, {
      role: key,
    })
  }
  return role
}

const priorityOf = (ctx: Ctx, orgId: string, keys: readonly string[]) =>
  Math.max(-1, ...keys.map((k) => ctx.engine.authorizer.role(k, orgId)?.priority ?? -1))

/**
 * The Members list: direct members (active or pending), members inherited from orgs above, and external
 * accounts holding bindings on this org's resources; sorted by role priority, highest first (seed 001).
 */
export async function listMembers(ctx: Ctx, actor: Actor, orgId: string): Promise<MemberView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_members', { type: 'org', id: orgId })
  const chain = await orgs.chainIds(ctx.db, orgId)
  const rows = await members.listMemberships(ctx.db, chain)
  const roleRows = await bindings.listBindings(ctx.db, { orgIds: chain, orgScopeOnly: true })
  // Org roles held through a group count as the member's own (issue 19.2: an Owners member is an owner).
  const groupRoleRows = await members.orgRolesThroughGroups(ctx.db, chain, TEAM_ROLE)
  // A member's roles, highest priority first (then by key), so lists read the same every time.
  const rank = (key: string) => ctx.engine.authorizer.role(key, orgId)?.priority ?? -1
  const rolesOf = (userId: string, at: string) => [
    ...new Set(
      [...roleRows, ...groupRoleRows]
        .filter((b) => b.user_id === userId && b.org_id === at)
        .map((b) => b.role)
        .sort((a, b) => rank(b) - rank(a) || a.localeCompare(b)),
    ),
  ]

  const views = new Map<string, MemberView>()
  for (const row of rows.filter((r) => r.org_id === orgId)) {
    views.set(row.user_id, {
      userId: row.user_id,
      email: row.email,
      name: row.name,
      roles: rolesOf(row.user_id, orgId),
      status: row.status,
      source: 'direct',
      groups: [],
    })
  }
  // Inherited: active members of an org above, with the roles of the nearest such org.
  for (const ancestor of chain.slice(1)) {
    for (const row of rows.filter(
      (r) => r.org_id === ancestor && r.status === 'active' && !views.has(r.user_id),
    )) {
      views.set(row.user_id, {
        userId: row.user_id,
        email: row.email,
        name: row.name,
        roles: rolesOf(row.user_id, ancestor),
        status: 'active',
        source: 'inherited',
        groups: [],
      })
    }
  }
  const externalIds = (await bindings.userIdsBoundBelowOrg(ctx.db, orgId)).filter((id) => !views.has(id))
  for (const user of await users.listUsersByIds(ctx.db, externalIds)) {
    views.set(user.id, {
      userId: user.id,
      email: user.email,
      name: user.name,
      roles: [],
      status: 'active',
      source: 'external',
      groups: [],
    })
  }
  // Pending invitations are listed (and count as seats) until accepted, revoked or expired.
  const invited = await invitations.listPending(ctx.db, orgId, new Date(ctx.clock()))
  const pending: MemberView[] = invited.map((i) => ({
    userId: null,
    invitationId: i.id,
    email: i.email,
    name: [i.first_name, i.last_name].filter(Boolean).join(' '),
    roles: [i.role, ...i.extra_roles],
    status: 'pending',
    // An invitation to one resource (seed 002) makes an external account, not a member.
    source: i.resource_id === null ? 'direct' : 'external',
    groups: [],
  }))
  const sourceRank = { direct: 0, inherited: 1, external: 2 }
  const orgGroups = await groups.listGroups(ctx.db, orgId)
  const groupMembers = await groups.membersOfGroups(
    ctx.db,
    orgGroups.map((g) => g.id),
  )
  for (const view of views.values()) {
    const inGroups = new Set(groupMembers.filter((m) => m.user_id === view.userId).map((m) => m.group_id))
    view.groups = orgGroups.filter((g) => inGroups.has(g.id)).map((g) => ({ id: g.id, name: g.name }))
  }
  return [...views.values(), ...pending].sort(
    (a, b) =>
      priorityOf(ctx, orgId, b.roles) - priorityOf(ctx, orgId, a.roles) ||
      (a.status === b.status ? 0 : a.status === 'active' ? -1 : 1) ||
      sourceRank[a.source] - sourceRank[b.source] ||
      a.email.localeCompare(b.email),
  )
}

/** Validates a set of org roles for one member: known, bound at org, one per single slot. */
export function checkRoleSet(ctx: Ctx, orgId: string, keys: readonly string[]): RoleHandle[] {
  const roles = [...new Set(keys)].map((k) => orgRole(ctx, orgId, k))
  // A role a model group holds is that group's binding, not the member's: it takes none of their slots.
  const own = roles.filter((r) => !groupHolding(ctx, r.key))
  for (const role of own) {
    rules.assertSlotFree(
      ctx.model,
      role.slot,
      own.filter((r) => r.slot === role.slot).map((r) => r.key),
      role.key,
    )
  }
  return roles
}

/**
 * Adds an existing user as an active member (platform tokens: the host product provisions its users;
 * people join through invitations).
 */
export async function addMember(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { userId: string; roles?: string[] | undefined },
) {
  if (!isPlatform(actor))
    throw new OrgkitError(
      'PLATFORM_ONLY',
      'members join through invitations; platform tokens may add them directly',
    )
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    const roles = checkRoleSet(ctx, orgId, input.roles ?? [ctx.model.org.defaultRole])
    // The engine has every user, and caught up inside the org's lock: no read. A user deleted after that
    // fails a foreign key instead (the membership's, or the role's riding on it).
    if (!ctx.engine.authorizer.hasUser(input.userId))
      throw new OrgkitError('USER_NOT_FOUND', 'no such user', { userId: input.userId })
    // So is every membership: one is made only by joinOrg, in a write holding its org's lock, as this one.
    if (ctx.engine.authorizer.membership(orgId, input.userId) !== null) {
      throw new OrgkitError('ALREADY_MEMBER', 'already a member', { userId: input.userId })
    }
    await assertSeatAvailable(ctx, work, orgId)
    await joinOrg(work, ctx, {
      orgId,
      userId: input.userId,
      roles: roles.map((r) => r.key),
      grantedBy: null,
      via: 'added',
    })
    return { userId: input.userId, roles: roles.map((r) => r.key) }
  })
}

/**
 * Sets a member's org roles (the Members tab's edit), under every invariant of SPEC 2. A member who only
 * inherits the org from an org above gets a direct role here in the same call (seed 004's Manage Roles on
 * a sub-organization): the membership is made through `joinOrg`, holding exactly these roles, and the
 * slots left out keep inheriting ("None").
 */
export async function updateMemberRoles(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  userId: string,
  keys: readonly string[],
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.update_user_roles', { type: 'org', id: orgId })
    const wanted = checkRoleSet(ctx, orgId, keys)
    const facts = actorFacts(ctx, actor, { type: 'org', id: orgId })
    const org = await lockedOrg(work, orgId)
    // The engine has caught up inside the org's lock, and a membership or an org role of this org changes only
    // in a write holding it: the member's own membership and bindings are read there, not from the database.
    const membership = ctx.engine.authorizer.membership(orgId, userId)
    const inherited = !membership && (await inheritsMembership(work.tx, orgId, userId))
    if (!membership && !inherited)
      throw new OrgkitError('MEMBER_NOT_FOUND', 'not a member of this organization', { userId })
    rules.assertNotCreatorsRole({ creatorId: org.creator_id }, facts.id, userId)
    // By key: the engine keeps no creation order (its lists are newest first, a restore's in heap order), and
    // the audit entry's `before` must read the same on every instance.
    const current = ctx.engine.authorizer
      .bindingsAt({ type: 'user', id: userId }, { type: 'org', id: orgId })
      .map((b) => b.role)
      .sort()
    // A role a model group holds (Owners, ADMIN) is held by being in it (issue 19.2): it is one of theirs.
    // The org's owners come in the same read, for the last-owner check below.
    const reads = await members.roleChangeReads(work.tx, orgId, userId, TEAM_ROLE, ctx.model.org.ownerRoles)
    const viaGroups = reads.viaGroups.filter((role) => groupHolding(ctx, role))
    const held = [...new Set([...current, ...viaGroups])]
    // Seed 002's DEFAULT is every account's: leaving it out of the roles keeps it.
    // An owner made by the Owners team keeps their own default role beside it, and keeps it on leaving.
    const defaultRole = ctx.model.org.defaultRole
    const keepDefault = wanted.every((r) => groupHolding(ctx, r.key)) && !groupHolding(ctx, defaultRole)
    const removed = held.filter(
      (key) =>
        !wanted.some((r) => r.key === key) &&
        groupHolding(ctx, key)?.members !== 'everyone' &&
        !(keepDefault && key === defaultRole && wanted.length > 0),
    )
    const added = wanted.filter((r) => !held.includes(r.key))
    for (const key of removed)
      rules.assertCanChangeRole(ctx.model, facts, ctx.engine.authorizer.role(key, orgId) ?? null, null)
    for (const role of added) rules.assertCanChangeRole(ctx.model, facts, null, role)
    rules.assertKeepsOwner(
      ctx.model,
      reads.owners,
      userId,
      wanted.map((r) => r.key),
    )
    await work.watchOwners(orgId)
    await takeOrgRoles(work, ctx, orgId, userId, removed)
    if (inherited) {
      await assertSeatAvailable(ctx, work, orgId)
      await joinOrg(work, ctx, {
        orgId,
        userId,
        roles: added.map((r) => r.key),
        grantedBy: actorUserId(actor),
        via: 'added',
      })
    } else {
      await giveOrgRoles(
        work,
        ctx,
        orgId,
        userId,
        added.map((r) => r.key),
        actorUserId(actor),
        null,
      )
    }
    const before = held
    const after = wanted.map((r) => r.key)
    work.audit({
      orgId,
      action: 'member.roles_changed',
      targetType: 'user',
      targetId: userId,
      before: { roles: before },
      after: { roles: after },
    })
    return { userId, roles: after, status: membership ?? 'active' }
  })
}

/** Is the user an active member of an org above this one (and so an inherited member of it)? */
async function inheritsMembership(tx: Tx, orgId: string, userId: string): Promise<boolean> {
  for (const ancestor of (await orgs.chainIds(tx, orgId)).slice(1)) {
    if ((await members.findMembership(tx, ancestor, userId))?.status === 'active') return true
  }
  return false
}

/** The org's row, locked: the one the write locked already when it is this org. */
async function lockedOrg(work: Work, orgId: string) {
  const org = work.org?.id === orgId ? work.org : await orgs.lockOrg(work.tx, orgId)
  if (!org) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  return org
}

/**
 * Removes a member (or lets a member leave): at once, their membership, bindings, group memberships and
 * overrides in this org and every sub-org go, in one transaction (SPEC 2).
 */
export async function removeMember(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, userId: string) {
  const leaving = actorUserId(actor) === userId
  if (leaving) assertNotApiKey(actor, 'leave an organization')
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    if (!leaving) authorize(ctx, actor, 'org.update_user_roles', { type: 'org', id: orgId })
    const facts = actorFacts(ctx, actor, { type: 'org', id: orgId })
    const org = await lockedOrg(work, orgId)
    const membership = await members.findMembership(work.tx, orgId, userId)
    if (!membership)
      throw new OrgkitError('MEMBER_NOT_FOUND', 'not a member of this organization', { userId })
    rules.assertNotCreatorsRole({ creatorId: org.creator_id }, facts.id, userId)
    const subtree = await orgs.subtreeIds(work.tx, orgId)
    // Every sub-org's lock before anything of theirs is read: the removal deletes the member's memberships
    // and bindings there, and a grant in a sub-org (under that org's lock only) must come before it, and be
    // read and deleted with the rest, or after it, and find no membership (review: an org role left behind).
    // The engine then catches up within those locks too, for the checks in each sub-org below.
    const below = subtree.filter((id) => id !== orgId)
    const locked = new Map([[org.id, org]])
    if (below.length > 0) {
      for (const row of await orgs.lockOrgs(work.tx, below)) locked.set(row.id, row)
      await ctx.engine.catchUpWithin(work.tx)
    }
    const held = await bindings.listBindings(work.tx, { orgIds: subtree, userId })
    // The removal reaches every sub-org: the rules hold in each org where the member has an org role, not
    // only in the one in the path (their rows locked above, so their owners can't change under us).
    const orgsHeld = [...new Set(held.filter((h) => h.scope_type === 'org').map((h) => h.org_id))]
    for (const at of orgsHeld.length ? orgsHeld : [orgId]) {
      const row = locked.get(at)
      if (!row) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId: at })
      const target = { type: 'org', id: at }
      rules.assertNotCreatorsRole({ creatorId: row.creator_id }, facts.id, userId)
      if (!leaving) {
        const factsThere = at === orgId ? facts : actorFacts(ctx, actor, target)
        for (const b of held.filter((h) => h.org_id === at && h.scope_type === 'org')) {
          rules.assertCanChangeRole(
            ctx.model,
            factsThere,
            ctx.engine.authorizer.role(b.role, at) ?? null,
            null,
          )
        }
      }
    }
    // Every org the removal reaches keeps an owner: ownership also flows through a group, where the member
    // holds no org role of their own (review: an org owned through a group alone was left with none).
    const owners = await members.activeOwnersByOrg(work.tx, subtree, ctx.model.org.ownerRoles)
    for (const at of subtree) rules.assertKeepsOwner(ctx.model, owners.get(at) ?? new Set(), userId, null)

    await assertOwnerGroupsKeepAMember(ctx, work.tx, subtree, userId)
    await work.watchOwners(...subtree)
    const memberships = (await members.listMemberships(work.tx, subtree)).filter((m) => m.user_id === userId)
    for (const m of memberships) work.apply(await members.deleteMembership(work.tx, m.org_id, userId))
    work.apply(
      await bindings.deleteBindings(
        work.tx,
        held.map((b) => b.id),
      ),
    )
    for (const g of await groups.userGroupMemberships(work.tx, userId, subtree))
      work.apply(await groups.deleteGroupMember(work.tx, g.group_id, userId))
    // SPEC 2: their API keys' access to this org and its sub-orgs goes too. A key limited to these orgs
    // alone is revoked; one limited to others as well loses these from its list (so a later re-invitation
    // doesn't bring it back to life).
    work.apply(await apiKeys.withdrawOrgsFromKeys(work.tx, userId, subtree, new Date(ctx.clock())))
    work.apply(
      await overrides.deleteOverrides(
        work.tx,
        await overrides.listOverrides(work.tx, { orgIds: subtree, userId }),
      ),
    )
    await keepEveryoneInAnOrg(work, ctx, actor, [userId])
    work.audit({
      orgId,
      action: leaving ? 'member.left' : 'member.removed',
      targetType: 'user',
      targetId: userId,
      before: {
        roles: held.filter((b) => b.org_id === orgId && b.scope_type === 'org').map((b) => b.role),
        status: membership.status,
      },
    })
    return null
  })
}
