import type { z } from 'zod'
import { OrgkitError } from '../errors.ts'
import { DEFAULT_TERMS, type Model, ORG, PLATFORM_PERMISSIONS, pluralOf, TEAM_ROLE } from './model.ts'
import { nearest } from './nearest.ts'
import { type ModelPath, type ModelProblem, patch, shapeProblems } from './problems.ts'

export type { ModelPath, ModelProblem } from './problems.ts'

import { PLATFORM_MODULES, platformPermissions } from './presets/platform.ts'
import { modelSchema } from './schema.ts'

/** Slots are a bit mask in the engine's hot loop. */
export const MAX_SLOTS = 30

/** The chain of types from `type` up to org, or null on an unknown parent or a cycle. */
function chainOf(model: Model, type: string): string[] | null {
  const chain = [type]
  let current = type
  while (current !== ORG) {
    const def = model.resourceTypes[current]
    if (!def || chain.includes(def.parent)) return null
    chain.push(def.parent)
    current = def.parent
  }
  return chain
}

const dict = <T>(record: Record<string, T>): Record<string, T> => Object.assign(Object.create(null), record)

/**
 * The parsed model with its defaults: each type's plural, the terms, and the platform's own permissions
 * (members, invitations, settings, audit, billing …) a model file leaves out, with their modules.
 */
function withDefaults(data: z.infer<typeof modelSchema>): Model {
  const platform = Object.entries(platformPermissions()).filter(([key]) => !data.permissions[key])
  const platformModules = Object.entries(PLATFORM_MODULES).filter(
    ([module]) => !data.modules[module] && platform.some(([, def]) => def.module === module),
  )
  return {
    ...data,
    resourceTypes: dict(
      Object.fromEntries(
        Object.entries(data.resourceTypes).map(([type, def]) => [
          type,
          { ...def, plural: def.plural ?? pluralOf(def.label) },
        ]),
      ),
    ),
    terms: { ...DEFAULT_TERMS, ...data.terms },
    modules: dict({ ...Object.fromEntries(platformModules), ...data.modules }),
    permissions: dict({ ...Object.fromEntries(platform), ...data.permissions }),
    slots: dict(data.slots),
    roles: dict(data.roles),
    ...(data.teamLevels && { teamLevels: dict(data.teamLevels) }),
  } as Model
}

