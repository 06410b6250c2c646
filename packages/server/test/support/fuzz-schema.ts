import fc from 'fast-check'

/**
 * Request values from the served OpenAPI document's own JSON Schemas (issue 22.9), three ways mixed: valid
 * (what the schema allows, ids the world knows), boundary (lengths and numbers at and just past each
 * limit) and hostile (NUL, lone surrogates, huge strings, wrong types, extra keys, injection text).
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is read as it comes
export type Schema = Record<string, any>

export interface Pools {
  /** Ids the world holds (orgs, resources, users, groups…), and a few no one holds. */
  ids: string[]
  /** The orgs' ids, for the parameters that name an org. */
  orgs: string[]
  /** Role and permission keys of the model. */
  keys: string[]
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\u{1f600}',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '\u202e',
  'null',
  '0',
  '-1',
  '1e309',
  'x'.repeat(10_000),
]
const HOSTILE_NUMBERS = [
  0,
  -1,
  1,
  2 ** 31,
  2 ** 53,
  -(2 ** 53),
  1e308,
  -1e308,
  0.5,
  Number.MAX_SAFE_INTEGER + 2,
]

export function resolver(doc: Schema) {
  const resolve = (schema: Schema | undefined): Schema => {
    let s = schema ?? {}
    for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
      const name = (s.$ref as string).split('/').pop()!
      s = doc.components?.schemas?.[name] ?? {}
    }
    return s
  }
  return resolve
}

/** Any JSON value: for a hostile body or field of the wrong type. */
const anyJson = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, [], {}, '', 0, -1, 'x'.repeat(300)),
  fc.jsonValue({ maxDepth: 2 }),
)

export function arbitraryOf(doc: Schema, pools: Pools) {
  const resolve = resolver(doc)
  const of = (raw: Schema | undefined, depth: number): fc.Arbitrary<unknown> => {
    const s = resolve(raw)
    const hostile = fc.oneof(fc.constantFrom<unknown>(...HOSTILE_STRINGS, ...HOSTILE_NUMBERS), anyJson)
    const variants = s.anyOf ?? s.oneOf
    if (Array.isArray(variants) && variants.length > 0)
      return fc.oneof(...variants.map((v: Schema) => of(v, depth)))
    if (Array.isArray(s.allOf) && s.allOf.length > 0) return of(s.allOf[0], depth)
    if (s.enum)
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...(s.enum as unknown[])) },
        { weight: 1, arbitrary: hostile },
      )
    if ('const' in s) return fc.constant(s.const)
    const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type
    const nullable = Array.isArray(s.type) && s.type.includes('null')
    const valid = ((): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'string':
          return stringOf(s, pools)
        case 'integer':
        case 'number': {
          const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000)
          const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1_000_000)
          const base =
            type === 'integer'
              ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
              : fc.double({ min, max, noNaN: true })
          return fc.oneof(
            { weight: 4, arbitrary: base },
            { weight: 1, arbitrary: fc.constantFrom(min, max, min - 1, max + 1) },
          )
        }
        case 'boolean':
          return fc.boolean()
        case 'array': {
          if (depth > 3) return fc.constant([])
          const maxLength = Math.min(s.maxItems ?? 4, 4)
          const arr = fc.array(of(s.items, depth + 1), {
            minLength: s.minItems ?? 0,
            maxLength: Math.max(maxLength, s.minItems ?? 0),
          })
          return s.maxItems !== undefined && s.maxItems < 50
            ? fc.oneof(
                { weight: 5, arbitrary: arr },
                {
                  weight: 1,
                  arbitrary: fc.array(of(s.items, depth + 1), {
                    minLength: s.maxItems + 1,
                    maxLength: s.maxItems + 1,
                  }),
                },
              )
            : arr
        }
        default: {
          if (depth > 3) return fc.constant({})
          const props: Record<string, Schema> = s.properties ?? {}
          const required = new Set<string>(s.required ?? [])
          const entries = Object.entries(props).map(([key, value]) =>
            fc.tuple(
              fc.constant(key),
              required.has(key) ? fc.constant(true) : fc.integer({ min: 0, max: 9 }).map((n) => n < 4),
              of(value, depth + 1),
            ),
          )
          // A key the schema does not name (mass assignment), on some top-level bodies only.
          const extra =
            depth > 0
              ? fc.constant(null)
              : fc.oneof(
                  { weight: 11, arbitrary: fc.constant(null) },
                  {
                    weight: 1,
                    arbitrary: fc.tuple(
                      fc.constantFrom('__proto__', 'constructor', 'id', 'orgId', 'role', 'x'),
                      anyJson,
                    ),
                  },
                )
          return fc.tuple(fc.tuple(...entries), extra).map(([values, more]) => {
            const out: Record<string, unknown> = {}
            for (const [key, present, value] of values) if (present) out[key] = value
            if (more) out[more[0]] = more[1]
            return out
          })
        }
      }
    })()
    return fc.oneof(
      { weight: depth === 0 ? 12 : 40, arbitrary: valid },
      { weight: 1, arbitrary: hostile },
      ...(nullable ? [{ weight: 1, arbitrary: fc.constant(null) }] : []),
    )
  }
  return (schema: Schema | undefined) => of(schema, 0)
}

function stringOf(s: Schema, pools: Pools): fc.Arbitrary<string> {
  if (s.format === 'uuid' || /uuid|\[0-9a-f\]\{8\}/i.test(s.pattern ?? ''))
    return fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...pools.ids) },
      { weight: 1, arbitrary: fc.uuid() },
    )
  if (s.format === 'email')
    return fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 50 }).map((n) => `user${n}@example.com`) },
      { weight: 1, arbitrary: fc.emailAddress() },
      { weight: 1, arbitrary: fc.constantFrom('owner@example.com', 'a@b', '@', 'x@example.com\u0000') },
    )
  if (s.format === 'date-time')
    return fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constant('2000-13-45T99:99:99Z'),
    )
  if (s.format === 'uri' || s.format === 'url')
    return fc.constantFrom(
      'https://example.com/hook',
      'http://127.0.0.1:1/x',
      'ftp://x',
      'javascript:alert(1)',
      'http://[::1]/',
    )
  const min = s.minLength ?? 0
  const max = Math.min(s.maxLength ?? 40, 300)
  const boundary = fc
    .constantFrom(...new Set([min, max, max + 1, Math.max(0, min - 1)]))
    .map((n) => 'a'.repeat(n))
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: Math.max(min, Math.min(max, 24)) }) },
    { weight: 3, arbitrary: fc.constantFrom(...pools.keys) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    // Text PostgreSQL can't store as sent, in a field that would otherwise pass (issue 22.2).
    { weight: 1, arbitrary: fc.constantFrom('name\u0000', 'x\ud800', '\udc00y', 'a\u0000\ud800') },
    { weight: 1, arbitrary: boundary },
  )
}
