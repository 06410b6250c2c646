import { ORG, type Target } from '@orgkit/core'
import { groups, members, orgs, resources, users } from '@orgkit/store'
import { type Actor, authorize, type Ctx, can } from './context.ts'
import { actionPermission, manageAccessTarget, visibleResource } from './resources.ts'

type Named = { type: string; id: string; name: string }

/** One way a person reaches a resource: a role held by them or by a group of theirs, or an allow override. */
export interface ReachPath {
  kind: 'role' | 'override'
  /** Who holds it: the person, or the group they reach it through. */
  through: Named & { type: 'user' | 'group' }
  /** The role (as it resolved for them); null for an override. */
  role: string | null
  /** Where it is held: the resource, a resource above it, or an org of its chain (a parent org's: inherited). */
  scope: Named
  /** Held above the resource (its app, its org, a parent org), not on it. */
  inherited: boolean
  /** The binding to change or remove; null for an override. */
  bindingId: string | null
}

export interface Reach {
  user: { id: string; email: string; name: string; external: boolean }
  paths: ReachPath[]
}

/**
 * Who reaches a resource and every way each does (the Access tab, issue 26.4): the engine's `reach` for
 * the type's read permission (every counted binding whose role grants it, and an allow override), named.
 * Readable by whoever may read the org's access or manage access here, as the Access tab's list.
 */
export async function reachOf(ctx: Ctx, actor: Actor, orgId: string, id: string) {
  const resource = await visibleResource(ctx, actor, orgId, id, ctx.db)
  const manage = manageAccessTarget(ctx, { id, type: resource.type, orgId, chain: resource.chain })
  if (!can(ctx, actor, 'org.read_access', { type: ORG, id: orgId }))
    authorize(ctx, actor, manage.permission, manage.target)
  const permission = actionPermission(ctx, resource.type, 'read')
  // A type read through the org's own permission (no read action of its own) is reached as the org is.
  const target: Target =
    ctx.model.permissions[permission]?.on === resource.type
      ? { type: resource.type, id }
      : { type: ORG, id: orgId }
  const found = ctx.engine.authorizer.reach(permission, target)
  const names = await namesFor(ctx, orgId, resource.chain, found)
  const people: Reach[] = found.map(({ userId, paths }) => {
    const user = names.users.get(userId)
    return {
      user: {
        id: userId,
        email: user?.email ?? '',
        name: user?.name ?? '',
        external: !names.memberIds.has(userId),
      },
      paths: paths.flatMap((fact): ReachPath[] => {
        if (fact.kind === 'binding') {
          return [
            {
              kind: 'role',
              through: names.principal(fact.principal),
              role: fact.role ?? fact.roleKey,
              scope: names.scope(fact.scope),
              inherited: fact.scope.id !== id,
              bindingId: fact.bindingId,
            },
          ]
        }
        if (fact.kind === 'override') {
          return [
            {
              kind: 'override',
              through: names.principal(fact.principal),
              role: null,
              scope: names.scope({ type: resource.type, id: fact.resourceId }),
              inherited: fact.resourceId !== id,
              bindingId: null,
            },
          ]
        }
        return []
      }),
    }
  })
  people.sort((a, b) => (a.user.email || a.user.name).localeCompare(b.user.email || b.user.name))
  return { resource: { type: resource.type, id, name: resource.name }, permission, people }
}

/** The names of the people, groups, orgs and resources the paths mention: a query per kind, not per path. */
async function namesFor(ctx: Ctx, orgId: string, chain: Target[], found: { userId: string }[]) {
  const chainIds = await orgs.chainIds(ctx.db, orgId)
  const [userRows, orgRows, groupRows, memberships, resourceRows] = await Promise.all([
    users.listUsersByIds(
      ctx.db,
      found.map((f) => f.userId),
    ),
    orgs.listOrgsByIds(ctx.db, chainIds),
    Promise.all(chainIds.map((o) => groups.listGroups(ctx.db, o))),
    members.listMemberships(ctx.db, chainIds),
    Promise.all(chain.map((t) => resources.findResource(ctx.db, orgId, t.id))),
  ])
  const userById = new Map(userRows.map((u) => [u.id, u]))
  const named = new Map<string, string>([
    ...orgRows.map((o) => [o.id, o.name] as const),
    ...groupRows.flat().map((g) => [g.id, g.name] as const),
    ...resourceRows.flatMap((r) => (r ? [[r.id, r.name] as const] : [])),
  ])
  return {
    users: userById,
    memberIds: new Set(memberships.filter((m) => m.status === 'active').map((m) => m.user_id)),
    principal: (p: { type: 'user' | 'group'; id: string }) => ({
      ...p,
      name:
        p.type === 'user'
          ? userById.get(p.id)?.name || userById.get(p.id)?.email || ''
          : (named.get(p.id) ?? ''),
    }),
    scope: (t: Target) => ({ type: t.type, id: t.id, name: named.get(t.id) ?? '' }),
  }
}