/** Every cross reference of a well-shaped model, each broken one a problem. */
function referenceProblems(model: Model): ModelProblem[] {
  const problems: ModelProblem[] = []
  const add = (path: ModelPath, culprit: string, message: string, hint?: string) =>
    problems.push({ path, culprit, message, ...(hint && { hint }) })
  const types = [ORG, ...Object.keys(model.resourceTypes)]
  const isType = (t: string) => t === ORG || t in model.resourceTypes
  const suggest = (word: string, among: readonly string[], what: string) => {
    const best = nearest(word, among)
    return best ? `did you mean "${best}"?` : `${what}: ${among.join(', ')}`
  }

  if (model.resourceTypes[ORG]) {
    add(['resourceTypes', ORG], ORG, '"org" is built in and cannot be declared as a resource type')
  }
  for (const [type, def] of Object.entries(model.resourceTypes)) {
    if (type === ORG) continue
    if (!isType(def.parent)) {
      add(['resourceTypes', type, 'parent'], def.parent, `resource type "${def.parent}" is not declared`)
      problems.at(-1)!.hint = suggest(def.parent, types, 'declared types')
    }
  }
  for (const type of Object.keys(model.resourceTypes)) {
    const seen = [type]
    let current = model.resourceTypes[type]?.parent
    while (current && current !== ORG && model.resourceTypes[current]) {
      if (seen.includes(current)) {
        if (current === type) {
          add(
            ['resourceTypes', type, 'parent'],
            type,
            `resource type "${type}" has a cycle: ${[...seen, current].join(' -> ')}`,
            'every chain of parents must end at `org`',
          )
        }
        break
      }
      seen.push(current)
      current = model.resourceTypes[current]!.parent
    }
  }

  for (const [key, permission] of Object.entries(model.permissions)) {
    if (!isType(permission.on)) {
      add(['permissions', key, 'on'], key, `permission "${key}" is on unknown type "${permission.on}"`)
      problems.at(-1)!.hint = suggest(permission.on, types, 'types')
    }
    if (!model.modules[permission.module]) {
      add(
        ['permissions', key, 'module'],
        key,
        `permission "${key}" is in unknown module "${permission.module}"`,
      )
      problems.at(-1)!.hint = suggest(permission.module, Object.keys(model.modules), 'modules')
    }
    if (permission.overridable && permission.on === ORG) {
      add(
        ['permissions', key, 'overridable'],
        key,
        `permission "${key}" is on org and cannot be overridable (overrides are per resource)`,
        'remove `overridable`',
      )
    }
  }
  for (const key of PLATFORM_PERMISSIONS) {
    if (model.permissions[key]?.on !== ORG) {
      add(
        model.permissions[key] ? ['permissions', key, 'on'] : ['permissions'],
        key,
        `platform permission "${key}" must be declared on org`,
        `declare \`${key}: { on: org, module: …, label: … }\` (docs/models.md lists the platform permissions)`,
      )
    }
  }
  for (const [type, def] of Object.entries(model.resourceTypes)) {
    for (const [action, permission] of Object.entries(def.actions ?? {})) {
      if (permission === undefined) continue
      const expectedOn = action === 'create' ? def.parent : type
      const path = ['resourceTypes', type, 'actions', action]
      if (!model.permissions[permission]) {
        add(path, type, `resource type "${type}" action ${action} names unknown permission "${permission}"`)
        problems.at(-1)!.hint = suggest(permission, Object.keys(model.permissions), 'permissions')
      } else if (model.permissions[permission]!.on !== expectedOn) {
        add(
          path,
          type,
          `resource type "${type}" action ${action}: "${permission}" must be on "${expectedOn}"`,
        )
      }
    }
  }

  if (Object.keys(model.slots).length > MAX_SLOTS) add(['slots'], 'slots', `more than ${MAX_SLOTS} slots`)
  for (const [key, role] of Object.entries(model.roles)) {
    if (key === TEAM_ROLE) {
      add(['roles', key], key, `role key "${TEAM_ROLE}" is reserved for team bindings`, 'name it otherwise')
      problems.at(-1)!.atKey = true
    }
    if (!isType(role.scope)) {
      add(['roles', key, 'scope'], key, `role "${key}" is bound at unknown scope "${role.scope}"`)
      problems.at(-1)!.hint = suggest(role.scope, types, 'scopes')
    }
    if (!model.slots[role.slot]) {
      add(['roles', key, 'slot'], key, `role "${key}" is in unknown slot "${role.slot}"`)
      problems.at(-1)!.hint = suggest(role.slot, Object.keys(model.slots), 'slots')
    }
    const reach = isType(role.scope) ? reachableTypes(model, role.scope) : null
    role.permissions.forEach((permission, i) => {
      const path = ['roles', key, 'permissions', i]
      const def = model.permissions[permission]
      if (isWildcard(permission)) {
        if (reach && matching(model, permission, reach).length === 0) {
          add(path, key, `role "${key}": "${permission}" matches no permission on ${reach.join(', ')}`)
          problems.at(-1)!.hint =
            '`*` is every permission the role may hold; `project.*` those named project.…'
        }
      } else if (!def) {
        add(path, key, `role "${key}" has unknown permission "${permission}"`)
        const onReach = Object.keys(model.permissions).filter(
          (p) => !reach || reach.includes(model.permissions[p]!.on),
        )
        problems.at(-1)!.hint = suggest(permission, onReach, 'permissions it may hold')
      } else if (reach && !reach.includes(def.on)) {
        add(
          path,
          key,
          `role "${key}" is bound at "${role.scope}" but permission "${permission}" is on "${def.on}", which is not at or below it`,
          `a role at "${role.scope}" holds permissions on ${reach.join(', ')}; bind a role at "${def.on}" (or above it) for this one`,
        )
      }
      if (role.permissions.indexOf(permission) !== i) {
        add(path, key, `role "${key}" lists a permission twice ("${permission}")`, 'remove this line')
      }
    })
  }

  for (const [level, byScope] of Object.entries(model.teamLevels ?? {})) {
    if (model.roles[level]) {
      add(['teamLevels', level], level, `team level "${level}" has the name of a role`, 'rename the level')
      problems.at(-1)!.atKey = true
    }
    for (const [scope, roleKey] of Object.entries(byScope)) {
      const role = model.roles[roleKey]
      if (!role) {
        add(['teamLevels', level, scope], level, `team level "${level}" names unknown role "${roleKey}"`)
        problems.at(-1)!.hint = suggest(roleKey, Object.keys(model.roles), 'roles')
      } else if (role.scope !== scope) {
        add(
          ['teamLevels', level, scope],
          level,
          `team level "${level}" at ${scope} names "${roleKey}", bound at ${role.scope}`,
        )
      }
    }
  }

  const orgRoles = Object.keys(model.roles).filter((k) => model.roles[k]!.scope === ORG)
  const orgRole = (path: ModelPath, field: string, key: string) => {
    const role = model.roles[key]
    if (!role) {
      add(path, key, `org.${field} names unknown role "${key}"`, suggest(key, orgRoles, 'org roles'))
    } else if (role.scope !== ORG) {
      add(path, key, `org.${field} role "${key}" must be bound at org, not "${role.scope}"`)
      problems.at(-1)!.hint = `org roles: ${orgRoles.join(', ')}`
    }
  }
  orgRole(['org', 'creatorRole'], 'creatorRole', model.org.creatorRole)
  orgRole(['org', 'defaultRole'], 'defaultRole', model.org.defaultRole)
  for (const [i, key] of model.org.ownerRoles.entries()) orgRole(['org', 'ownerRoles', i], 'ownerRoles', key)
  for (const [i, group] of (model.org.groups ?? []).entries()) {
    orgRole(['org', 'groups', i, 'role'], 'groups', group.role)
  }
  if (!model.org.ownerRoles.includes(model.org.creatorRole)) {
    add(
      ['org', 'creatorRole'],
      model.org.creatorRole,
      `org.creatorRole "${model.org.creatorRole}" must be one of org.ownerRoles`,
      `add "${model.org.creatorRole}" to org.ownerRoles`,
    )
  }
  return problems
}

