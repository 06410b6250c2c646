import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadModelFile, PRESET_MODELS_DIR, presetFile, runModelTests } from '../src/files/index.ts'
import { presets } from '../src/index.ts'

/**
 * The presets' model files (models/*.yaml) are the presets' one source: each loads, equals the preset
 * the main entry serves (its TypeScript image, `npm run presets`), and passes the tests it carries — the
 * seeds' sentences as worlds and answers.
 */
const files = readdirSync(PRESET_MODELS_DIR).filter((f) => f.endsWith('.yaml'))

describe('the presets’ model files', () => {
  it('are one per preset', () => {
    expect(files.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(Object.keys(presets).sort())
  })

  for (const name of Object.keys(presets)) {
    describe(name, () => {
      const file = loadModelFile(presetFile(name))

      it('is the preset served (regenerate with `npm run presets -w packages/core` after an edit)', () => {
        expect(presets[name]).toEqual(file.model)
      })

      it('carries tests, and passes every one', () => {
        expect(file.tests.length).toBeGreaterThan(0)
        const failures = runModelTests(file.model, file.tests).flatMap((r) =>
          r.failures.map((f) => `${r.name}: ${f.message}`),
        )
        expect(failures).toEqual([])
      })
    })
  }
})
