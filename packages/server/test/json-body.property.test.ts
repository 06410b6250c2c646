import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { atObjectBoundaries, inPieces, largeArray, parseJsonBody } from '../src/hot/json-body.ts'

/**
 * Documents drawn per property in `npm test` (with 1,000 each, ~10 s of a worker's time this file took
 * before at 3,000 / 3,000 / 5,000); ORGKIT_JSON_BODY_RUNS sets a longer search. Each run draws new seeds.
 */
const RUNS = Number(process.env.ORGKIT_JSON_BODY_RUNS) || 1000

/** What `parseJsonBody` must be: JSON.parse, value for value, error for error. */
function same(text: string, piece: number) {
  const body = Buffer.from(text, 'utf8')
  let expected: unknown
  try {
    expected = JSON.parse(text)
  } catch {
    expect(() => parseJsonBody(body, piece), text).toThrow(SyntaxError)
    return
  }
  const parsed = parseJsonBody(body, piece)
  expect(parsed, text).toStrictEqual(expected)
  // Own `__proto__` members stay members, and nothing changes an object's prototype.
  expect(JSON.stringify(parsed)).toBe(JSON.stringify(expected))
}

const value = fc.jsonValue({ maxDepth: 3 })
/** Objects whose strings and keys often hold what the quick path cuts at, `},{`, or brackets. */
const tricky = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('},{', '"},{"', '],[', '\\', '{', '}'))
const object = fc.dictionary(
  tricky,
  fc.oneof(value, tricky, fc.array(fc.dictionary(tricky, value), { maxLength: 3 })),
  {
    maxKeys: 3,
  },
)
/** `{…, "name": [elements], …}`, laid out compactly or indented, as a host's batch body is. */
const document = fc
  .record({
    before: fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 }),
    name: fc.oneof(fc.constantFrom('checks', '__proto__', 'a"b', 'ü'), fc.string({ maxLength: 6 })),
    items: fc.oneof(fc.array(value, { maxLength: 30 }), fc.array(object, { maxLength: 30 })),
    after: fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 }),
    indent: fc.constantFrom(undefined, 0, 1, 2, '\t'),
  })
  .map(({ before, name, items, after, indent }) => {
    const names = [...Object.keys(before), name, ...Object.keys(after)]
    const member = (k: string, v: unknown) => `${JSON.stringify(k)}:${JSON.stringify(v, null, indent)}`
    const members = [
      ...Object.entries(before).map(([k, v]) => member(k, v)),
      member(name, items),
      ...Object.entries(after).map(([k, v]) => member(k, v)),
    ]
    return { text: `{${members.join(indent === undefined ? ',' : ',\n ')}}`, names }
  })

/** A host's batch as it is usually sent: compact, a few scalar members around one array of objects. */
const objectsDocument = fc
  .record({
    before: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), tricky), { maxKeys: 2 }),
    items: fc.oneof(
      fc.array(object, { minLength: 2, maxLength: 30 }),
      fc.array(
        fc.record({
          subject: fc.record({ type: fc.constant('user'), id: fc.uuid() }),
          permission: fc.string({ maxLength: 12 }),
          resource: fc.record({ type: fc.constant('app'), id: fc.uuid() }),
        }),
        { minLength: 2, maxLength: 30 },
      ),
    ),
    after: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), tricky, object), { maxKeys: 2 }),
  })
  .map(({ before, items, after }) => {
    const text = JSON.stringify({ ...before, checks: items, ...after })
    return { text, names: [] as string[] }
  })

