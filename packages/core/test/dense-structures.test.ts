import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BindingTable } from '../src/engine/bindings.ts'
import type { Snapshot } from '../src/engine/data.ts'
import { Arena } from '../src/engine/dense.ts'
import { NodesById } from '../src/engine/graph.ts'
import { IdTable } from '../src/engine/id-table.ts'
import { NONE, OrgNode, UserNode } from '../src/engine/nodes.ts'
import { Authorizer, presets } from '../src/index.ts'

/**
 * The dense index's own structures (src/engine/dense.ts, id-table.ts). The hash table against a Map, over
 * random inserts, deletes and lookups: ids from a small alphabet (many shared prefixes, odd and even
 * lengths, the empty id) and any UTF-16 (lone surrogates included), enough of them to grow the probe
 * array and compact the pool. The arena against a Map of runs. And an engine whose arrays grow and compact
 * many times under churn, against the graph walk.
 */
const RUNS = Number(process.env.ORGKIT_PROPERTY_RUNS) || 200

/** A UUID, then the same with one digit changed in each of its four 32-bit words in turn. */
const ONE_WORD_APART = [
  '0f8fad5b-d9cb-469f-a165-70867728950e',
  '1f8fad5b-d9cb-469f-a165-70867728950e',
  '0f8fad5b-d9cc-469f-a165-70867728950e',
  '0f8fad5b-d9cb-469f-a166-70867728950e',
  '0f8fad5b-d9cb-469f-a165-70867728950f',
]
/** A few UUIDs, so that the same ones come back: kept as 16 bytes. */
const uuidArb = fc.constantFrom(
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-4fff-bfff-ffffffffffff',
  '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  ...ONE_WORD_APART,
)

/** An id table where every id hashes alike: each lookup must compare keys, UUIDs word by word. */
function collidingTable(fields: number): IdTable {
  return Object.assign(new IdTable(fields), { hashChars: () => 1, hashWords: () => 1, hashAt: () => 1 })
}
/** Strings that are almost canonical UUIDs (upper case, a dash moved, a non-hex digit): kept as text. */
const nearUuidArb = fc.oneof(
  uuidArb.map((id) => id.toUpperCase()),
  uuidArb.map((id) => `${id.slice(0, 8)}${id.slice(9, 10)}-${id.slice(10)}`),
  fc
    .tuple(uuidArb, fc.integer({ min: 0, max: 35 }), fc.constantFrom('g', 'G', '-', '/', ':', '`', 'é'))
    .map(([id, at, c]) => id.slice(0, at) + c + id.slice(at + 1)),
)
const idArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', '0', '-'), maxLength: 7 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uuid(),
  uuidArb,
  nearUuidArb,
)

type Op = { op: 'insert' | 'delete' | 'find'; id: string; value: number }
const opArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constantFrom('insert', 'insert', 'delete', 'find'),
  id: idArb,
  value: fc.integer(),
})

