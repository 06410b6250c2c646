/**
 * An authorization model (SPEC 1): resource types, permissions and built-in roles, as data. A preset is
 * one of these; a deployment may load its own. `validateModel` checks it once, at load.
 */
export const ORG = 'org'

/** A group binding with this role resolves per member (SPEC 1.3, single-role teams). */
export const TEAM_ROLE = 'team'

/** The icons a resource type may have in the console: a fixed set, so a model file names one it has. */
export const RESOURCE_ICONS = [
  'apps',
  'box',
  'cloud',
  'code',
  'database',
  'folder',
  'git-branch',
  'mobile',
  'rocket',
  'server',
  'users',
  'world',
] as const
export type ResourceIcon = (typeof RESOURCE_ICONS)[number]

export interface ResourceTypeDef {
  /** `org`, or another resource type: a channel's parent is an app. */
  parent: string
  label: string
  /** The label in the plural, as the product says it ("Apps", "Repositories"); defaults to label + "s". */
  plural?: string
  /** The console's icon for the type (`RESOURCE_ICONS`); defaults to `apps`. */
  icon?: ResourceIcon
  /** Permissions the API asks for to create (on the parent), read, update and delete one of these. */
  actions?: { create?: string; read?: string; update?: string; delete?: string }
  /** Seed 002: "If a Project has no roles or accounts assigned, it can be removed": refuse otherwise. */
  deleteOnlyWithoutAccess?: boolean
  /**
   * Seed 003's "Permissions" setting: giving a team (group) access to one of these takes org-level access
   * management, unless the org's `resourceAdminsGrantTeamAccess` lets those who manage the resource's own
   * access do it, for that resource only.
   */
  teamAccessSetting?: boolean
}

export interface PermissionDef {
  /** The one type it applies to: `org` or a resource type. */
  on: string
  module: string
  label: string
  /** May be overridden per resource with allow / deny (SPEC 1.2 step 3). */
  overridable?: boolean
}

export interface SlotDef {
  label: string
  /** Whether one principal may hold several roles of this slot at one scope. */
  multiple: boolean
}

/** A word in the singular and in the plural, as the product says it. */
export interface Noun {
  label: string
  plural: string
}

/**
 * What the product calls the people of an org, its named sets of people, and its roles (seed 002:
 * "Accounts", groups are "Roles", project access has a level; seed 003: groups are "Teams"). The console
 * says these words, never its own; a model without them gets Member, Group and Role.
 */
export interface TermsDef {
  member: Noun
  group: Noun
  role: Noun
}

export interface RoleDef {
  /** Where it can be bound: `org` or a resource type. */
  scope: string
  /** Roles of one slot compete: a sub-org's roles in a slot replace the inherited ones. */
  slot: string
  label: string
  description: string
  permissions: readonly string[]
  /** Sort order in member lists and rank: higher outranks lower; no one grants above their own. */
  priority: number
}

export interface OrgDef {
  /** Given to whoever creates an org. */
  creatorRole: string
  /** At least one active member holds one of these, always. */
  ownerRoles: readonly string[]
  /** Role of a member who accepted an invitation without one. */
  defaultRole: string
  /**
   * Sign-up makes each new user a personal org, which they own (seed 001: "every Capgo account belongs to
   * at least one organization"; seed 004).
   */
  personalOrgOnSignup: boolean
  /**
   * Seed 004: "each user must be an Owner of at least one organization": no write may take away a user's
   * last owner role (demotion, removal, leaving, deleting the org). Seed 001 asks only that an account
   * belongs to an org, so its preset makes the personal org without this rule.
   */
  everyUserOwnsAnOrg?: boolean
  subOrgs: boolean
  /**
   * Groups every org starts with, bound to a role at the org (seed 002: `DEFAULT` holds every member,
   * automatically; `ADMIN` starts with the creator).
   */
  groups?: readonly { name: string; role: string; members: 'everyone' | 'creator' }[]
}

export interface Model {
  name: string
  label?: string
  resourceTypes: Readonly<Record<string, ResourceTypeDef>>
  modules: Readonly<Record<string, { label: string }>>
  permissions: Readonly<Record<string, PermissionDef>>
  slots: Readonly<Record<string, SlotDef>>
  roles: Readonly<Record<string, RoleDef>>
  /**
   * Team levels (seed 003): a team's role (and a member's role in it) may name a level, resolved per scope
   * to a role — `{ write: { org: 'all_repos_write', repository: 'repo_write' } }` — so one level works for
   * a team bound to the whole org and to chosen repositories alike.
   */
  teamLevels?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** The product's words for members, groups and roles (defaults: `DEFAULT_TERMS`). */
  terms?: TermsDef
  /**
   * Where bindings of roles this model no longer has go (issue 23.3, docs/models.md): `{ old_role: new_role }`.
   * A server started with this model moves them, in one audited write, before it serves; without a mapping
   * a bound role the model lacks refuses the start (`orgkit model diff` lists them first).
   */
  removedRoles?: Readonly<Record<string, string>>
  org: OrgDef
}

export const DEFAULT_TERMS: TermsDef = {
  member: { label: 'Member', plural: 'Members' },
  group: { label: 'Group', plural: 'Groups' },
  role: { label: 'Role', plural: 'Roles' },
}

/** English plural of a label: "Repository" → "Repositories", "App" → "Apps". */
export const pluralOf = (label: string): string =>
  /[^aeiou]y$/i.test(label)
    ? `${label.slice(0, -1)}ies`
    : /(s|x|z|ch|sh)$/i.test(label)
      ? `${label}es`
      : `${label}s`

/**
 * Permissions the platform itself asks for (members, invitations, settings, audit, billing …). Every
 * model declares them on `org`, so the service layer can authorize its own writes under any preset.
 */
export const PLATFORM_PERMISSIONS = [
  'org.read',
  'org.read_members',
  'org.update_settings',
  'org.invite_user',
  'org.update_user_roles',
  'org.manage_groups',
  'org.read_audit',
  'org.manage_webhooks',
  'org.manage_apikeys',
  'org.read_access',
  'org.manage_security',
  'org.delete',
  'org.transfer',
  'org.read_billing',
  'org.update_billing',
  'org.read_invoices',
  'org.read_billing_audit',
] as const

/** A permission every model declares: code that serves any model (the console, the services) may name it. */
export type PlatformPermission = (typeof PLATFORM_PERMISSIONS)[number]

/**
 * A statically known model's permission keys as a literal union. Declare a model of your own with
 * `satisfies Model` (not `: Model`) to keep its keys; for a model typed `Model`, loaded or chosen at run
 * time, this is `string`, so code written against any model keeps compiling.
 */
export type PermissionOf<M extends Pick<Model, 'permissions'>> = Extract<keyof M['permissions'], string>

/** A statically known model's role keys as a literal union (`string` for a model typed `Model`). */
export type RoleOf<M extends Pick<Model, 'roles'>> = Extract<keyof M['roles'], string>
