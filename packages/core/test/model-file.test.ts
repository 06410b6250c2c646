import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadModelFile, presetFile, resolveModel } from '../src/files/index.ts'
import {
  ModelFileError,
  type ModelFileProblem,
  parseModelFile,
  presets,
  runModelTests,
} from '../src/index.ts'

/** A model file with one edit: `[find, replace]` pairs applied to the projects preset's file. */
const projectsText = readFileSync(presetFile('projects'), 'utf8')
function edited(...edits: [string, string][]): string {
  let text = projectsText
  for (const [find, replace] of edits) {
    expect(text, find).toContain(find)
    text = text.replace(find, replace)
  }
  return text
}

function errorsOf(text: string): ModelFileProblem[] {
  try {
    parseModelFile(text, 'model.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFileError)
    return [...(error as ModelFileError).errors]
  }
  throw new Error('the file loaded')
}

/** The 1-based line of the n-th occurrence of `text` in a file. */
const lineOf = (file: string, text: string, n = 1): number => {
  let at = -1
  for (let i = 0; i < n; i++) at = file.indexOf(text, at + 1)
  return file.slice(0, at).split('\n').length
}

describe('a model file with mistakes', () => {
  it('reports every one at once, in file order, each with its line, column and what to write instead', () => {
    const text = edited(
      [
        '  project_viewer:\n    scope: project\n    slot: project\n    label: Viewer\n',
        '  project_viewer:\n    scope: project\n    slot: project\n    labl: Viewer\n',
      ],
      ['      - project.read\n    priority: 20', '      - project.raed\n    priority: 20'],
      ['  project_editor:\n    scope: project', '  project_editor:\n    scope: projekt'],
      ['    label: Owner\n', ''],
      ['  project:\n    parent: org', '  project:\n    parent: project'],
    )
    const errors = errorsOf(text)
    const find = (pattern: RegExp) => errors.find((e) => pattern.test(e.message))
    expect(find(/"labl" is not a field/)).toMatchObject({
      line: lineOf(text, 'labl'),
      column: 5,
      hint: 'did you mean `label`?',
    })
    expect(find(/label is missing/)).toMatchObject({
      line: lineOf(text, 'project_viewer:', 1),
      hint: 'add `label:`',
    })
    expect(find(/unknown permission "project.raed"/)).toMatchObject({
      line: lineOf(text, '- project.raed'),
      column: 9,
      hint: 'did you mean "project.read"?',
    })
    expect(find(/unknown scope "projekt"/)).toMatchObject({
      line: lineOf(text, 'projekt'),
      hint: 'did you mean "project"?',
    })
    expect(find(/cycle: project -> project/)).toMatchObject({ line: lineOf(text, 'parent: project') })
    expect(errors.filter((e) => /label is missing/.test(e.message))).toHaveLength(2)
    expect(errors.map((e) => e.line)).toEqual([...errors.map((e) => e.line)].sort((a, b) => a - b))
  })

  it('names a role at a wrong scope, a duplicate permission and a duplicate key', () => {
    const text = edited(
      [
        '      - project.read\n      - project.write\n    priority: 30',
        '      - project.read\n      - org.delete\n      - project.read\n    priority: 30',
      ],
      ['  org_member:\n    scope: org\n', '  org_member:\n    scope: org\n    scope: org\n'],
    )
    const errors = errorsOf(text)
    expect(errors).toContainEqual(
      expect.objectContaining({
        line: lineOf(text, '- org.delete', 2),
        message: expect.stringMatching(/bound at "project" but permission "org.delete" is on "org"/),
        hint: expect.stringMatching(/a role at "project" holds permissions on project/),
      }),
    )
    expect(errors).toContainEqual(
      expect.objectContaining({
        line: lineOf(text, '- org.delete', 2) + 1,
        message: expect.stringMatching(/twice/),
      }),
    )
    expect(errors).toContainEqual(
      expect.objectContaining({
        line: lineOf(text, 'scope: org', 3),
        column: 5,
        message: '"scope" is declared twice in the same map',
      }),
    )
  })

  it('checks the tests’ names against the model and the world', () => {
    const text = edited(
      [
        '      - { user: bob, can: project.write, on: p1 }',
        '      - { user: bob, can: project.wirte, on: p3 }',
      ],
      [
        '        - { user: ext, role: project_viewer, on: p1 }',
        '        - { user: ext, role: org_admin, on: p1 }',
      ],
    )
    const messages = errorsOf(text).map((e) => `${e.message} — ${e.hint}`)
    expect(messages).toEqual([
      'unknown permission "project.wirte" — did you mean "project.write"?',
      'unknown org or resource "p3" — did you mean "p1"?',
      'role "org_admin" is bound at org, not on project "p1" — roles on project: project_viewer, project_editor, project_owner',
    ])
  })

  it('stops at a YAML syntax error with its place', () => {
    expect(errorsOf('name: x\nroles: [a\n')[0]).toMatchObject({
      line: expect.any(Number),
      column: expect.any(Number),
    })
  })

  it('reads JSON too, with lines', () => {
    const json = JSON.stringify(
      { ...presets.projects, roles: { ...presets.projects!.roles, x: { scope: 'org' } } },
      null,
      2,
    )
    const errors = errorsOf(json)
    expect(errors[0]).toMatchObject({ line: lineOf(json, '"x":'), message: 'slot is missing' })
  })
})

describe('model tests', () => {
  it('fail on an answer the model does not give, naming the expectation', () => {
    const { model, tests } = parseModelFile(
      edited([
        '      - { user: cy, cannot: project.read, on: p1 }',
        '      - { user: cy, can: project.read, on: p1 }',
      ]),
    )
    const results = runModelTests(model, tests)
    const failed = results.filter((r) => r.failures.length)
    expect(failed.map((r) => r.name)).toEqual([
      'Instead of giving a specific account access to a project, you can give access to a Role',
    ])
    expect(failed[0]!.failures).toEqual([
      { index: 1, message: 'cy can project.read on p1, but may not (no_grant)' },
    ])
  })
})

describe('resolveModel (ORGKIT_MODEL)', () => {
  it('takes a preset name or a file, and says what it wants otherwise', () => {
    expect(resolveModel('teams')).toBe(presets.teams)
    expect(resolveModel(presetFile('modules'))).toEqual(presets.modules)
    expect(() => resolveModel('capgoo')).toThrow(
      /neither a preset \(capgo, capgo-legacy, projects, teams, modules\)/,
    )
    expect(() => loadModelFile('/nonexistent/model.yaml')).toThrow(/cannot read the file \(ENOENT\)/)
  })
})
