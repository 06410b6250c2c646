import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { OrgkitError } from '../errors.ts'
import { type ModelFile, ModelFileError, parseModelFile } from '../model/file/parse.ts'
import type { Model } from '../model/model.ts'
import { presets } from '../model/presets/index.ts'

/**
 * `@orgkit/core/files`: model files on disk. The one part of core that reads files, kept out of the main
 * entry (which stays pure: no file system, loadable in a browser); the domain never imports it.
 */
export {
  formatProblems,
  type LocatedTest,
  type ModelFile,
  ModelFileError,
  type ModelFileProblem,
  parseModelFile,
} from '../model/file/parse.ts'
export { runModelTests, type TestResult } from '../model/file/world.ts'

/** The folder of the presets' model files, shipped with the package: the examples a user copies. */
export const PRESET_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url))

/** The model file of a preset: `models/capgo.yaml`. */
export const presetFile = (name: string): string => `${PRESET_MODELS_DIR}${name}.yaml`

/** Reads a model file (YAML or JSON): its model and tests, or a `ModelFileError` listing every error. */
export function loadModelFile(path: string): ModelFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ModelFileError(path, [
      {
        line: 1,
        column: 1,
        path: '',
        message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? error})`,
      },
    ])
  }
  return parseModelFile(text, path)
}

/** Whether `ORGKIT_MODEL`'s value names a file rather than a preset. */
export const isModelPath = (value: string): boolean => /[/\\]|\.(ya?ml|json)$/i.test(value)

/**
 * `ORGKIT_MODEL`: a preset's name (`capgo`) or a model file's path (`./model.yaml`), loaded and checked
 * once. An unknown name says which presets there are; a bad file throws `ModelFileError`.
 */
export function resolveModel(nameOrPath: string): Model {
  const preset = presets[nameOrPath]
  if (preset) return preset
  if (isModelPath(nameOrPath)) return loadModelFile(nameOrPath).model
  throw new OrgkitError(
    'INVALID_MODEL',
    `ORGKIT_MODEL "${nameOrPath}" is neither a preset (${Object.keys(presets).join(', ')}) nor a model file's path (.yaml, .yml or .json)`,
    { field: 'ORGKIT_MODEL' },
  )
}
