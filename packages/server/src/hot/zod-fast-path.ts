import type { z } from '@hono/zod-openapi'

/** Whether a value is one the schema accepts and parses to itself. */
export type Acceptor = (value: unknown) => boolean

/**
 * A quick yes for the common request, derived from a zod schema: a predicate that is true only for a
 * value the schema accepts *and* whose parsed output equals the value itself, so the caller can use the
 * value as it is. False means only "ask zod" (which then answers, or words the error as always).
 *
 * Why: zod copies every object it parses and runs each check through its generic machinery; for a batch of
 * 1000 checks that was ~0.5 µs of ~3.5 µs per check (docs/performance.md). The predicate reads the same
 * definitions (`_zod.def`) and understands a small set of them: objects (strict, or stripping but then only
 * without unknown keys), optional members, arrays, unions of those, enums, booleans, strings with length
 * bounds, numbers that are safe integers with bounds. Anything else anywhere in the schema (a refinement, a
 * transform, a default, a format, a check it does not know) and there is no predicate: zod alone decides.
 * Every part errs towards false: a false where zod would accept only costs the fast path.
 * test/zod-fast-path.property.test.ts holds it to zod on generated values.
 */
export function compileAcceptor(schema: z.ZodType): Acceptor | null {
  try {
    return compile(schema)
  } catch (error) {
    if (error instanceof Unsupported) return null
    throw error
  }
}

class Unsupported extends Error {}

// biome-ignore lint/suspicious/noExplicitAny: zod's definitions are internal and untyped here
type Def = any

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def

/** The keys a check's definition may have and still mean only what is read here. */
const CHECK_KEYS = new Set([
  'check',
  'minimum',
  'maximum',
  'value',
  'inclusive',
  'format',
  'type',
  'when',
  'abort',
  'error',
])

/** The length bounds or number bounds of a schema's checks; unknown checks are unsupported. */
function boundsOf(def: Def): { min: number; max: number; safeInt: boolean } {
  const bounds = { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY, safeInt: false }
  for (const check of def.checks ?? []) {
    const c = defOf(check)
    if (Object.keys(c).some((key) => !CHECK_KEYS.has(key))) throw new Unsupported()
    if (c.check === 'min_length') bounds.min = Math.max(bounds.min, c.minimum)
    else if (c.check === 'max_length') bounds.max = Math.min(bounds.max, c.maximum)
    else if (c.check === 'number_format' && c.format === 'safeint') bounds.safeInt = true
    // An exclusive bound (`.positive()`, `.lt()`) is not read: NaN, which no comparison passes, so such a
    // number is always zod's to judge.
    else if (c.check === 'greater_than') bounds.min = Math.max(bounds.min, c.inclusive ? c.value : Number.NaN)
    else if (c.check === 'less_than') bounds.max = Math.min(bounds.max, c.inclusive ? c.value : Number.NaN)
    else throw new Unsupported()
  }
  return bounds
}

const DEF_KEYS: Record<string, Set<string>> = {
  object: new Set(['type', 'shape', 'catchall', 'checks']),
  array: new Set(['type', 'element', 'checks']),
  union: new Set(['type', 'options']),
  optional: new Set(['type', 'innerType']),
  enum: new Set(['type', 'entries']),
  string: new Set(['type', 'checks']),
  number: new Set(['type', 'checks']),
  boolean: new Set(['type']),
}

function compile(schema: unknown): Acceptor {
  const def = defOf(schema)
  const known = DEF_KEYS[def.type]
  if (known === undefined || Object.keys(def).some((key) => !known.has(key) && def[key] !== undefined))
    throw new Unsupported()
  switch (def.type) {
    case 'string': {
      // Zod counts a string's length in code points: at most its UTF-16 units, at least half of them.
      const { min, max } = boundsOf(def)
      return (v) =>
        typeof v === 'string' &&
        v.length <= max &&
        (min <= 1 ? v.length >= min : v.length >= 2 * min || codePoints(v) >= min)
    }
    case 'number': {
      const { min, max, safeInt } = boundsOf(def)
      if (!safeInt) throw new Unsupported() // NaN, infinities: leave them to zod
      return (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
    }
    case 'boolean':
      return (v) => typeof v === 'boolean'
    case 'enum': {
      const values = Object.values(def.entries as Record<string, unknown>)
      if (!values.every((value) => typeof value === 'string')) throw new Unsupported()
      return (v) => typeof v === 'string' && values.includes(v)
    }
    case 'array': {
      const { min, max } = boundsOf(def)
      const element = compile(def.element)
      return (v) => {
        if (!Array.isArray(v) || v.length < min || v.length > max) return false
        for (const item of v) if (!element(item)) return false
        return true
      }
    }
    case 'object':
      return compileObject(def)
    case 'union':
      return compileUnion(def.options as unknown[])
    default:
      throw new Unsupported() // optional only as an object's member
  }
}

/** Own keys only, no unknown ones, every required one present, every present one accepted. */
function compileObject(def: Def): Acceptor {
  if (def.checks?.length) throw new Unsupported()
  // Stripping (no catchall) parses to the value itself when there is nothing to strip; strict likewise.
  if (def.catchall !== undefined && defOf(def.catchall).type !== 'never') throw new Unsupported()
  const shape = def.shape as Record<string, unknown>
  // zod asks `key in value`, which sees what every object inherits (`toString`, `__proto__`): such keys
  // would be present to zod and absent here.
  if (Object.keys(shape).some((key) => key in Object.prototype)) throw new Unsupported()
  const members = Object.entries(shape).map(([key, member]) => {
    const optional = defOf(member).type === 'optional'
    const unknownKey = (k: string) => !DEF_KEYS.optional!.has(k) && defOf(member)[k] !== undefined
    if (optional && Object.keys(defOf(member)).some(unknownKey)) throw new Unsupported()
    return { key, optional, accept: compile(optional ? defOf(member).innerType : member) }
  })
  return (v) => {
    if (!isPlainObject(v)) return false
    let present = 0
    for (const { key, optional, accept } of members) {
      if (Object.hasOwn(v, key)) {
        if (!accept(v[key])) return false // undefined included: not a JSON value
        present++
      } else if (!optional) return false
    }
    // Any other key is unknown (strict: rejected; stripping: the output would differ). for-in also counts
    // inherited enumerable keys (a polluted prototype): that only makes the count larger, a false.
    let keys = 0
    for (const _ in v) keys++
    return keys === present
  }
}

/**
 * Zod answers a union with its first option that succeeds. So option i may say yes only when every option
 * before it surely fails: not a plain object, a key it does not know (they are all strict), or a key it
 * requires missing.
 */
function compileUnion(options: unknown[]): Acceptor {
  const accepts = options.map(compile)
  const refuses = options.map((option) => {
    const def = defOf(option)
    if (def.type !== 'object' || def.catchall === undefined) throw new Unsupported()
    const shape = def.shape as Record<string, unknown>
    const required = Object.keys(shape).filter((key) => defOf(shape[key]).type !== 'optional')
    return (v: unknown) =>
      !isPlainObject(v) ||
      Object.keys(v).some((key) => !Object.hasOwn(shape, key)) ||
      required.some((key) => !Object.hasOwn(v, key))
  })
  return (v) => {
    for (let i = 0; i < accepts.length; i++) {
      if (accepts[i]!(v)) return true
      if (!refuses[i]!(v)) return false
    }
    return false
  }
}

function codePoints(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}
