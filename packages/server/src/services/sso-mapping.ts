import { z } from '@hono/zod-openapi'
import { OrgkitError, rules } from '@orgkit/core'
import { bindings, type Executor, groups, orgs, type sso, type Tx } from '@orgkit/store'
import { type Actor, actorFacts, type Ctx, type Work } from './context.ts'
import { rolesGiven } from './groups.ts'
import { giveOrgRoles, takeOrgRoles } from './joining.ts'

/**
 * A connection's mapping rules (issue 21.1, seed 003's "Team Mapping"): an IdP group (from the groups claim
 * or attribute) → an Orgkit group or team (with a level: Read / Write / Admin), or → an org role.
 *
 * The rules are the IdP's say over what they name, applied on every sign-in: a person is in a mapped group
 * exactly while one of their IdP groups maps to it; in each slot a role rule names, they hold the first
 * matching rule's role, else the connection's default role. Nothing else is touched, ownership never (owner
 * roles and the groups holding them can't be mapped, and a slot where the person holds an owner role is
 * left alone). With single-role teams on (seed 003), a team's own level applies: the IdP group decides
 * which team, and so the level.
 */
const IdpGroup = z.string().min(1).max(500)
export const SsoMappingSchema = z.union([
  z
    .object({ idpGroup: IdpGroup, groupId: z.string().uuid(), level: z.string().min(1).max(100).nullish() })
    .strict(),
  z.object({ idpGroup: IdpGroup, role: z.string().min(1).max(100) }).strict(),
])
export type SsoMapping = z.infer<typeof SsoMappingSchema>
export const SsoMappingsSchema = z.array(SsoMappingSchema).max(200)

const ORG = 'org'

export const defaultRoleOf = (ctx: Ctx, row: { default_role: string | null }) =>
  row.default_role ?? ctx.model.org.defaultRole

/**
 * An admin's rules and default role, checked as granting them directly would be: every role exists at org
 * scope, is no owner role, and is one the actor may grant; every group is one of the org's own (not a
 * model group), and what it gives at the level named is grantable by the actor (no escalation via the IdP).
 */
export async function checkMappings(
  ctx: Ctx,
  actor: Actor,
  tx: Tx,
  orgId: string,
  mappings: readonly SsoMapping[],
  defaultRole: string | null,
): Promise<void> {
  const facts = actorFacts(ctx, actor, { type: ORG, id: orgId })
  const roles = mappings.flatMap((m) => ('role' in m ? [m.role] : []))
  for (const [i, key] of [...roles, ...(defaultRole ? [defaultRole] : [])].entries()) {
    const field = i < roles.length ? 'mappings' : 'defaultRole'
    const role = ctx.engine.authorizer.role(key, orgId)
    if (!role || role.scope !== ORG)
      throw new OrgkitError('UNKNOWN_ROLE', `"${key}" is no organization role`, { field, role: key })
    if (rules.isOwnerRole(ctx.model, key))
      throw new OrgkitError('VALIDATION_FAILED', `"${key}" is ownership: SSO never gives it`, {
        field,
        role: key,
      })
    rules.assertCanGrant(facts, role)
  }
  const builtIn = new Set((ctx.model.org.groups ?? []).map((g) => g.name))
  for (const m of mappings) {
    if (!('groupId' in m)) continue
    const group = await groups.findGroup(tx, orgId, m.groupId)
    if (!group)
      throw new OrgkitError('GROUP_NOT_FOUND', 'no such group', { field: 'mappings', groupId: m.groupId })
    if (builtIn.has(group.name))
      throw new OrgkitError('VALIDATION_FAILED', `"${group.name}" is a built-in group: map another`, {
        field: 'mappings',
        groupId: m.groupId,
      })
    if (m.level != null && !Object.hasOwn(ctx.model.teamLevels ?? {}, m.level))
      throw new OrgkitError('UNKNOWN_ROLE', `"${m.level}" is no team level`, {
        field: 'mappings',
        role: m.level,
      })
    for (const { role, scope } of await rolesGiven(ctx, tx, orgId, group, m.level ?? null))
      rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, scope), null, role)
  }
}

/** Applies the rules to one person at sign-in, in its write: idempotent, each change audited as SSO's. */
export async function applyMappings(
  work: Work,
  ctx: Ctx,
  row: sso.SsoConnectionRow,
  userId: string,
  idpGroups: readonly string[],
): Promise<void> {
  const mappings = SsoMappingsSchema.catch([]).parse(row.mappings)
  const has = new Set(idpGroups)
  await applyRoleRules(work, ctx, row, userId, mappings, has)
  await applyGroupRules(work, row.org_id, userId, mappings, has)
}

