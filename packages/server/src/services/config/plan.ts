import { ORG, OrgkitError, TEAM_ROLE } from '@orgkit/core'
import { type Executor, users } from '@orgkit/store'
import type { Ctx } from '../context.ts'
import type {
  ConfigBinding,
  ConfigChange,
  ConfigDocument,
  ConfigGroup,
  ConfigOverride,
  ConfigRole,
} from './document.ts'
import { bindingKey, type OrgState, overrideKey, principalOf } from './state.ts'

/** What apply does, in order; each step names its change and is run by apply.ts through a service. */
export type Step =
  | { kind: 'settings'; action: 'update'; name: string }
  | { kind: 'role'; action: 'create' | 'update' | 'delete'; name: string; role: ConfigRole }
  | { kind: 'group'; action: 'create' | 'update' | 'delete'; name: string; group: ConfigGroup }
  | { kind: 'groupMember'; action: 'create' | 'delete'; name: string; group: string; email: string }
  | { kind: 'binding'; action: 'create'; name: string; binding: ConfigBinding }
  | { kind: 'binding'; action: 'delete'; name: string; id: string }
  | { kind: 'binding'; action: 'update'; name: string; id: string; role: string }
  | { kind: 'override'; action: 'create' | 'update' | 'delete'; name: string; override: ConfigOverride }

export interface Plan {
  steps: Step[]
  /** Every email the document names, resolved (lower-cased → user id). */
  people: Map<string, string>
  /** Resources by `type:path`, as the state read them. */
  resources: Map<string, string | null>
  /** Group ids by name, of the groups that exist now (apply adds the ones it creates). */
  groupIds: Map<string, string>
}

export const changesOf = (plan: Plan): ConfigChange[] =>
  plan.steps.map(({ action, kind, name }) => ({ action, kind, name }))

/** Equal as data: key order aside (jsonb keeps its own). */
const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : value
const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
const sortedRole = (r: ConfigRole): ConfigRole => ({ ...r, permissions: [...r.permissions].sort() })

/**
 * Resolves every name the document uses against the org and the model, then lists the changes that make
 * the org what the document says. Refuses with every unknown or ambiguous name at once (CONFIG_INVALID
 * … VALIDATION_FAILED, `details.errors`), before anything is written.
 */
export async function planConfig(
  ctx: Ctx,
  db: Executor,
  orgId: string,
  state: OrgState,
  doc: ConfigDocument,
): Promise<Plan> {
  const errors: { at: string; message: string }[] = []
  const fail = (at: string, message: string) => errors.push({ at, message })
  const roles = doc.customRoles ? new Map(doc.customRoles.map((r) => [r.key, r])) : state.roles
  const groupNames = new Set((doc.groups ?? [...state.groups.values()]).map((g) => g.name))
  checkRoles(ctx, orgId, state, doc.customRoles ?? [], fail)
  if (doc.groups && groupNames.size !== doc.groups.length) fail('groups', 'two groups have one name')

  const people = new Map(state.people)
  const emails = [
    ...(doc.groups ?? []).flatMap((g, i) => g.members.map((e, j) => [e, `groups[${i}].members[${j}]`])),
    ...(doc.bindings ?? []).flatMap((b, i) => (b.user ? [[b.user, `bindings[${i}].user`]] : [])),
    ...(doc.overrides ?? []).flatMap((o, i) => (o.user ? [[o.user, `overrides[${i}].user`]] : [])),
  ] as [string, string][]
  for (const [email, at] of emails) {
    const lower = email.toLowerCase()
    if (!people.has(lower)) {
      const id = await users.findUserIdByEmail(db, lower)
      if (id) people.set(lower, id)
      else fail(at, `no user has the email "${email}"`)
    }
  }
  const checkPrincipal = (p: { user?: string | undefined; group?: string | undefined }, at: string) => {
    if ((p.user === undefined) === (p.group === undefined)) fail(at, 'name one of user (an email) or group')
    else if (p.group !== undefined && !groupNames.has(p.group))
      fail(`${at}.group`, `no group "${p.group}"${doc.groups ? ' in groups' : ''}`)
  }
  const checkResource = (on: string, at: string) => {
    if (!state.resources.has(on)) fail(at, `no resource "${on}" (type:path, names from the top)`)
    else if (state.resources.get(on) === null) fail(at, `two resources are "${on}": rename one`)
  }
  const scopeType = (on: string | undefined) => (on === undefined ? ORG : on.slice(0, on.indexOf(':')))
  doc.bindings?.forEach((b, i) => {
    checkPrincipal(b, `bindings[${i}]`)
    if (b.on !== undefined) checkResource(b.on, `bindings[${i}].on`)
    const role = ctx.model.roles[b.role] ?? roles.get(b.role)
    if (b.role === TEAM_ROLE && b.group !== undefined && ctx.model.teamLevels) return
    if (!role) fail(`bindings[${i}].role`, `no role "${b.role}" in the model or the org's custom roles`)
    else if (role.scope !== scopeType(b.on))
      fail(`bindings[${i}].role`, `"${b.role}" binds at ${role.scope}, not at ${scopeType(b.on)}`)
  })
  doc.overrides?.forEach((o, i) => {
    checkPrincipal(o, `overrides[${i}]`)
    checkResource(o.on, `overrides[${i}].on`)
    const permission = ctx.compiled.permissions.get(o.permission)
    if (!permission || permission.on !== scopeType(o.on) || !permission.overridable)
      fail(`overrides[${i}].permission`, `"${o.permission}" can't be overridden on a ${scopeType(o.on)}`)
  })
  if (errors.length > 0)
    throw new OrgkitError('VALIDATION_FAILED', `the file names ${errors.length} thing(s) that don't fit`, {
      errors,
    })
  return {
    steps: diff(state, doc),
    people,
    resources: state.resources,
    groupIds: new Map([...state.groups.values()].map((g) => [g.name, g.id])),
  }
}

