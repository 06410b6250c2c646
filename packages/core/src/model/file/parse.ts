import { LineCounter, parseDocument } from 'yaml'
import { OrgkitError } from '../../errors.ts'
import type { Model } from '../model.ts'
import { nearest } from '../nearest.ts'
import { MODEL_FIELDS } from '../schema.ts'
import { modelProblems } from '../validate.ts'
import { at, type Position, positionOf } from './positions.ts'
import { type ModelTest, modelTestsSchema } from './tests-schema.ts'
import { testProblems } from './world.ts'

/** One error of a model file: where, what, and what to write instead. */
export interface ModelFileProblem extends Position {
  message: string
  hint?: string
  /** The field it is about, `roles.app_reader.permissions.3`. */
  path: string
}

/**
 * A model file that cannot load, with every error at once (`errors`, in file order). Its message lists
 * them as `file:line:column: message (hint)`, one a line, as a compiler does.
 */
export class ModelFileError extends OrgkitError {
  readonly file: string
  readonly errors: readonly ModelFileProblem[]
  constructor(file: string, errors: readonly ModelFileProblem[]) {
    super(
      'INVALID_MODEL',
      `${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n${formatProblems(file, errors)}`,
      {
        file,
        errors,
      },
    )
    this.name = 'ModelFileError'
    this.file = file
    this.errors = errors
  }
}

export function formatProblems(file: string, errors: readonly ModelFileProblem[]): string {
  return errors
    .map((e) => `  ${file}:${e.line}:${e.column}: ${e.message}${e.hint ? ` — ${e.hint}` : ''}`)
    .join('\n')
}

/** A test of the file, with where it and each of its expectations are, for a readable report. */
export interface LocatedTest extends ModelTest {
  at: Position
  expectAt: readonly Position[]
}

export interface ModelFile {
  model: Model
  tests: LocatedTest[]
}

/** The fields a model file has besides the model's own. */
const FILE_FIELDS = ['$schema', 'tests']

/**
 * Reads a model file's text (YAML, or JSON, which is YAML too): the model, checked as `validateModel`
 * does, and its tests, each located. Every error — YAML syntax, a duplicate key, a misspelt field, a
 * broken reference in the model or in a test — is collected, with its line and column, into one
 * `ModelFileError`. Pure: the caller reads the file (`@orgkit/core/files` does).
 */
export function parseModelFile(text: string, file = 'model'): ModelFile {
  const counter = new LineCounter()
  const doc = parseDocument(text, {
    lineCounter: counter,
    uniqueKeys: true,
    prettyErrors: false,
    merge: true,
  })
  const errors: ModelFileProblem[] = doc.errors.map((e) => ({
    ...at(counter, e.pos[0]),
    path: '',
    ...(e.code === 'DUPLICATE_KEY'
      ? {
          message: `"${keyAt(text, e.pos[0])}" is declared twice in the same map`,
          hint: 'keep one: merge the two or rename one',
        }
      : { message: e.message.split('\n')[0]! }),
  }))
  // A duplicate key still parses (the last one wins), so the rest of the file is checked too.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) throw new ModelFileError(file, errors)

  const data: unknown = doc.toJS({ maxAliasCount: 1000 })
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ModelFileError(file, [
      {
        line: 1,
        column: 1,
        path: '',
        message: 'a model file is a map of fields',
        hint: 'start from models/capgo.yaml',
      },
    ])
  }
  const { $schema: _schema, tests: rawTests, ...modelInput } = data as Record<string, unknown>
  const locate = (path: readonly (string | number)[], atKey?: boolean) =>
    positionOf(doc, counter, path, atKey)
  const problem = (path: readonly (string | number)[], message: string, hint?: string, atKey?: boolean) => ({
    ...locate(path, atKey),
    path: path.join('.'),
    message,
    ...(hint && { hint }),
  })

  const { model, problems } = modelProblems(modelInput)
  for (const p of problems) {
    const hint = p.atKey && p.path.length === 1 ? topLevelHint(String(p.path[0])) : p.hint
    errors.push(problem(p.path, p.message, hint, p.atKey))
  }

  let tests: LocatedTest[] = []
  const parsedTests = modelTestsSchema.safeParse(rawTests ?? [])
  if (!parsedTests.success) {
    for (const issue of parsedTests.error.issues) {
      const path = ['tests', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))]
      errors.push(problem(path, `${path.join('.')}: ${issue.message}`))
    }
  } else {
    tests = parsedTests.data.map((test, i) => ({
      ...test,
      at: locate(['tests', i, 'name']),
      expectAt: test.expect.map((_, j) => locate(['tests', i, 'expect', j])),
    }))
    if (model) {
      for (const p of testProblems(model, parsedTests.data)) {
        errors.push(problem(['tests', ...p.path], p.message, p.hint))
      }
    }
  }
  if (errors.length || !model) {
    errors.sort((a, b) => a.line - b.line || a.column - b.column)
    throw new ModelFileError(file, errors)
  }
  return { model, tests }
}

function topLevelHint(field: string): string {
  const best = nearest(field, [...MODEL_FIELDS.model, ...FILE_FIELDS])
  return best ? `did you mean \`${best}\`?` : `fields: ${[...MODEL_FIELDS.model, ...FILE_FIELDS].join(', ')}`
}

/** The key written at `offset`: up to its colon or the line's end, quotes dropped. */
const keyAt = (text: string, offset: number): string =>
  text
    .slice(offset)
    .split(/:\s|:$|\n/m)[0]!
    .replace(/^["']|["']$/g, '')
    .trim()