async function applyRoleRules(
  work: Work,
  ctx: Ctx,
  row: sso.SsoConnectionRow,
  userId: string,
  mappings: readonly SsoMapping[],
  has: ReadonlySet<string>,
) {
  const orgId = row.org_id
  const authz = ctx.engine.authorizer
  const slotOf = (key: string) => authz.role(key, orgId)?.slot
  const wanted = new Map<string, string | null>()
  for (const m of mappings) {
    if (!('role' in m)) continue
    const slot = slotOf(m.role)
    if (slot === undefined) continue
    if (!wanted.get(slot)) wanted.set(slot, has.has(m.idpGroup) ? m.role : null)
  }
  if (wanted.size === 0) return
  const fallback = defaultRoleOf(ctx, row)
  const held = await heldOrgRoles(work.tx, ctx, orgId, userId)
  for (const [slot, match] of wanted) {
    const desired = match ?? (slotOf(fallback) === slot ? fallback : null)
    const inSlot = held.filter((k) => slotOf(k) === slot)
    if (inSlot.some((k) => rules.isOwnerRole(ctx.model, k))) continue
    const take = inSlot.filter((k) => k !== desired)
    const give = desired && !inSlot.includes(desired) ? [desired] : []
    if (take.length === 0 && give.length === 0) continue
    await takeOrgRoles(work, ctx, orgId, userId, take)
    await giveOrgRoles(work, ctx, orgId, userId, give, null, 'sso')
    work.audit({
      orgId,
      action: 'member.roles_changed',
      targetType: 'user',
      targetId: userId,
      before: { roles: inSlot },
      after: {
        roles: [...inSlot.filter((k) => !take.includes(k)), ...give],
        via: 'sso',
        connectionId: row.id,
      },
    })
  }
}

/** The org roles a member holds at the org itself: their own bindings and the model groups they are in. */
async function heldOrgRoles(db: Executor, ctx: Ctx, orgId: string, userId: string): Promise<string[]> {
  const own = await bindings.listBindings(db, { orgIds: [orgId], userId, orgScopeOnly: true })
  const specs = ctx.model.org.groups ?? []
  const viaGroups: string[] = []
  for (const group of await groups.findGroupsByName(
    db,
    orgId,
    specs.map((s) => s.name),
  )) {
    if (await groups.findGroupMember(db, group.id, userId))
      viaGroups.push(specs.find((s) => s.name === group.name)!.role)
  }
  return [...new Set([...own.map((b) => b.role), ...viaGroups])]
}

async function applyGroupRules(
  work: Work,
  orgId: string,
  userId: string,
  mappings: readonly SsoMapping[],
  has: ReadonlySet<string>,
) {
  const wanted = new Map<string, { want: boolean; level: string | null }>()
  for (const m of mappings) {
    if (!('groupId' in m)) continue
    if (wanted.get(m.groupId)?.want) continue
    wanted.set(m.groupId, { want: has.has(m.idpGroup), level: m.level ?? null })
  }
  if (wanted.size === 0) return
  const org = await orgs.findOrg(work.tx, orgId)
  for (const [groupId, { want, level }] of wanted) {
    if (!(await groups.findGroup(work.tx, orgId, groupId))) continue // deleted since: the rule is moot
    const existing = await groups.findGroupMember(work.tx, groupId, userId)
    if (want) {
      // Single-role teams on: members' own levels are suspended (kept as they are); the team's level applies.
      const memberRole = org?.single_role_teams ? (existing?.member_role ?? null) : level
      if (existing && existing.member_role === memberRole) continue
      work.apply(await groups.upsertGroupMember(work.tx, groupId, userId, memberRole))
      work.audit({
        orgId,
        action: 'group.member_set',
        targetType: 'group',
        targetId: groupId,
        after: { userId, memberRole, via: 'sso' },
      })
    } else if (existing) {
      work.apply(await groups.deleteGroupMember(work.tx, groupId, userId))
      work.audit({
        orgId,
        action: 'group.member_removed',
        targetType: 'group',
        targetId: groupId,
        before: { userId },
        after: { via: 'sso' },
      })
    }
  }
}