describe('IdTable', () => {
  it('answers as a Map does, through growth, tombstones and compaction', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), fc.integer({ min: 1, max: 6 }), (ops, fields) => {
        const table = new IdTable(fields)
        const model = new Map<string, number>()
        for (const { op, id, value } of ops) {
          if (op === 'insert') {
            const existed = model.has(id)
            const at = table.insert(id)
            if (existed) expect(table.pool[at + fields - 1], `insert of existing "${id}"`).toBe(model.get(id))
            else for (let f = 0; f < fields; f++) expect(table.pool[at + f], 'new fields are 0').toBe(0)
            table.pool[at + fields - 1] = value
            model.set(id, value)
          } else if (op === 'delete') {
            // By id, or (half the time, when present) by where its fields are.
            if (value % 2 === 0 && model.has(id)) table.deleteAt(table.find(id))
            else table.delete(id)
            model.delete(id)
          }
          const at = table.find(id)
          if (model.has(id)) {
            expect(table.pool[at + fields - 1], `find "${id}"`).toBe(model.get(id))
            expect(table.keyAt(at), 'keyAt reads the id back').toBe(id)
          } else expect(at, `find of absent "${id}"`).toBe(-1)
          expect(table.size).toBe(model.size)
        }
        for (const [id, value] of model) expect(table.pool[table.find(id) + fields - 1]).toBe(value)
        // forEach visits the live records once each, oldest first.
        const seen: [string, number][] = []
        table.forEach((at) => {
          seen.push([table.keyAt(at), table.pool[at + fields - 1]!])
        })
        expect(seen).toEqual([...model])
      }),
      { numRuns: RUNS },
    )
  })

  it('restored, answers as the table it came from, whichever lookup or write comes first, hashed in slices or not', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 200 }),
        // Each later op on an id the table holds, or (false) on the op's own.
        fc.array(fc.tuple(opArb, fc.nat(), fc.boolean()), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        fc.nat({ max: 6 }),
        (before, after, ownMemoryFirst, slices) => {
          const table = new IdTable(1)
          const model = new Map<string, number>()
          for (const { op, id, value } of before) {
            if (op === 'insert') {
              const at = table.insert(id) // before reading `pool`: an insert may replace it
              table.pool[at] = value
              model.set(id, value)
            } else if (op === 'delete') {
              table.delete(id)
              model.delete(id)
            }
          }
          const restored = new IdTable(1)
          restored.restore(table.raw())
          if (ownMemoryFirst) restored.ownMemory()
          // Some of its records hashed three at a time (ownMemory's steps), the rest by the first op.
          for (let k = 0; k < slices; k++) restored.hashRestored(3)
          for (const [{ op, id: own, value }, pick, held] of after) {
            const ids = [...model.keys()]
            const id = held && ids.length > 0 ? ids[pick % ids.length]! : own
            if (op === 'insert') {
              const at = restored.insert(id)
              restored.pool[at] = value
              model.set(id, value)
            } else if (op === 'delete') {
              // Half the time by where its fields are, found without a lookup (forEach reads no hash).
              let at = -1
              if (value % 2 === 0)
                restored.forEach((fields) => {
                  if (restored.keyAt(fields) === id) at = fields
                })
              if (at >= 0) restored.deleteAt(at)
              else restored.delete(id)
              model.delete(id)
            }
            const at = restored.find(id)
            expect(at >= 0 ? restored.pool[at] : undefined, `"${id}" after ${op}`).toBe(model.get(id))
          }
          expect(restored.size).toBe(model.size)
          for (const [id, value] of model) expect(restored.pool[restored.find(id)]).toBe(value)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('tells ids apart by their keys alone when every hash collides', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => {
        const table = collidingTable(1)
        const model = new Map<string, number>()
        for (const { op, id, value } of ops) {
          if (op === 'insert') {
            table.pool[table.insert(id)] = value
            model.set(id, value)
          } else if (op === 'delete') {
            table.delete(id)
            model.delete(id)
          }
          const at = table.find(id)
          expect(at >= 0 ? table.pool[at] : undefined).toBe(model.get(id))
        }
        for (const [id, value] of model) expect(table.pool[table.find(id)]).toBe(value)
      }),
      { numRuns: RUNS },
    )
  })

  it('tells apart UUIDs that differ in one word only, and a UUID from its text in upper case', () => {
    const table = collidingTable(1)
    const ids = [...ONE_WORD_APART, ONE_WORD_APART[0]!.toUpperCase()]
    ids.forEach((id, i) => {
      table.pool[table.insert(id)] = i + 1
    })
    ids.forEach((id, i) => {
      expect(table.pool[table.find(id)], id).toBe(i + 1)
      expect(table.keyAt(table.find(id))).toBe(id)
    })
  })

  // Plain ids, and canonical UUIDs that differ only in their last word (kept as 16 bytes).
  const churnIds = [
    (i: number) => `id-${i}`,
    (i: number) => `0f8fad5b-d9cb-469f-a165-${i.toString(16).padStart(12, '0')}`,
  ]
  for (const idOf of churnIds)
    it(`keeps every id through heavy churn (many compactions): ${idOf(7)}`, () => {
      const table = new IdTable(2)
      const live = new Map<string, number>()
      for (let i = 0; i < 20_000; i++) {
        const id = idOf(i)
        const at = table.insert(id) // before reading `pool`: an insert may replace it
        table.pool[at + 1] = i
        live.set(id, i)
        if (i % 3 !== 0) {
          const gone = idOf(i - (i % 7))
          table.delete(gone)
          live.delete(gone)
        }
      }
      expect(table.size).toBe(live.size)
      for (const [id, value] of live) {
        expect(table.pool[table.find(id) + 1]).toBe(value)
        expect(table.keyAt(table.find(id))).toBe(id)
      }
      for (let i = 0; i < 20_000; i += 7) if (!live.has(idOf(i))) expect(table.find(idOf(i))).toBe(-1)
    })
})

