import { api, must } from '../api.ts'
import { useAsync } from '../hooks.ts'
import type { Model, Role } from '../types.ts'

export interface RoleOption {
  value: string
  label: string
}

/**
 * The roles of one scope type, each saying whether the signed-in person may give it at the org or, with
 * `resourceId`, at that resource (the server decides: seed 001, "the role pickers offer only roles the
 * actor may grant"), highest first. `resourceId: null` — a resource still to be chosen — loads none.
 */
export function useGrantableRoles(orgId: string, scope: string, resourceId?: string | null) {
  return useAsync(async (): Promise<Role[]> => {
    if (resourceId === null) return []
    const query = resourceId ? { grantable: 'true' as const, resourceId } : { grantable: 'true' as const }
    const { items } = await must(api.GET('/v1/orgs/{orgId}/roles', { params: { path: { orgId }, query } }))
    return items.filter((r) => r.scope === scope).sort((a, b) => b.priority - a.priority)
  }, [orgId, scope, resourceId])
}

/** A picker's options: the roles the actor may give, and `held` beside them (what someone has may be kept). */
export const roleOptions = (roles: readonly Role[] | undefined, held?: string | null): RoleOption[] =>
  (roles ?? []).filter((r) => r.grantable || r.key === held).map((r) => ({ value: r.key, label: r.label }))

/**
 * Roles a model group holds at every org (seed 002's ADMIN and DEFAULT, seed 003's Owners): held by being
 * in that group, so the server gives them to no other group (BUILT_IN_GROUP) and no picker offers them.
 */
export const heldByModelGroups = (model: Model | null | undefined): ReadonlySet<string> =>
  new Set((model?.org.groups ?? []).map((g) => g.role))

/**
 * The organization roles a group may be given by the signed-in person: grantable, not a model group's
 * (issue 19.8: the picker offers only what the server accepts), and the one it holds (`held`) beside them.
 */
export const groupOrgRoleOptions = (
  roles: readonly Role[] | undefined,
  model: Model | null | undefined,
  held?: string | null,
): RoleOption[] => {
  const modelGroups = heldByModelGroups(model)
  return roleOptions(
    (roles ?? []).filter((r) => !modelGroups.has(r.key)),
    held,
  )
}
