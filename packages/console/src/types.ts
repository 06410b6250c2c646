import type { components } from '@orgkit/sdk'

export type Me = components['schemas']['User']
export type Org = components['schemas']['Org']
export type Member = components['schemas']['Member']
export type Resource = components['schemas']['Resource']
export type Role = components['schemas']['Role']
export type Group = components['schemas']['Group']
export type Override = components['schemas']['Override']
export type Binding = components['schemas']['Binding']

/** GET /v1/model: the authorization model in force (packages/core/src/model/model.ts). */
export interface Model {
  name: string
  label?: string
  resourceTypes: Record<
    string,
    {
      parent: string
      label: string
      /** "Apps", "Repositories": always served (core's validate.ts fills it in). */
      plural?: string
      /** The console's icon (components/ResourceIcon.tsx); `apps` when the model names none. */
      icon?: string
      actions?: Record<string, string>
      teamAccessSetting?: boolean
      /** Seed 002: a project nobody has access to may be deleted; one with access may not. */
      deleteOnlyWithoutAccess?: boolean
    }
  >
  /** The product's words for members, groups and roles (seed 002: Accounts, Roles, Access levels). */
  terms?: Record<'member' | 'group' | 'role', { label: string; plural: string }>
  modules?: Record<string, { label: string }>
  slots?: Record<string, { label: string; multiple: boolean }>
  /** Seed 003: a team level (read / write / admin) per scope type → role. */
  teamLevels?: Record<string, Record<string, string>>
  permissions: Record<string, { on: string; module: string; label: string; overridable?: boolean }>
  roles: Record<string, { scope: string; slot: string; label: string; description: string; priority: number }>
  org: {
    creatorRole: string
    ownerRoles: string[]
    defaultRole: string
    subOrgs: boolean
    /** Groups every org starts with, each holding a role (seed 002's DEFAULT and ADMIN, seed 003's Owners). */
    groups?: { name: string; role: string; members: 'everyone' | 'creator' }[]
  }
}

/** A role's label from the model; before sign-in (no model yet) the key, made readable. */
export const roleLabel = (model: Model | undefined, key: string): string =>
  model?.roles[key]?.label ?? key.replaceAll('_', ' ').replace(/^\w/, (c) => c.toUpperCase())

/**
 * The permission that manages who has access to a resource of this type: the type's own `update_user_roles`
 * where the model has one, else the org's (the server's manageAccessTarget). Checked on the resource, or on
 * the org when it is the org's.
 */
export function manageAccessPermission(model: Model | undefined, type: string): string {
  return model?.permissions[`${type}.update_user_roles`]
    ? `${type}.update_user_roles`
    : 'org.update_user_roles'
}
