import { z } from '@hono/zod-openapi'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileAcceptor } from '../src/hot/zod-fast-path.ts'
import { authorizationRoutes } from '../src/routes/check.ts'

// biome-ignore lint/suspicious/noExplicitAny: zod's definitions are internal and untyped here
const defOf = (schema: unknown): any => (schema as { _zod: { def: unknown } })._zod.def

/** A check's bounds, read the way a test may: min_length / max_length / greater_than only. */
function bounds(def: { checks?: unknown[] }) {
  let min = 0
  let max = Number.POSITIVE_INFINITY
  for (const check of def.checks ?? []) {
    const c = defOf(check)
    if (c.check === 'min_length' || c.check === 'greater_than') min = c.minimum ?? c.value
    if (c.check === 'max_length') max = c.maximum
  }
  return { min, max }
}

/** Strings whose length is near `n`, in UTF-16 units or in code points (an astral character is two units). */
const stringsNear = (n: number) =>
  fc.oneof(
    fc.string({ minLength: Math.max(0, n - 1), maxLength: n + 1 }),
    fc.string({ unit: fc.constantFrom('a', '😀', 'é'), minLength: Math.max(0, n - 2), maxLength: n + 1 }),
  )

/** Values near what the schema accepts: every bound on both sides, wrong types, unknown and missing keys. */
function near(schema: unknown): fc.Arbitrary<unknown> {
  const def = defOf(schema)
  const wild = fc.jsonValue({ maxDepth: 2 })
  const own = ((): fc.Arbitrary<unknown> => {
    switch (def.type) {
      case 'string': {
        const { min, max } = bounds(def)
        return fc.oneof(stringsNear(min), ...(Number.isFinite(max) ? [stringsNear(max)] : []))
      }
      case 'number':
        return fc.oneof(
          fc.integer({ min: -3, max: 3 }),
          fc.constantFrom(-0, 0.5, -1, 2 ** 53, 2 ** 53 - 1, 1e300),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        )
      case 'boolean':
        return fc.boolean()
      case 'enum':
        return fc.oneof(fc.constantFrom(...Object.values(def.entries)), fc.string({ maxLength: 6 }))
      case 'optional':
        return near(def.innerType)
      case 'union':
        return fc.oneof(...def.options.map(near))
      case 'array': {
        const { min, max } = bounds(def)
        return fc.oneof(
          fc.array(near(def.element), { maxLength: Math.min(max + 1, 4) }),
          fc
            .tuple(valid(def.element), fc.constantFrom(min - 1, min, max, max + 1))
            .filter(([, n]) => n >= 0 && n <= 2000)
            .map(([item, n]) => Array.from({ length: n }, () => item)),
        )
      }
      case 'object': {
        const shape = def.shape as Record<string, unknown>
        const members = fc.record(
          Object.fromEntries(Object.entries(shape).map(([key, member]) => [key, near(member)])),
          { requiredKeys: [] },
        )
        const extra = fc.dictionary(
          fc.constantFrom('extra', 'type', 'org', 'id', '__proto__', 'checks'),
          wild,
          {
            maxKeys: 2,
          },
        )
        return fc.oneof(
          { weight: 3, arbitrary: members },
          { weight: 1, arbitrary: fc.tuple(members, extra).map(([a, b]) => ({ ...b, ...a })) },
          { weight: 1, arbitrary: fc.tuple(members, extra).map(([a, b]) => ({ ...a, ...b })) },
        )
      }
      default:
        throw new Error(`no arbitrary for ${def.type}`)
    }
  })()
  return fc.oneof({ weight: 8, arbitrary: own }, { weight: 1, arbitrary: wild })
}

/** Values the schema accepts, so the fast path must take them. */
function valid(schema: unknown): fc.Arbitrary<unknown> {
  const def = defOf(schema)
  switch (def.type) {
    case 'string': {
      const { min, max } = bounds(def)
      return fc.string({ minLength: min, maxLength: Math.min(max, min + 40) })
    }
    case 'number':
      return fc.nat()
    case 'boolean':
      return fc.boolean()
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries))
    case 'union':
      return fc.oneof(...def.options.map(valid))
    case 'array': {
      const { min } = bounds(def)
      return fc.array(valid(def.element), { minLength: min, maxLength: min + 3 })
    }
    case 'object': {
      const shape = def.shape as Record<string, unknown>
      const required = Object.keys(shape).filter((key) => defOf(shape[key]).type !== 'optional')
      return fc.record(
        Object.fromEntries(
          Object.entries(shape).map(([key, member]) => [
            key,
            valid(defOf(member).type === 'optional' ? defOf(member).innerType : member),
          ]),
        ),
        { requiredKeys: required },
      )
    }
    default:
      throw new Error(`no arbitrary for ${def.type}`)
  }
}

describe('the zod fast path (zod-fast-path.ts)', () => {
  for (const route of authorizationRoutes) {
    const accept = compileAcceptor(route.input)

    it(`${route.path}: says yes only to what zod accepts and parses to the value itself`, () => {
      expect(accept).not.toBeNull()
      fc.assert(
        fc.property(near(route.input), (value) => {
          const json = JSON.parse(JSON.stringify(value) ?? 'null') as unknown // what a body can hold
          if (!accept!(json)) return
          const parsed = route.input.safeParse(json)
          expect(parsed.success, JSON.stringify(json)).toBe(true)
          expect(parsed.data).toStrictEqual(json)
        }),
        { numRuns: 2000 },
      )
    })

    it(`${route.path}: says yes to every value zod accepts as it is`, () => {
      fc.assert(
        fc.property(valid(route.input), (value) => {
          expect(route.input.safeParse(value).success).toBe(true)
          expect(accept!(value), JSON.stringify(value)).toBe(true)
        }),
        { numRuns: 300 },
      )
    })
  }

  it('has no fast path for what it does not understand', () => {
    const unsupported = [
      z.object({ id: z.uuid() }),
      z.object({ name: z.string().trim() }),
      z.object({ key: z.string().regex(/^[a-z]+$/) }),
      z.object({ n: z.number() }), // NaN and infinities are zod's to judge
      z.object({ n: z.number().int().default(0) }),
      z.object({ s: z.string().transform((s) => s.length) }),
      z.object({ s: z.string() }).refine(() => true),
      z.object({ s: z.string() }).passthrough(),
      z.record(z.string(), z.string()),
      z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]), // stripping options
      z.object({ toString: z.string().optional() }).strict(), // zod sees the inherited one: `key in value`
      z.object({ ['__proto__']: z.string() }).strict(),
    ]
    for (const schema of unsupported) expect(compileAcceptor(schema)).toBeNull()
  })

  it('counts lengths as zod does, in code points, or leaves the string to zod', () => {
    const schema = z.object({ id: z.string().min(2).max(3) }).strict()
    const accept = compileAcceptor(schema)!
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '😀', '\ud83d'), maxLength: 7 }), (id) => {
        if (accept({ id })) expect(schema.safeParse({ id }).success, JSON.stringify(id)).toBe(true)
      }),
      { numRuns: 2000 },
    )
    expect(accept({ id: '😀' })).toBe(false) // two units, one code point: too short
    expect(accept({ id: 'a😀' })).toBe(true)
    // Four units, two code points: zod accepts; more units than the maximum is left to zod to count.
    expect([accept({ id: '😀😀' }), schema.safeParse({ id: '😀😀' }).success]).toEqual([false, true])
    expect(accept({ id: 'aaa😀' })).toBe(false) // four code points: too long
  })
})
