import { z } from 'zod'
import { OrgkitError } from '../errors.ts'
import { DEFAULT_TERMS, type Model, ORG, PLATFORM_PERMISSIONS, pluralOf, TEAM_ROLE } from './model.ts'

const KEY = /^[a-z][a-z0-9_]*$/
const PERMISSION_KEY = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/
/** Slots are a bit mask in the engine's hot loop. */
export const MAX_SLOTS = 30

const key = z.string().regex(KEY, 'must be lower_snake_case')
const noun = z.object({ label: z.string().min(1), plural: z.string().min(1) })

const modelSchema = z.object({
  name: z.string().min(1),
  label: z.string().optional(),
  resourceTypes: z.record(
    key,
    z.object({
      parent: z.string(),
      label: z.string(),
      plural: z.string().min(1).optional(),
      actions: z
        .object({
          create: z.string().optional(),
          read: z.string().optional(),
          update: z.string().optional(),
          delete: z.string().optional(),
        })
        .optional(),
      deleteOnlyWithoutAccess: z.boolean().optional(),
      teamAccessSetting: z.boolean().optional(),
    }),
  ),
  modules: z.record(key, z.object({ label: z.string() })),
  permissions: z.record(
    z.string().regex(PERMISSION_KEY, 'must be noun.verb'),
    z.object({ on: z.string(), module: z.string(), label: z.string(), overridable: z.boolean().optional() }),
  ),
  slots: z.record(key, z.object({ label: z.string(), multiple: z.boolean() })),
  roles: z.record(
    key,
    z.object({
      scope: z.string(),
      slot: z.string(),
      label: z.string(),
      description: z.string(),
      permissions: z.array(z.string()),
      priority: z.number().int(),
    }),
  ),
  teamLevels: z.record(key, z.record(z.string(), z.string())).optional(),
  terms: z.object({ member: noun, group: noun, role: noun }).partial().optional(),
  org: z.object({
    creatorRole: z.string(),
    ownerRoles: z.array(z.string()).min(1),
    defaultRole: z.string(),
    personalOrgOnSignup: z.boolean(),
    everyUserOwnsAnOrg: z.boolean().optional(),
    subOrgs: z.boolean(),
    groups: z
      .array(
        z.object({ name: z.string().min(1), role: z.string(), members: z.enum(['everyone', 'creator']) }),
      )
      .optional(),
  }),
})

function fail(model: string, message: string, culprit: string): never {
  throw new OrgkitError('INVALID_MODEL', `model "${model}": ${message}`, { culprit })
}

/** The chain of types from `type` up to org, or a clear error on an unknown parent or a cycle. */
function typeChain(model: Model, type: string): string[] {
  const chain = [type]
  let current = type
  while (current !== ORG) {
    const def = model.resourceTypes[current]
    if (!def) fail(model.name, `resource type "${current}" is not declared`, current)
    if (chain.includes(def.parent)) {
      fail(model.name, `resource type "${type}" has a cycle: ${[...chain, def.parent].join(' -> ')}`, type)
    }
    chain.push(def.parent)
    current = def.parent
  }
  return chain
}

/**
 * Checks a model once, at load: its shape, then every cross reference. Each error names the culprit
 * (`details.culprit`), so a typo in a deployment's model file fails at start-up, not at the first check.
 */
