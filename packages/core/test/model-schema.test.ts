import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { presetFile } from '../src/files/index.ts'
import { presets } from '../src/index.ts'
import { modelFileJsonSchema } from '../src/model/file/json-schema.ts'

/**
 * model.schema.json, the JSON Schema published for editors, is generated from the zod schemas the loader
 * parses with (`npm run schema -w packages/core`): the committed file is what the generator writes, and
 * an independent JSON Schema validator (ajv) accepts every preset file and refuses what the loader
 * refuses — so the editor's squiggles and the server's errors agree.
 */
const published = JSON.parse(
  readFileSync(fileURLToPath(new URL('../model.schema.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>

describe('model.schema.json', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(published)

  it('is what the generator writes from the loader’s own schema (run `npm run schema` after a change)', () => {
    expect(published).toEqual(modelFileJsonSchema())
  })

  it('accepts every preset’s model file, tests included', () => {
    for (const name of Object.keys(presets)) {
      const file = parse(readFileSync(presetFile(name), 'utf8'), { merge: true })
      expect(validate(file), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
  })

  it('refuses a misspelt field, a missing label and a test without answers, as the loader does', () => {
    const base = parse(readFileSync(presetFile('projects'), 'utf8'), { merge: true })
    const misspelt = structuredClone(base)
    misspelt.roles.project_viewer.permisions = misspelt.roles.project_viewer.permissions
    const unlabelled = structuredClone(base)
    delete unlabelled.resourceTypes.project.label
    const unanswered = structuredClone(base)
    unanswered.tests[0].expect = []
    for (const bad of [misspelt, unlabelled, unanswered]) expect(validate(bad)).toBe(false)
  })
})
