import type { z } from 'zod'
import { nearest } from './nearest.ts'
import { modelSchema } from './schema.ts'

/** Where in a model: `['roles', 'app_reader', 'permissions', 3]`. */
export type ModelPath = readonly (string | number)[]

/**
 * One thing wrong with a model: where (`path`), what (`message`), what to write instead (`hint`) and the
 * key it is about (`culprit`: a role, a permission, a type). A model file maps `path` to a line.
 */
export interface ModelProblem {
  path: ModelPath
  message: string
  hint?: string
  culprit: string
  /** The path names a key (a misspelt field, a reserved name), not its value. */
  atKey?: boolean
}

/** A model's shape errors (zod's issues), each with its path and, for a misspelt field, the nearest one. */
export function shapeProblems(issues: readonly z.core.$ZodIssue[]): ModelProblem[] {
  return issues.flatMap((issue): ModelProblem[] => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))
    const where = path.join('.')
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((field) => ({
        path: [...path, field],
        atKey: true,
        culprit: [...path, field].join('.'),
        message: `"${field}" is not a field here`,
        ...hintFromShape(path, field),
      }))
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      const field = String(path.at(-1))
      return [{ path, culprit: where, message: `${field} is missing`, hint: `add \`${field}:\`` }]
    }
    return [{ path, culprit: where, message: `${where}: ${issue.message}` }]
  })
}

function hintFromShape(path: ModelPath, field: string): { hint?: string } {
  const shape = fieldsAt(path)
  const best = nearest(field, shape)
  return best
    ? { hint: `did you mean \`${best}\`?` }
    : shape.length
      ? { hint: `fields: ${shape.join(', ')}` }
      : {}
}

/** The fields an object at `path` may have, from the schema. */
function fieldsAt(path: ModelPath): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definitions by path
  let schema: any = modelSchema
  for (const step of path) {
    while (schema?._zod?.def?.innerType) schema = schema._zod.def.innerType
    const def = schema?._zod?.def
    if (def?.type === 'object') schema = def.shape[step]
    else if (def?.type === 'record') schema = def.valueType
    else if (def?.type === 'array') schema = def.element
    else return []
  }
  while (schema?._zod?.def?.innerType) schema = schema._zod.def.innerType
  return schema?._zod?.def?.type === 'object' ? Object.keys(schema._zod.def.shape) : []
}

const PLACEHOLDERS: Record<string, unknown> = {
  string: '?',
  number: 0,
  boolean: false,
  array: [],
  object: {},
}

/** The input with each shape error patched (a placeholder, a misspelt field dropped), to check the rest. */
export function patch(input: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  for (const issue of issues) {
    const path = issue.path.map(String)
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((node, step) => (node as Record<string, unknown>)?.[step], input)
    const last = path.at(-1)
    if (issue.code === 'unrecognized_keys') {
      const node = path.reduce<unknown>((n, step) => (n as Record<string, unknown>)?.[step], input)
      for (const key of issue.keys) delete (node as Record<string, unknown>)[key]
    } else if (parent && typeof parent === 'object' && last !== undefined) {
      const expected = issue.code === 'invalid_type' ? issue.expected : 'string'
      if (issue.code === 'invalid_key') delete (parent as Record<string, unknown>)[last]
      else (parent as Record<string, unknown>)[last] = PLACEHOLDERS[expected] ?? '?'
    } else return input
  }
  return input
}