describe('parseJsonBody is JSON.parse', () => {
  it('on documents with a large array member, in pieces of any size', () => {
    let split = 0
    fc.assert(
      fc.property(document, fc.integer({ min: 2, max: 200 }), ({ text, names }, piece) => {
        same(text, piece)
        // A valid document's large array is found and parsed in pieces, unless its name is taken twice.
        const found = largeArray(Buffer.from(text), piece)
        if (found === null) return
        split++
        const name = JSON.parse(Buffer.from(text).toString('utf8', found.key.start, found.key.end))
        const twice = names.filter((n) => n === name).length > 1
        expect(inPieces(Buffer.from(text), found, piece) === undefined, text).toBe(twice)
      }),
      { numRuns: RUNS },
    )
    // The generated documents exercise the piecewise path, not only the whole-body fallback.
    expect(split).toBeGreaterThan(RUNS / 3)
  })

  it('cutting between objects: JSON.parse, and taken for compact arrays of objects', () => {
    let quick = 0
    fc.assert(
      fc.property(
        fc.oneof(document, objectsDocument),
        fc.integer({ min: 60, max: 600 }),
        ({ text }, piece) => {
          const body = Buffer.from(text)
          const parsed = atObjectBoundaries(body, piece)
          if (parsed === undefined) return
          quick++
          expect(parsed, text).toStrictEqual(JSON.parse(text))
          expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(text)))
        },
      ),
      { numRuns: RUNS },
    )
    expect(quick).toBeGreaterThan(RUNS / 8)
  })

  it('on those documents broken by one edit: both answer alike or both throw', () => {
    fc.assert(
      fc.property(
        document,
        fc.nat(),
        fc.constantFrom('', ',', '"', '\\', '[', ']', '{', '}', ':', ' ', 'x', '1'),
        fc.integer({ min: 2, max: 64 }),
        ({ text }, at, insert, piece) => {
          const i = at % (text.length + 1)
          same(text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : 0)), piece)
        },
      ),
      { numRuns: Math.ceil(RUNS * 1.5) },
    )
  })

  it('on the cases a scanner gets wrong', () => {
    const big = Array.from({ length: 50 }, (_, i) => ({ id: `x${i}`, s: 'a,b]}"{[' }))
    for (const text of [
      JSON.stringify({ checks: big }),
      `{"checks": ${JSON.stringify(big)}, "checks": []}`, // named twice: the last wins
      `{"checks": [], "checks": ${JSON.stringify(big)}}`,
      `{"check\\u0073": ${JSON.stringify(big)}, "checks": 1}`, // the same name, spelled differently
      `{"__proto__": ${JSON.stringify(big)}}`,
      `{"checks": ${JSON.stringify(big).slice(0, -1)},]}`, // a trailing comma
      `{"checks": [${'1,'.repeat(60)},1]}`, // an empty element
      `{"checks": [${' '.repeat(300)}]}`,
      `{"checks": ${JSON.stringify(big)}} trailing`,
      `{"checks": ${JSON.stringify(big)}}}`,
      `{"checks": ${JSON.stringify(big).slice(0, -1)}}}`, // closed by the wrong bracket
      `{"s": "\\"[", "checks": ${JSON.stringify(big)}}`,
      `{"a": {"checks": ${JSON.stringify(big)}}, "checks": [1]}`,
      `[${JSON.stringify(big)}]`,
      `  {"checks": ${JSON.stringify(big)}}  `,
      `{"checks": ${JSON.stringify(big.map((b) => ({ ...b, s: 'ünïcödé 𝄞 "' })))}}`,
      `{"checks": ${JSON.stringify(big)}, "more": [{}, {}], "x": [{},{}]}`, // a \`},{\` after the array
      `{"checks": ${JSON.stringify(big.map((b) => ({ ...b, s: '},{' })))}}`, // and inside strings
      `{"checks": ${JSON.stringify(big.map((b) => ({ ...b, n: [{}, {}] })))}}`, // and in nested arrays
      `{"checks": ${JSON.stringify(big.map((b) => ({ ...b, n: [{}, {}] })))}, "checks": 1}`,
      `{"a": [{},{}], "big": "${'x'.repeat(300)}"}`,
    ]) {
      for (const piece of [2, 16, 100, 1000, 64 * 1024]) same(text, piece)
    }
  })
})
