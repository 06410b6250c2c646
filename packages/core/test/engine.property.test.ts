import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Change, Decision, Snapshot, Subject, Target } from '../src/engine/data.ts'
import { Authorizer, type ErrorCode, emptySnapshot, isOrgkitError, type OrgTable } from '../src/index.ts'
import { capgo } from '../src/model/presets/capgo.ts'
import { applyChange, ClientError, ReferenceEvaluator } from './reference/reference-evaluator.ts'
import {
  AVOID_KNOWN_ENGINE_BUGS,
  allQuestions,
  buildChange,
  changePlanArb,
  NOW,
  orgChainIds,
  permissionsOn,
  subjectsOf,
  targetsOfSnapshot,
  worldArb,
} from './reference/world-arbitrary.ts'

/**
 * The engine against a naive second implementation of docs/decision-procedure.md
 * (`reference/reference-evaluator.ts`) on random capgo worlds (`reference/world-arbitrary.ts`): sub-orgs,
 * apps and channels, members and invitations, groups and team bindings, expiring bindings, overrides, API
 * keys, custom roles, policy gates. ORGKIT_PROPERTY_RUNS raises the number of worlds per property.
 */
const RUNS = Number(process.env.ORGKIT_PROPERTY_RUNS) || 200
const TIMEOUT = 120_000
const TYPES = ['org', 'app', 'channel'] as const

const engineFor = (snapshot: Snapshot) => new Authorizer(capgo, snapshot, { clock: () => NOW })
const referenceFor = (snapshot: Snapshot) => new ReferenceEvaluator(capgo, snapshot, NOW)

const show = (subject: Subject, permission: string, target: Target) =>
  `${subject.type}:${subject.id} ${permission} ${target.type}:${target.id}`

interface Checker {
  check(subject: Subject, permission: string, target: Target): Decision
}

/** Asserts that two evaluators answer every question of the world alike (allowed and reason). */
function expectSameAnswers(
  snapshot: Snapshot,
  actual: Checker,
  expected: Checker,
  label: string,
  before: Snapshot = snapshot,
): void {
  for (const [subject, permission, target] of allQuestions(snapshot, before)) {
    const got = actual.check(subject, permission, target)
    const want = expected.check(subject, permission, target)
    if (got.allowed !== want.allowed || got.reason !== want.reason) {
      expect.fail(
        `${label}: ${show(subject, permission, target)}: got ${JSON.stringify(got)}, ` +
          `expected ${JSON.stringify(want)}\nworld: ${JSON.stringify(snapshot)}`,
      )
    }
  }
}

const codeOf = (run: () => unknown): string => {
  try {
    run()
  } catch (error) {
    if (isOrgkitError(error) || error instanceof ClientError) return error.code
    throw error
  }
  return 'no error'
}

const expectCode = (run: () => unknown, code: ErrorCode) => expect(codeOf(run)).toBe(code)

/**
 * `expect(actual, what).toEqual(expected)` and `.toBe`, made only when a cheap comparison finds a difference:
 * each vitest `expect` costs microseconds of state set-up (half this file's time, profiled), and these run for
 * every question of every world. Deep strict equality implies `toEqual`'s, so whatever `toEqual` would fail
 * still reaches it and fails with its message.
 */
function equal(actual: unknown, expected: unknown, what?: string): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual, what).toEqual(expected)
}
function is(actual: unknown, expected: unknown, what?: string): void {
  if (!Object.is(actual, expected)) expect(actual, what).toBe(expected)
}

const sorted = (ids: readonly string[]) => [...ids].sort()