describe('NodesById', () => {
  it('indexes deferred nodes in their order, after what it holds, whether filled in slices or on first use', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 40 }),
        fc.nat({ max: 40 }),
        fc.nat({ max: 10 }),
        fc.integer({ min: 1, max: 7 }),
        (ids, held, slices, budget) => {
          const nodes = ids.map((id, n) => ({ id, n }))
          const index = new NodesById<{ id: string; n: number }>()
          for (const node of nodes.slice(0, held)) index.all.set(node.id, node)
          index.defer(nodes.slice(held))
          let done = false
          for (let k = 0; k < slices; k++) done = index.fill(budget)
          if (slices > 0)
            expect(done, 'fill says when none is pending').toBe(
              slices * budget >= Math.max(0, ids.length - held),
            )
          expect([...index.all.values()]).toEqual(nodes)
          expect(index.fill(budget)).toBe(true)
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('BindingTable', () => {
  it('keeps each binding and its id through reuse of numbers and compaction of the ids', () => {
    const scope = new OrgNode('o')
    const user = new UserNode('u')
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const table = new BindingTable()
        // id → [number, expiry]
        const model = new Map<string, [number, number]>()
        for (const { op, id, value } of ops) {
          if (op === 'insert' && !model.has(id)) {
            const b = table.add(id, user, null, scope, value)
            for (const [, [other]] of model) expect(other, 'a number in use is not handed out').not.toBe(b)
            model.set(id, [b, value])
          } else if (op === 'delete' && model.has(id)) {
            const b = model.get(id)![0]
            table.remove(b)
            expect(table.isLive(b)).toBe(false)
            model.delete(id)
          }
          expect(table.find(id)).toBe(model.get(id)?.[0] ?? NONE)
          expect(table.size).toBe(model.size)
        }
        for (const [id, [b, expiry]] of model) {
          expect(table.find(id)).toBe(b)
          expect(table.isLive(b)).toBe(true)
          expect(table.idOf(b), 'idOf reads the id back').toBe(id)
          expect(table.expiresAt[b]).toBe(expiry)
          expect(table.scope[b]).toBe(scope)
        }
      }),
      { numRuns: RUNS },
    )
  })
})

describe('Arena', () => {
  it('keeps every live run intact through growth and compaction', () => {
    const opArb = fc.record({
      owner: fc.integer({ min: 0, max: 30 }),
      length: fc.integer({ min: 0, max: 300 }),
    })
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const runs = new Map<number, { start: number; values: number[] }>()
        const arena: Arena = new Arena(() =>
          arena.repack((copy) => {
            for (const run of runs.values()) run.start = copy(run.start, run.values.length)
          }),
        )
        let stamp = 0
        for (const { owner, length } of ops) {
          const old = runs.get(owner)
          if (old) arena.free(old.values.length)
          runs.delete(owner)
          if (length === 0) continue // a delete
          const values = Array.from({ length }, () => ++stamp)
          const start = arena.alloc(length)
          arena.data.set(values, start)
          runs.set(owner, { start, values })
          for (const run of runs.values())
            expect([...arena.data.subarray(run.start, run.start + run.values.length)]).toEqual(run.values)
        }
      }),
      { numRuns: RUNS },
    )
  })
})

describe('the dense index under churn', () => {
  it('answers as the graph walk does while its arrays grow and compact', () => {
    const users = 400
    const snapshot: Snapshot = {
      orgs: [{ id: 'o', parentId: null }],
      resources: [
        { id: 'a', orgId: 'o', type: 'app', parentId: null },
        { id: 'c', orgId: 'o', type: 'channel', parentId: 'a' },
      ],
      users: Array.from({ length: users }, (_, i) => ({ id: `user-${i}`, mfaEnabled: false })),
      memberships: Array.from({ length: users }, (_, i) => ({
        orgId: 'o',
        userId: `user-${i}`,
        status: 'active' as const,
      })),
      roles: [],
      groups: [],
      groupMembers: [],
      bindings: [],
      overrides: [],
      apiKeys: [],
    }
    const capgo = presets.capgo!
    const dense = new Authorizer(capgo, snapshot)
    const walk = new Authorizer(capgo, snapshot, { dense: false })
    const orgRoles = ['org_member', 'org_admin', 'org_billing_admin']
    const appRoles = ['app_developer', 'app_uploader', 'app_reader']
    const questions = [
      ['org.read', { type: 'org', id: 'o' }],
      ['app.update_settings', { type: 'app', id: 'a' }],
      ['channel.promote_bundle', { type: 'channel', id: 'c' }],
    ] as const
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < users; i++) {
        const user = `user-${i}`
        const changes = [
          {
            op: 'binding.put' as const,
            binding: {
              id: `org-${i}`,
              principal: { type: 'user' as const, id: user },
              role: orgRoles[(i + round) % 3]!,
              scope: { type: 'org', id: 'o' },
            },
          },
          (i + round) % 4 === 0
            ? { op: 'binding.delete' as const, id: `app-${i}` }
            : {
                op: 'binding.put' as const,
                binding: {
                  id: `app-${i}`,
                  principal: { type: 'user' as const, id: user },
                  role: appRoles[(i * round) % 3]!,
                  scope: { type: 'app', id: 'a' },
                },
              },
          {
            op: 'override.put' as const,
            override: {
              principal: { type: 'user' as const, id: user },
              resourceId: 'c',
              permission: 'channel.promote_bundle',
              effect: (i + round) % 2 === 0 ? ('allow' as const) : ('deny' as const),
            },
          },
        ]
        for (const change of changes) {
          dense.apply(change)
          walk.apply(change)
        }
      }
      for (let i = 0; i < users; i += 7) {
        const subject = { type: 'user' as const, id: `user-${i}` }
        for (const [permission, target] of questions)
          expect(
            dense.check(subject, permission, target),
            `round ${round}, ${subject.id} ${permission}`,
          ).toEqual(walk.check(subject, permission, target))
      }
    }
  })
})