const isWildcard = (permission: string) => permission === '*' || permission.endsWith('.*')

/** The permissions a wildcard names among those on `reach`: `*` all, `project.*` those named project.… */
function matching(model: Model, wildcard: string, reach: readonly string[]): string[] {
  const prefix = wildcard === '*' ? '' : wildcard.slice(0, -1)
  return Object.keys(model.permissions).filter(
    (key) => key.startsWith(prefix) && reach.includes(model.permissions[key]!.on),
  )
}

/** The model with each role's wildcards written out, in order, each permission once. */
function expandWildcards(model: Model): Model {
  const roles = Object.entries(model.roles).map(([key, role]) => {
    if (!role.permissions.some(isWildcard)) return [key, role] as const
    const reach = reachableTypes(model, role.scope)
    const permissions = [
      ...new Set(role.permissions.flatMap((p) => (isWildcard(p) ? matching(model, p, reach) : [p]))),
    ]
    return [key, { ...role, permissions }] as const
  })
  return { ...model, roles: dict(Object.fromEntries(roles)) }
}

/** The types a role bound at `scope` reaches: the scope and every type below it. */
function reachableTypes(model: Model, scope: string): string[] {
  return [ORG, ...Object.keys(model.resourceTypes)].filter((t) => {
    if (t === scope) return true
    if (t === ORG) return false
    return chainOf(model, t)?.includes(scope) ?? false
  })
}

/**
 * Every problem of a model at once: its shape first (a misspelt field, a missing label, a wrong type);
 * when the shape holds, every cross reference (an unknown permission in a role, a role at a scope its
 * permissions are not at or below, a cycle of types, a duplicate, an unknown role in `org`).
 */
export function modelProblems(input: unknown): { model: Model | null; problems: ModelProblem[] } {
  const parsed = modelSchema.safeParse(input)
  if (parsed.success) {
    const model = withDefaults(parsed.data)
    const problems = referenceProblems(model)
    return { model: problems.length ? model : expandWildcards(model), problems }
  }
  const problems = shapeProblems(parsed.error.issues)
  return { model: null, problems: [...problems, ...referenceProblemsDespite(input, problems)] }
}

/**
 * The cross references of a model whose shape is wrong, so one run reports them too: the wrong fields
 * patched with placeholders (a misspelt one dropped), and no problem reported twice for one field.
 */
function referenceProblemsDespite(input: unknown, shape: readonly ModelProblem[]): ModelProblem[] {
  let patched: unknown = structuredClone(input)
  for (let round = 0; round < 3; round++) {
    const parsed = modelSchema.safeParse(patched)
    if (parsed.success) {
      const prefixOf = (a: ModelPath, b: ModelPath) => a.every((step, i) => String(b[i]) === String(step))
      return referenceProblems(withDefaults(parsed.data)).filter(
        (r) => !shape.some((s) => prefixOf(s.path, r.path) || prefixOf(r.path, s.path)),
      )
    }
    patched = patch(patched, parsed.error.issues)
  }
  return []
}

/**
 * Checks a model once, at load: its shape, then every cross reference. The first error names the culprit
 * (`details.culprit`), so a typo in a deployment's model fails at start-up, not at the first check;
 * `modelProblems` gives them all (a model file reports every one with its line).
 */
export function validateModel(input: unknown): Model {
  const { model, problems } = modelProblems(input)
  const first = problems[0]
  if (first) {
    const name = model ? `model "${model.name}"` : 'model'
    throw new OrgkitError('INVALID_MODEL', `${name}: ${first.message}`, { culprit: first.culprit })
  }
  return model!
}

/** The resource types from `type` up to (and including) org. */
export function ancestorTypes(model: Model, type: string): string[] {
  if (type === ORG) return [ORG]
  const chain = chainOf(model, type)
  if (!chain)
    throw new OrgkitError('INVALID_MODEL', `resource type "${type}" is not declared`, { culprit: type })
  return chain
}