describe('engine vs the reference evaluator (docs/decision-procedure.md)', () => {
  it(
    'a. check answers like the reference for every subject × target × applicable permission',
    () => {
      fc.assert(
        fc.property(worldArb, (snapshot) => {
          expectSameAnswers(snapshot, engineFor(snapshot), referenceFor(snapshot), 'engine vs reference')
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'b. check ⇔ listResources ⇔ listPrincipals',
    () => {
      fc.assert(
        fc.property(worldArb, (snapshot) => {
          const engine = engineFor(snapshot)
          const targets = targetsOfSnapshot(snapshot)
          for (const subject of subjectsOf(snapshot)) {
            for (const type of TYPES) {
              for (const permission of permissionsOn(type)) {
                const allowed = targets
                  .filter((t) => t.type === type && engine.check(subject, permission, t).allowed)
                  .map((t) => t.id)
                const listed = engine.listResources(subject, permission, type)
                is(new Set(listed).size, listed.length, 'listResources repeats an id')
                equal(sorted(listed), sorted(allowed), `listResources ${subject.id} ${permission} ${type}`)
              }
            }
          }
          for (const target of targets) {
            for (const permission of permissionsOn(target.type)) {
              const allowed = snapshot.users
                .filter((u) => engine.check({ type: 'user', id: u.id }, permission, target).allowed)
                .map((u) => u.id)
              const listed = engine.listPrincipals(permission, target)
              is(new Set(listed).size, listed.length, 'listPrincipals repeats an id')
              equal(
                sorted(listed),
                sorted(allowed),
                `listPrincipals ${permission} ${target.type}:${target.id}`,
              )
            }
          }
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'c. explain agrees with check and names a decisive fact that exists',
    () => {
      fc.assert(
        fc.property(worldArb, (snapshot) => {
          const engine = engineFor(snapshot)
          const reference = referenceFor(snapshot)
          for (const [subject, permission, target] of allQuestions(snapshot)) {
            const what = show(subject, permission, target)
            const decision = engine.check(subject, permission, target)
            const explanation = engine.explain(subject, permission, target)
            equal({ allowed: explanation.allowed, reason: explanation.reason }, decision, what)
            const fact = explanation.decidedBy
            switch (decision.reason) {
              case 'role': {
                if (fact?.kind !== 'binding')
                  return expect.fail(`${what}: decided by ${JSON.stringify(fact)}`)
                const binding = snapshot.bindings.find((b) => b.id === fact.bindingId)
                expect(binding, `${what}: binding ${fact.bindingId} is in the snapshot`).toBeDefined()
                equal(fact.principal, binding!.principal, what)
                equal(fact.scope, binding!.scope, what)
                is(fact.roleKey, binding!.role, what)
                // The binding's scope lies on the target's chain, and its resolved role holds the permission.
                const chain = [
                  ...reference.resourceChain(target.id).map((r) => `${r.type}:${r.id}`),
                  ...orgChainIds(
                    snapshot,
                    target.type === 'org'
                      ? target.id
                      : snapshot.resources.find((r) => r.id === target.id)!.orgId,
                  ).map((id) => `org:${id}`),
                ]
                expect(chain, what).toContain(`${fact.scope.type}:${fact.scope.id}`)
                const bindingOrg =
                  fact.scope.type === 'org'
                    ? fact.scope.id
                    : snapshot.resources.find((r) => r.id === fact.scope.id)?.orgId
                const role = Object.hasOwn(capgo.roles, fact.role ?? '')
                  ? capgo.roles[fact.role!]
                  : snapshot.roles.find((r) => r.key === fact.role && r.orgId === bindingOrg)
                expect(role?.permissions, `${what}: role ${fact.role}`).toContain(permission)
                break
              }
              case 'override':
              case 'override_deny': {
                if (fact?.kind !== 'override')
                  return expect.fail(`${what}: decided by ${JSON.stringify(fact)}`)
                is(fact.effect, decision.allowed ? 'allow' : 'deny', what)
                expect(snapshot.overrides, what).toContainEqual({
                  principal: fact.principal,
                  resourceId: target.id,
                  permission,
                  effect: fact.effect,
                })
                break
              }
              case 'mfa_required':
              case 'password_policy':
                is(fact?.kind, 'policy', what)
                break
              case 'key_revoked':
              case 'key_expired':
              case 'key_scope':
                is(fact?.kind, 'key', what)
                break
              case 'no_grant':
              case 'not_found':
                is(fact, null, what)
                break
            }
          }
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'd. apply keeps the engine equal to a fresh load and to the reference, change after change',
    () => {
      fc.assert(
        fc.property(
          worldArb,
          fc.array(changePlanArb, { minLength: 1, maxLength: 20, size: 'medium' }),
          (initial, plans) => {
            const engine = engineFor(initial)
            let snapshot = initial
            const applied: Change[] = []
            for (const [i, plan] of plans.entries()) {
              const change = buildChange(snapshot, plan, 100 + i)
              if (change === null) continue
              applied.push(change)
              engine.apply(change)
              snapshot = applyChange(snapshot, change)
              const label = `after ${JSON.stringify(applied)}`
              let fresh: Authorizer
              try {
                fresh = engineFor(snapshot)
              } catch (error) {
                return expect.fail(`${label}: a fresh engine cannot load the snapshot: ${String(error)}`)
              }
              expectSameAnswers(snapshot, engine, fresh, `incremental vs fresh ${label}`, initial)
              expectSameAnswers(
                snapshot,
                engine,
                referenceFor(snapshot),
                `incremental vs reference ${label}`,
                initial,
              )
            }
          },
        ),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'g. the dense index (dense.ts) answers as the graph walk does, scanned or through its Maps, change after change',
    () => {
      fc.assert(
        fc.property(
          worldArb,
          fc.array(changePlanArb, { minLength: 1, maxLength: 20, size: 'medium' }),
          fc.constantFrom(NOW, NOW + 86_400_001, NOW - 86_400_001),
          (initial, plans, later) => {
            let now = NOW
            const clock = () => now
            const walk = new Authorizer(capgo, initial, { clock, dense: false })
            const scanned = new Authorizer(capgo, initial, { clock })
            const mapped = new Authorizer(capgo, initial, { clock, denseScanLimit: 0 })
            let snapshot = initial
            const compare = (label: string) => {
              expectSameAnswers(snapshot, scanned, walk, `scanned vs walk ${label}`, initial)
              expectSameAnswers(snapshot, mapped, walk, `mapped vs walk ${label}`, initial)
              for (const subject of subjectsOf(snapshot))
                for (const type of TYPES) {
                  const permission = permissionsOn(type)[0]!
                  const want = sorted(walk.listResources(subject, permission, type))
                  equal(sorted(mapped.listResources(subject, permission, type)), want, label)
                }
            }
            for (const [i, plan] of plans.entries()) {
              const change = buildChange(snapshot, plan, 100 + i)
              if (change === null) continue
              for (const engine of [walk, scanned, mapped]) engine.apply(change)
              snapshot = applyChange(snapshot, change)
              compare(`after change ${i}: ${JSON.stringify(change)}`)
            }
            now = later
            compare(`at ${later}`)
          },
        ),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'i. observed checks tell their observer the org of each existing target, dense or walked; plain ones tell no one',
    () => {
      fc.assert(
        fc.property(
          worldArb,
          fc.array(changePlanArb, { minLength: 1, maxLength: 10, size: 'small' }),
          (initial, plans) => {
            const engines = [
              engineFor(initial),
              new Authorizer(capgo, initial, { clock: () => NOW, dense: false }),
            ]
            // Per engine: the checks told, by org id; one table of orgs, and a slot never names two orgs.
            const told = engines.map(() => ({
              counts: new Map<string, number>(),
              slots: new Map<number, string>(),
              tables: new Set<OrgTable>(),
            }))
            const observed = engines.map((engine, i) =>
              engine.observedBy({
                checked: (slot, orgs) => {
                  const { counts, slots, tables } = told[i]!
                  const id = orgs[slot]!.id
                  counts.set(id, (counts.get(id) ?? 0) + 1)
                  is(slots.get(slot) ?? id, id, `slot ${slot}`)
                  slots.set(slot, id)
                  tables.add(orgs)
                },
              }),
            )
            let snapshot = initial
            const expectCounts = (label: string) => {
              const orgOf = (target: Target) =>
                target.type === 'org'
                  ? snapshot.orgs.find((o) => o.id === target.id)?.id
                  : snapshot.resources.find((r) => r.id === target.id && r.type === target.type)?.orgId
              const want = new Map<string, number>()
              for (const [subject, permission, target] of allQuestions(snapshot, initial)) {
                for (const [i, check] of observed.entries()) {
                  // The same decision as `check`, told or not.
                  is(check(subject, permission, target), engines[i]!.check(subject, permission, target))
                }
                const orgId = orgOf(target)
                if (orgId !== undefined) want.set(orgId, (want.get(orgId) ?? 0) + 1)
              }
              for (const { counts, tables } of told) {
                expect(counts, label).toEqual(want)
                expect(tables.size, label).toBeLessThanOrEqual(1)
                counts.clear()
              }
            }
            expectCounts('after load')
            for (const [i, plan] of plans.entries()) {
              const change = buildChange(snapshot, plan, 100 + i)
              if (change === null) continue
              for (const engine of engines) engine.apply(change)
              snapshot = applyChange(snapshot, change)
              expectCounts(`after ${JSON.stringify(change)}`)
            }
          },
        ),
        { numRuns: Math.ceil(RUNS / 4) },
      )
    },
    TIMEOUT,
  )

  it(
    'h. orgOf names the org each target lives in, change after change, and null for anything else',
    () => {
      fc.assert(
        fc.property(
          worldArb,
          fc.array(changePlanArb, { minLength: 1, maxLength: 20, size: 'medium' }),
          (initial, plans) => {
            const engine = engineFor(initial)
            let snapshot = initial
            const expectOrgs = (label: string) => {
              const orgIds = new Set(snapshot.orgs.map((o) => o.id))
              for (const o of snapshot.orgs) is(engine.orgOf({ type: 'org', id: o.id }), o.id, label)
              for (const r of snapshot.resources) {
                is(engine.orgOf({ type: r.type, id: r.id }), r.orgId, label)
                for (const type of TYPES.filter((t) => t !== r.type && !(t === 'org' && orgIds.has(r.id))))
                  is(engine.orgOf({ type, id: r.id }), null, `${label}: ${r.id} as ${type}`)
              }
              expect(engine.orgOf({ type: 'app', id: 'nowhere' }), label).toBeNull()
              expect(engine.orgOf({ type: 'bundle', id: snapshot.orgs[0]?.id ?? 'x' }), label).toBeNull()
            }
            expectOrgs('after load')
            for (const [i, plan] of plans.entries()) {
              const change = buildChange(snapshot, plan, 100 + i)
              if (change === null) continue
              engine.apply(change)
              snapshot = applyChange(snapshot, change)
              expectOrgs(`after ${JSON.stringify(change)}`)
            }
          },
        ),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'f. one engine follows its clock across expiries, forwards and back (the access index is time-bound)',
    () => {
      const times = [NOW, NOW + 1, NOW + 86_400_001, NOW - 1, NOW - 86_400_001, 1, NOW]
      fc.assert(
        fc.property(worldArb, (snapshot) => {
          let now = NOW
          const engine = new Authorizer(capgo, snapshot, { clock: () => now })
          for (const time of times) {
            now = time
            const reference = new ReferenceEvaluator(capgo, snapshot, time)
            expectSameAnswers(snapshot, engine, reference, `at ${time}`)
          }
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'e. fail closed: client errors throw, unknown subjects and targets are not_found',
    () => {
      const permissions = Object.keys(capgo.permissions)
      fc.assert(
        fc.property(
          worldArb,
          fc.constantFrom('app.fly', 'org', '', 'org.read ', 'channel.read.x', 'toString', '__proto__'),
          fc.constantFrom(...permissions),
          fc.constantFrom(...TYPES),
          (snapshot, unknownPermission, permission, type) => {
            const engine = engineFor(snapshot)
            const reference = referenceFor(snapshot)
            const subjects: Subject[] = [...subjectsOf(snapshot), { type: 'user', id: 'nobody' }]
            const subject = subjects[0]!
            const anyTarget = targetsOfSnapshot(snapshot)[0]!
            // Unknown permission: before anything else, whatever the data.
            const unknown = unknownPermission
            expectCode(() => engine.check(subject, unknown, anyTarget), 'UNKNOWN_PERMISSION')
            expectCode(() => reference.check(subject, unknown, anyTarget), 'UNKNOWN_PERMISSION')
            expectCode(() => engine.explain(subject, unknown, anyTarget), 'UNKNOWN_PERMISSION')
            expectCode(() => engine.listResources(subject, unknown, type), 'UNKNOWN_PERMISSION')
            expectCode(() => engine.listPrincipals(unknown, anyTarget), 'UNKNOWN_PERMISSION')
            // Unknown type, and a permission asked on a type it does not apply to.
            const on = capgo.permissions[permission]!.on
            for (const bad of AVOID_KNOWN_ENGINE_BUGS ? ['bundle'] : ['bundle', 'toString', '__proto__']) {
              expectCode(
                () => engine.check(subject, permission, { type: bad, id: 'x' }),
                'UNKNOWN_RESOURCE_TYPE',
              )
              expectCode(
                () => reference.check(subject, permission, { type: bad, id: 'x' }),
                'UNKNOWN_RESOURCE_TYPE',
              )
            }
            if (on !== type) {
              const wrong = { type, id: anyTarget.id }
              expectCode(() => engine.check(subject, permission, wrong), 'PERMISSION_TYPE_MISMATCH')
              expectCode(() => engine.explain(subject, permission, wrong), 'PERMISSION_TYPE_MISMATCH')
              expectCode(() => engine.listResources(subject, permission, type), 'PERMISSION_TYPE_MISMATCH')
              expectCode(() => engine.listPrincipals(permission, wrong), 'PERMISSION_TYPE_MISMATCH')
              expectCode(() => reference.check(subject, permission, wrong), 'PERMISSION_TYPE_MISMATCH')
            }
            const notFound = { allowed: false, reason: 'not_found' }
            // Unknown subjects, on every real target.
            const ghosts: Subject[] = [
              { type: 'user', id: 'nobody' },
              { type: 'apiKey', id: 'nobody' },
              ...snapshot.users.map((u): Subject => ({ type: 'apiKey', id: u.id })),
              ...snapshot.apiKeys.map((k): Subject => ({ type: 'user', id: k.id })),
            ]
            for (const ghost of ghosts)
              for (const target of targetsOfSnapshot(snapshot).filter((t) => t.type === on))
                equal(engine.check(ghost, permission, target), notFound, show(ghost, permission, target))
            // Unknown ids, and ids of something else than the asked type (an org, a user, another type).
            const strangers = [
              'nobody',
              ...snapshot.users.map((u) => u.id),
              ...targetsOfSnapshot(snapshot)
                .filter((t) => t.type !== on)
                .map((t) => t.id),
            ]
            for (const id of strangers) {
              const target = { type: on, id }
              for (const who of subjects) {
                equal(engine.check(who, permission, target), notFound, show(who, permission, target))
                equal(reference.check(who, permission, target), notFound)
                expect(engine.explain(who, permission, target)).toMatchObject({
                  ...notFound,
                  decidedBy: null,
                })
              }
              equal(engine.listPrincipals(permission, target), [])
            }
            for (const ghost of ghosts) equal(engine.listResources(ghost, permission, on), [])
          },
        ),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )
})

/**
 * Regressions: engine bugs the properties found, as minimal cases (each failed before its fix).
 */
describe('regressions found by the properties', () => {
  const base: Snapshot = {
    ...emptySnapshot(),
    orgs: [
      { id: 'o0', parentId: null },
      { id: 'o1', parentId: null },
    ],
    resources: [{ id: 'a0', orgId: 'o0', type: 'app', parentId: null }],
    users: [{ id: 'u0', mfaEnabled: true }],
    memberships: [{ orgId: 'o0', userId: 'u0', status: 'active' }],
    roles: [{ orgId: 'o0', key: 'c1', scope: 'app', slot: 'app', permissions: ['app.read'], priority: 1 }],
    bindings: [
      { id: 'b0', principal: { type: 'user', id: 'u0' }, role: 'c1', scope: { type: 'app', id: 'a0' } },
    ],
  }
  const u0: Subject = { type: 'user', id: 'u0' }
  const a0: Target = { type: 'app', id: 'a0' }
  const after = (...changes: Change[]) => changes.reduce(applyChange, base)

  it('a snapshot that apply reaches loads: a binding naming a deleted custom role', () => {
    const snapshot = after({ op: 'role.delete', orgId: 'o0', key: 'c1' })
    expect(engineFor(snapshot).check(u0, 'app.read', a0)).toEqual({ allowed: false, reason: 'no_grant' })
  })

  it('a snapshot that apply reaches loads: a custom role whose scope changed under a binding', () => {
    const snapshot = after({ op: 'role.put', role: { ...base.roles[0]!, scope: 'org' } })
    expect(engineFor(snapshot).check(u0, 'app.read', a0)).toEqual({ allowed: false, reason: 'no_grant' })
  })

  it("an app transfer resolves its bindings' custom roles in the new org", () => {
    const transfer: Change = { op: 'resource.put', resource: { ...base.resources[0]!, orgId: 'o1' } }
    const engine = engineFor(base)
    engine.apply(transfer)
    // o1 has no role c1: the binding resolves to nothing (the engine keeps o0's c1 and allows).
    expect(engine.check(u0, 'app.read', a0)).toEqual(referenceFor(after(transfer)).check(u0, 'app.read', a0))
  })

  it("a team's role change reaches its members at once (their access indexes are cleared)", () => {
    const snapshot: Snapshot = {
      ...base,
      groups: [{ id: 'g0', orgId: 'o0', role: 'app_reader' }],
      groupMembers: [{ groupId: 'g0', userId: 'u0' }],
      bindings: [
        { id: 'b1', principal: { type: 'group', id: 'g0' }, role: 'team', scope: { type: 'app', id: 'a0' } },
      ],
    }
    const engine = engineFor(snapshot)
    expect(engine.check(u0, 'app.read', a0).allowed).toBe(true)
    expect(engine.check(u0, 'app.upload_bundle', a0).allowed).toBe(false)
    const change: Change = { op: 'group.put', group: { id: 'g0', orgId: 'o0', role: 'app_uploader' } }
    engine.apply(change)
    expect(engine.check(u0, 'app.upload_bundle', a0)).toEqual({ allowed: true, reason: 'role' })
    engine.apply({ op: 'group.put', group: { id: 'g0', orgId: 'o0', role: null } })
    expect(engine.check(u0, 'app.read', a0)).toEqual({ allowed: false, reason: 'no_grant' })
  })

  it('expiresAt 0 is the epoch, long past: the binding and the key have expired', () => {
    const snapshot: Snapshot = {
      ...base,
      bindings: [{ ...base.bindings[0]!, role: 'app_reader', expiresAt: 0 }],
      apiKeys: [{ id: 'k0', ownerId: 'u0', expiresAt: 0 }],
    }
    const engine = engineFor(snapshot)
    expect(engine.check(u0, 'app.read', a0)).toEqual({ allowed: false, reason: 'no_grant' })
    expect(engine.check({ type: 'apiKey', id: 'k0' }, 'app.read', a0)).toEqual({
      allowed: false,
      reason: 'key_expired',
    })
  })

  it('a type named like an Object.prototype member is an unknown resource type', () => {
    expectCode(
      () => engineFor(base).check(u0, 'org.read', { type: 'toString', id: 'o0' }),
      'UNKNOWN_RESOURCE_TYPE',
    )
  })
})
