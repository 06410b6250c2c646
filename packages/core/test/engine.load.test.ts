import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Authorizer,
  emptySnapshot,
  isOrgkitError,
  SNAPSHOT_KINDS,
  type Snapshot,
  type SnapshotPart,
} from '../src/index.ts'
import { capgo } from '../src/model/presets/capgo.ts'
import { ReferenceEvaluator } from './reference/reference-evaluator.ts'
import { allQuestions, NOW, worldArb } from './reference/world-arbitrary.ts'

/**
 * An engine loaded in parts (`Authorizer.loading`, as the store streams a snapshot) against the reference
 * evaluator, however the snapshot is cut and in whatever order its orgs and resources come; and the loads
 * that must fail.
 */
const RUNS = Number(process.env.ORGKIT_PROPERTY_RUNS) || 200

/** The records in an order drawn from `seed` (a Fisher–Yates shuffle driven by a small LCG). */
function shuffled<T>(records: readonly T[], seed: number): T[] {
  const out = [...records]
  let state = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** The snapshot as parts of at most `size` records, kind by kind; orgs and resources shuffled by `seed`. */
function partsOf(snapshot: Snapshot, size: number, seed: number): SnapshotPart[] {
  const parts: SnapshotPart[] = []
  for (const kind of SNAPSHOT_KINDS) {
    const records: readonly unknown[] =
      kind === 'orgs' || kind === 'resources' ? shuffled<unknown>(snapshot[kind], seed) : snapshot[kind]
    for (let at = 0; at < records.length; at += size)
      parts.push({ kind, records: records.slice(at, at + size) } as SnapshotPart)
  }
  return parts
}

function loadInParts(parts: readonly SnapshotPart[]): Authorizer {
  const loading = Authorizer.loading(capgo, { clock: () => NOW })
  for (const part of parts) loading.add(part)
  return loading.done()
}

const codeOf = (run: () => unknown) => {
  try {
    run()
    return 'no error'
  } catch (error) {
    if (isOrgkitError(error)) return error.code
    throw error
  }
}

describe('loading an engine in parts', () => {
  it('answers like the reference however the snapshot is cut, parents before children or not', () => {
    fc.assert(
      fc.property(worldArb, fc.integer({ min: 1, max: 4 }), fc.integer(), (snapshot, size, seed) => {
        const engine = loadInParts(partsOf(snapshot, size, seed))
        const reference = new ReferenceEvaluator(capgo, snapshot, NOW)
        for (const [subject, permission, target] of allQuestions(snapshot, snapshot)) {
          const got = engine.check(subject, permission, target)
          const want = reference.check(subject, permission, target)
          expect(
            { allowed: got.allowed, reason: got.reason },
            `${subject.id} ${permission} ${target.type}:${target.id}`,
          ).toEqual({ allowed: want.allowed, reason: want.reason })
        }
      }),
      { numRuns: RUNS },
    )
  }, 120_000)

  const org = (id: string, parentId: string | null = null) => ({ id, parentId })

  it('takes a sub-org and a channel before their parents, in later parts', () => {
    const loading = Authorizer.loading(capgo)
    loading.add({ kind: 'orgs', records: [org('sub', 'top')] })
    loading.add({ kind: 'orgs', records: [org('top')] })
    loading.add({
      kind: 'resources',
      records: [{ id: 'ch', orgId: 'sub', type: 'channel', parentId: 'app' }],
    })
    loading.add({ kind: 'resources', records: [{ id: 'app', orgId: 'sub', type: 'app', parentId: null }] })
    loading.add({ kind: 'users', records: [{ id: 'u', mfaEnabled: false }] })
    loading.add({ kind: 'memberships', records: [{ orgId: 'top', userId: 'u', status: 'active' }] })
    loading.add({
      kind: 'bindings',
      records: [
        {
          id: 'b',
          principal: { type: 'user', id: 'u' },
          role: 'org_admin',
          scope: { type: 'org', id: 'top' },
          expiresAt: null,
        },
      ],
    })
    const engine = loading.done()
    // Granted at the top org, inherited by the sub-org, its app and the app's channel.
    expect(
      engine.check({ type: 'user', id: 'u' }, 'channel.read', { type: 'channel', id: 'ch' }).allowed,
    ).toBe(true)
  })

  it('refuses a record whose parent never comes, a cycle, and a kind out of order', () => {
    const fails = (...parts: SnapshotPart[]) =>
      codeOf(() => {
        const loading = Authorizer.loading(capgo)
        for (const part of parts) loading.add(part)
        loading.done()
      })
    expect(fails({ kind: 'orgs', records: [org('a', 'missing')] })).toBe('INVALID_CHANGE')
    expect(fails({ kind: 'orgs', records: [org('a', 'b'), org('b', 'a')] })).toBe('INVALID_CHANGE')
    // Noticed when the next kind starts, before a resource could take what waits for an org of its id.
    const loading = Authorizer.loading(capgo)
    loading.add({ kind: 'orgs', records: [org('a', 'x'), org('b')] })
    expect(() =>
      loading.add({ kind: 'resources', records: [{ id: 'x', orgId: 'b', type: 'app', parentId: null }] }),
    ).toThrow('"a" names parent "x", which is missing or in a cycle with it')
    expect(
      fails(
        { kind: 'orgs', records: [org('a')] },
        { kind: 'resources', records: [{ id: 'ch', orgId: 'a', type: 'channel', parentId: 'nope' }] },
      ),
    ).toBe('INVALID_CHANGE')
    expect(
      fails(
        { kind: 'users', records: [{ id: 'u', mfaEnabled: false }] },
        { kind: 'orgs', records: [org('a')] },
      ),
    ).toBe('INVALID_CHANGE')
    // The same snapshots in one piece fail alike.
    const whole = { ...emptySnapshot(), orgs: [org('a', 'b'), org('b', 'a')] }
    expect(codeOf(() => new Authorizer(capgo, whole))).toBe('INVALID_CHANGE')
    expect(
      fails(
        { kind: 'orgs', records: [org('a')] },
        { kind: 'users', records: [{ id: 'u', mfaEnabled: false }] },
      ),
    ).toBe('no error')
  })
})