function checkRoles(
  ctx: Ctx,
  orgId: string,
  state: OrgState,
  roles: ConfigRole[],
  fail: (at: string, message: string) => void,
) {
  const seen = new Set<string>()
  roles.forEach((r, i) => {
    if (seen.has(r.key)) fail(`customRoles[${i}].key`, `"${r.key}" twice`)
    seen.add(r.key)
    if (ctx.model.roles[r.key] || r.key === TEAM_ROLE)
      fail(`customRoles[${i}].key`, `"${r.key}" is a built-in role`)
    const now = state.roles.get(r.key)
    if (now && now.scope !== r.scope)
      fail(`customRoles[${i}].scope`, `a role keeps its scope (${now.scope}): give a new key instead`)
    try {
      ctx.compiled.fillRole(
        ctx.compiled.newRoleHandle(r.key, orgId),
        r.scope,
        r.slot,
        r.permissions,
        r.priority,
      )
    } catch (error) {
      fail(`customRoles[${i}]`, (error as Error).message)
    }
  })
}

/** The steps, in an order every service accepts: definitions first, grants, then what goes away. */
function diff(state: OrgState, doc: ConfigDocument): Step[] {
  const steps: Step[] = []
  const late: Step[] = []
  if (doc.settings && !same(doc.settings, state.settings))
    steps.push({ kind: 'settings', action: 'update', name: 'security policy' })
  for (const role of doc.customRoles ?? []) {
    const now = state.roles.get(role.key)
    if (!now) steps.push({ kind: 'role', action: 'create', name: role.key, role })
    else if (!same(sortedRole(role), now))
      steps.push({ kind: 'role', action: 'update', name: role.key, role })
  }
  if (doc.customRoles) {
    const keys = new Set(doc.customRoles.map((r) => r.key))
    for (const role of state.roles.values())
      if (!keys.has(role.key)) late.push({ kind: 'role', action: 'delete', name: role.key, role })
  }
  if (doc.groups) groupSteps(state, doc.groups, steps, late)
  if (doc.bindings) bindingSteps(state, doc.bindings, steps)
  if (doc.overrides) {
    const wanted = new Map(doc.overrides.map((o) => [overrideKey(o), o]))
    for (const [key, override] of wanted) {
      const now = state.overrides.get(key)
      if (!now)
        steps.push({ kind: 'override', action: 'create', name: `${key}: ${override.effect}`, override })
      else if (now.effect !== override.effect)
        steps.push({ kind: 'override', action: 'update', name: `${key}: ${override.effect}`, override })
    }
    for (const [key, override] of state.overrides)
      if (!wanted.has(key)) steps.push({ kind: 'override', action: 'delete', name: key, override })
  }
  return [...steps, ...late.reverse()]
}

function groupSteps(state: OrgState, wanted: ConfigGroup[], steps: Step[], late: Step[]) {
  for (const group of wanted) {
    const now = state.groups.get(group.name)
    if (!now) steps.push({ kind: 'group', action: 'create', name: group.name, group })
    else if (
      now.description !== group.description ||
      (group.level !== undefined && (now.level ?? null) !== group.level)
    )
      steps.push({ kind: 'group', action: 'update', name: group.name, group })
    const had = new Set(now?.members ?? [])
    const has = new Set(group.members.map((e) => e.toLowerCase()))
    for (const email of has)
      if (!had.has(email))
        steps.push({
          kind: 'groupMember',
          action: 'create',
          name: `${email} in ${group.name}`,
          group: group.name,
          email,
        })
    for (const email of had)
      if (!has.has(email))
        steps.push({
          kind: 'groupMember',
          action: 'delete',
          name: `${email} in ${group.name}`,
          group: group.name,
          email,
        })
  }
  const names = new Set(wanted.map((g) => g.name))
  for (const group of state.groups.values())
    if (!names.has(group.name)) late.push({ kind: 'group', action: 'delete', name: group.name, group })
}

/**
 * Creates before deletes, so an org never passes through a moment without its owner; where one principal
 * trades one role for another at one scope, the binding changes in place (one slot, never two roles).
 */
function bindingSteps(state: OrgState, wanted: ConfigBinding[], steps: Step[]) {
  const want = new Map(wanted.map((b) => [bindingKey(b), b]))
  const added = [...want].filter(([key]) => !state.bindings.has(key)).map(([, b]) => b)
  const removed = [...state.bindings].filter(([key]) => !want.has(key)).map(([, b]) => b)
  const at = (b: ConfigBinding) => `${principalOf(b)} on ${b.on ?? 'org'}`
  const deletes: Step[] = []
  for (const b of removed) {
    const sameSpot = (x: ConfigBinding) => at(x) === at(b)
    const swap = added.filter(sameSpot)
    if (swap.length === 1 && removed.filter(sameSpot).length === 1) {
      added.splice(added.indexOf(swap[0]!), 1)
      steps.push({
        kind: 'binding',
        action: 'update',
        name: `${bindingKey(b)} → ${swap[0]!.role}`,
        id: b.id,
        role: swap[0]!.role,
      })
    } else deletes.push({ kind: 'binding', action: 'delete', name: bindingKey(b), id: b.id })
  }
  for (const b of added) steps.push({ kind: 'binding', action: 'create', name: bindingKey(b), binding: b })
  steps.push(...deletes)
}
