import { Authorizer } from '../../engine/authorizer.ts'
import { CompiledModel } from '../../engine/compiled-model.ts'
import type { BindingRecord, PrincipalRef, Snapshot, Target } from '../../engine/data.ts'
import { type Model, ORG, TEAM_ROLE } from '../model.ts'
import { nearest } from '../nearest.ts'
import type { ModelTest, TestWorld } from './tests-schema.ts'

/** A broken reference in a test, at a path under `tests`. */
export interface TestProblem {
  path: (string | number)[]
  message: string
  hint?: string
}

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v

/** The org a resource of the world lives in: its own, its parent's, or the world's only org. */
function orgOf(world: TestWorld, id: string, seen = new Set<string>()): string | undefined {
  const resource = world.resources?.[id]
  if (!resource || seen.has(id)) return undefined
  seen.add(id)
  if (resource.org) return resource.org
  if (resource.parent) return orgOf(world, resource.parent, seen)
  const orgs = Object.keys(world.orgs)
  return orgs.length === 1 ? orgs[0] : undefined
}

function targetOf(world: TestWorld, id: string): Target | undefined {
  if (id in world.orgs) return { type: ORG, id }
  const resource = world.resources?.[id]
  return resource && { type: resource.type, id }
}

const principalOf = (p: { user?: string | undefined; group?: string | undefined }): PrincipalRef =>
  p.user !== undefined ? { type: 'user', id: p.user } : { type: 'group', id: p.group! }

/** Every user a world names: members, invitees, team members, bound and overridden users, `users`. */
function usersOf(world: TestWorld): Set<string> {
  const users = new Set(Object.keys(world.users ?? {}))
  for (const org of Object.values(world.orgs))
    for (const u of [...(org?.members ?? []), ...(org?.invited ?? [])]) users.add(u)
  for (const group of Object.values(world.groups ?? {}))
    for (const m of group.members ?? []) users.add(typeof m === 'string' ? m : m.user)
  for (const b of [...(world.bindings ?? []), ...(world.overrides ?? [])]) if (b.user) users.add(b.user)
  return users
}

/** The engine's snapshot of a test world. */
export function snapshotOf(world: TestWorld): Snapshot {
  const onlyOrg = Object.keys(world.orgs).length === 1 ? Object.keys(world.orgs)[0]! : ''
  const orgs = Object.entries(world.orgs)
  return {
    orgs: orgs.map(([id, o]) => ({
      id,
      parentId: o?.parent ?? null,
      ...(o?.requireMfa !== undefined && { requireMfa: o.requireMfa }),
      ...(o?.singleRoleTeams !== undefined && { singleRoleTeams: o.singleRoleTeams }),
    })),
    resources: Object.entries(world.resources ?? {}).map(([id, r]) => ({
      id,
      type: r.type,
      orgId: orgOf(world, id) ?? onlyOrg,
      parentId: r.parent ?? null,
    })),
    users: [...usersOf(world)].map((id) => ({ id, mfaEnabled: world.users?.[id]?.mfa ?? false })),
    memberships: orgs.flatMap(([orgId, o]) => [
      ...(o?.members ?? []).map((userId) => ({ orgId, userId, status: 'active' as const })),
      ...(o?.invited ?? []).map((userId) => ({ orgId, userId, status: 'pending' as const })),
    ]),
    groups: Object.entries(world.groups ?? {}).map(([id, g]) => ({
      id,
      orgId: g.org ?? onlyOrg,
      role: g.role ?? null,
    })),
    groupMembers: Object.entries(world.groups ?? {}).flatMap(([groupId, g]) =>
      (g.members ?? []).map((m) =>
        typeof m === 'string' ? { groupId, userId: m } : { groupId, userId: m.user, memberRole: m.role },
      ),
    ),
    bindings: (world.bindings ?? []).map(
      (b, i): BindingRecord => ({
        id: `binding-${i}`,
        principal: principalOf(b),
        role: b.role,
        scope: targetOf(world, b.on)!,
      }),
    ),
    overrides: (world.overrides ?? []).map((o) => ({
      principal: principalOf(o),
      resourceId: o.on,
      permission: (o.allow ?? o.deny)!,
      effect: o.allow !== undefined ? ('allow' as const) : ('deny' as const),
    })),
    apiKeys: [],
    roles: [],
  }
}