export function validateModel(input: unknown): Model {
  const parsed = modelSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.join('.')
    throw new OrgkitError('INVALID_MODEL', `model: ${where}: ${issue.message}`, { culprit: where })
  }
  // Prototype-less records: a key like "toString" or "constructor" is never mistaken for a declared one.
  const dict = <T>(record: Record<string, T>): Record<string, T> => Object.assign(Object.create(null), record)
  const data = parsed.data
  const model: Model = {
    ...data,
    // Every type served with its plural and the model with its terms: the console says only these words.
    resourceTypes: dict(
      Object.fromEntries(
        Object.entries(data.resourceTypes).map(([type, def]) => [
          type,
          { ...def, plural: def.plural ?? pluralOf(def.label) },
        ]),
      ),
    ),
    terms: { ...DEFAULT_TERMS, ...data.terms },
    modules: dict(data.modules),
    permissions: dict(data.permissions),
    slots: dict(data.slots),
    roles: dict(data.roles),
    ...(data.teamLevels && { teamLevels: dict(data.teamLevels) }),
  } as Model
  const name = model.name

  if (model.resourceTypes[ORG]) fail(name, '"org" is built in and cannot be declared as a resource type', ORG)
  for (const type of Object.keys(model.resourceTypes)) typeChain(model, type)
  const isType = (t: string) => t === ORG || t in model.resourceTypes

  for (const [key, permission] of Object.entries(model.permissions)) {
    if (!isType(permission.on)) fail(name, `permission "${key}" is on unknown type "${permission.on}"`, key)
    if (!model.modules[permission.module]) {
      fail(name, `permission "${key}" is in unknown module "${permission.module}"`, key)
    }
    if (permission.overridable && permission.on === ORG) {
      fail(name, `permission "${key}" is on org and cannot be overridable (overrides are per resource)`, key)
    }
  }
  for (const key of PLATFORM_PERMISSIONS) {
    if (model.permissions[key]?.on !== ORG)
      fail(name, `platform permission "${key}" must be declared on org`, key)
  }
  for (const [type, def] of Object.entries(model.resourceTypes)) {
    for (const [action, permission] of Object.entries(def.actions ?? {})) {
      const expectedOn = action === 'create' ? def.parent : type
      if (permission === undefined) continue
      if (!model.permissions[permission]) {
        fail(name, `resource type "${type}" action ${action} names unknown permission "${permission}"`, type)
      }
      if (model.permissions[permission]!.on !== expectedOn) {
        fail(
          name,
          `resource type "${type}" action ${action}: "${permission}" must be on "${expectedOn}"`,
          type,
        )
      }
    }
  }

  if (Object.keys(model.slots).length > MAX_SLOTS) fail(name, `more than ${MAX_SLOTS} slots`, 'slots')
  for (const [key, role] of Object.entries(model.roles)) {
    if (key === TEAM_ROLE) fail(name, `role key "${TEAM_ROLE}" is reserved for team bindings`, key)
    if (!isType(role.scope)) fail(name, `role "${key}" is bound at unknown scope "${role.scope}"`, key)
    if (!model.slots[role.slot]) fail(name, `role "${key}" is in unknown slot "${role.slot}"`, key)
    // A role bound at a scope reaches that scope and everything below it, never above or aside.
    for (const permission of role.permissions) {
      const def = model.permissions[permission]
      if (!def) fail(name, `role "${key}" has unknown permission "${permission}"`, key)
      if (def.on !== role.scope && !(def.on !== ORG && typeChain(model, def.on).includes(role.scope))) {
        fail(
          name,
          `role "${key}" is bound at "${role.scope}" but permission "${permission}" is on "${def.on}", which is not at or below it`,
          key,
        )
      }
    }
    if (new Set(role.permissions).size !== role.permissions.length) {
      fail(name, `role "${key}" lists a permission twice`, key)
    }
  }

  for (const [level, byScope] of Object.entries(model.teamLevels ?? {})) {
    if (model.roles[level]) fail(name, `team level "${level}" has the name of a role`, level)
    for (const [scope, roleKey] of Object.entries(byScope)) {
      const role = model.roles[roleKey]
      if (!role) fail(name, `team level "${level}" names unknown role "${roleKey}"`, level)
      if (role.scope !== scope)
        fail(name, `team level "${level}" at ${scope} names "${roleKey}", bound at ${role.scope}`, level)
    }
  }

  const orgRole = (field: string, key: string) => {
    const role = model.roles[key]
    if (!role) fail(name, `org.${field} names unknown role "${key}"`, key)
    if (role.scope !== ORG)
      fail(name, `org.${field} role "${key}" must be bound at org, not "${role.scope}"`, key)
  }
  orgRole('creatorRole', model.org.creatorRole)
  orgRole('defaultRole', model.org.defaultRole)
  for (const key of model.org.ownerRoles) orgRole('ownerRoles', key)
  for (const group of model.org.groups ?? []) orgRole('groups', group.role)
  if (!model.org.ownerRoles.includes(model.org.creatorRole)) {
    fail(
      name,
      `org.creatorRole "${model.org.creatorRole}" must be one of org.ownerRoles`,
      model.org.creatorRole,
    )
  }
  return model
}

/** The resource types from `type` up to (and including) org. */
export function ancestorTypes(model: Model, type: string): string[] {
  return type === ORG ? [ORG] : typeChain(model, type)
}