/** Every name a test uses that its world or the model does not have, each with the nearest one. */
export function testProblems(model: Model, tests: readonly ModelTest[]): TestProblem[] {
  const problems: TestProblem[] = []
  const unknown = (path: TestProblem['path'], what: string, name: string, among: readonly string[]) => {
    const best = nearest(name, among)
    problems.push({
      path,
      message: `unknown ${what} "${name}"`,
      hint: best ? `did you mean "${best}"?` : among.length ? `${what}s: ${among.join(', ')}` : `declare it`,
    })
  }
  const permissions = Object.keys(model.permissions)
  const roles = [...Object.keys(model.roles), TEAM_ROLE]
  tests.forEach((test, t) => {
    const world = test.world
    const at = (...rest: (string | number)[]) => [t, 'world', ...rest]
    const orgs = Object.keys(world.orgs)
    const targets = [...orgs, ...Object.keys(world.resources ?? {})]
    const users = [...usersOf(world)]
    for (const [id, o] of Object.entries(world.orgs))
      if (o?.parent && !(o.parent in world.orgs)) unknown(at('orgs', id, 'parent'), 'org', o.parent, orgs)
    for (const [id, r] of Object.entries(world.resources ?? {})) {
      if (!model.resourceTypes[r.type])
        unknown(at('resources', id, 'type'), 'resource type', r.type, Object.keys(model.resourceTypes))
      if (r.parent && !world.resources?.[r.parent])
        unknown(at('resources', id, 'parent'), 'resource', r.parent, targets)
      if (r.org && !(r.org in world.orgs)) unknown(at('resources', id, 'org'), 'org', r.org, orgs)
      if (!orgOf(world, id))
        problems.push({
          path: at('resources', id),
          message: `resource "${id}" has no org`,
          hint: 'add `org:`',
        })
    }
    for (const [id, g] of Object.entries(world.groups ?? {})) {
      if (g.role && !roles.includes(g.role) && !model.teamLevels?.[g.role])
        unknown(at('groups', id, 'role'), 'role', g.role, roles)
      if (!g.org && orgs.length !== 1)
        problems.push({ path: at('groups', id), message: `group "${id}" has no org`, hint: 'add `org:`' })
    }
    const checkPrincipal = (
      path: TestProblem['path'],
      p: { user?: string | undefined; group?: string | undefined },
    ) => {
      if ((p.user === undefined) === (p.group === undefined)) {
        problems.push({ path, message: 'name one principal', hint: 'write `user:` or `group:`, not both' })
      } else if (p.group !== undefined && !world.groups?.[p.group]) {
        unknown([...path, 'group'], 'group', p.group, Object.keys(world.groups ?? {}))
      }
    }
    world.bindings?.forEach((b, i) => {
      checkPrincipal(at('bindings', i), b)
      const target = targetOf(world, b.on)
      if (!target) unknown(at('bindings', i, 'on'), 'org or resource', b.on, targets)
      const role = model.roles[b.role]
      if (!role && b.role !== TEAM_ROLE) unknown(at('bindings', i, 'role'), 'role', b.role, roles)
      else if (role && target && role.scope !== target.type) {
        const fitting = Object.keys(model.roles).filter((k) => model.roles[k]!.scope === target.type)
        problems.push({
          path: at('bindings', i, 'role'),
          message: `role "${b.role}" is bound at ${role.scope}, not on ${target.type} "${b.on}"`,
          hint: fitting.length
            ? `roles on ${target.type}: ${fitting.join(', ')}`
            : `no role is bound on ${target.type}`,
        })
      }
    })
    world.overrides?.forEach((o, i) => {
      checkPrincipal(at('overrides', i), o)
      if ((o.allow === undefined) === (o.deny === undefined)) {
        problems.push({
          path: at('overrides', i),
          message: 'an override allows or denies one permission',
          hint: 'write `allow:` or `deny:`',
        })
      }
      const permission = (o.allow ?? o.deny)!
      if (permission && !model.permissions[permission]?.overridable) {
        const overridable = permissions.filter((p) => model.permissions[p]!.overridable)
        unknown(
          at('overrides', i, o.allow ? 'allow' : 'deny'),
          'overridable permission',
          permission,
          overridable,
        )
      }
      if (!world.resources?.[o.on])
        unknown(at('overrides', i, 'on'), 'resource', o.on, Object.keys(world.resources ?? {}))
    })
    test.expect.forEach((e, i) => {
      const path = [t, 'expect', i]
      if (!targets.includes(e.on)) unknown([...path, 'on'], 'org or resource', e.on, targets)
      if ('holders' in e) {
        if (!model.permissions[e.holders]) unknown([...path, 'holders'], 'permission', e.holders, permissions)
        return
      }
      if (!users.includes(e.user)) unknown([...path, 'user'], 'user', e.user, users)
      if (e.can === undefined && e.cannot === undefined)
        problems.push({
          path,
          message: 'an expectation says what the user can or cannot do',
          hint: 'add `can:` or `cannot:`',
        })
      for (const field of ['can', 'cannot'] as const) {
        for (const p of list(e[field]))
          if (!model.permissions[p]) unknown([...path, field], 'permission', p, permissions)
      }
    })
  })
  return problems
}

/** The outcome of one test: each expectation that did not hold, with its index in `expect`. */
export interface TestResult {
  name: string
  failures: { index: number; message: string }[]
}

/** Runs each test's expectations against the model in the test's world (`testProblems` passed first). */
export function runModelTests(model: Model, tests: readonly ModelTest[]): TestResult[] {
  const compiled = new CompiledModel(model)
  return tests.map((test) => {
    const authorizer = new Authorizer(compiled, snapshotOf(test.world))
    const failures: TestResult['failures'] = []
    test.expect.forEach((e, index) => {
      const target = targetOf(test.world, e.on)!
      if ('holders' in e) {
        const holders = authorizer.listPrincipals(e.holders, target).sort()
        const expected = [...e.are].sort()
        if (holders.join() !== expected.join()) {
          failures.push({
            index,
            message: `${e.holders} on ${e.on} is held by [${holders.join(', ')}], expected [${expected.join(', ')}]`,
          })
        }
        return
      }
      for (const [expected, field] of [
        [true, 'can'],
        [false, 'cannot'],
      ] as const) {
        for (const permission of list(e[field])) {
          const decision = authorizer.check({ type: 'user', id: e.user }, permission, target)
          if (decision.allowed !== expected || (e.because && decision.reason !== e.because)) {
            const answer = `${decision.allowed ? 'may' : 'may not'} (${decision.reason})`
            failures.push({
              index,
              message: `${e.user} ${field} ${permission} on ${e.on}${e.because ? ` because ${e.because}` : ''}, but ${answer}`,
            })
          }
        }
      }
    })
    return { name: test.name, failures }
  })
}
