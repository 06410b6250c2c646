import type { Command } from 'commander'
import type { Io } from './io.ts'

/**
 * `orgkit model …`: model files (docs/models.md). `model test FILE` loads a model file (or a preset by
 * name) and runs the tests beside it; it loads core alone, never the server or the store, so it answers
 * in a moment and needs no database.
 */
export function registerModelCommands(program: Command, io: Io): Command {
  const model = program
    .command('model')
    .description('model files: load them and run their tests (docs/models.md)')
  model
    .command('test')
    .argument('<file>', 'a model file (.yaml, .yml, .json), or a preset’s name')
    .description(
      'load a model file, report every error with its line, and run its tests; exit 1 on any failure',
    )
    .action(async (file: string) => {
      io.exit(await testModelFile(file, io.out))
    })
  return model
}

/** Loads and tests one model file, printing a report; answers the exit code (0: all passed). */
export async function testModelFile(fileOrPreset: string, print: (line: string) => void): Promise<0 | 1> {
  const { loadModelFile, ModelFileError, presetFile, isModelPath, runModelTests } = await import(
    '@orgkit/core/files'
  )
  const file = isModelPath(fileOrPreset) ? fileOrPreset : presetFile(fileOrPreset)
  let loaded: ReturnType<typeof loadModelFile>
  try {
    loaded = loadModelFile(file)
  } catch (error) {
    if (!(error instanceof ModelFileError)) throw error
    print(error.message)
    return 1
  }
  const { model, tests } = loaded
  if (tests.length === 0) {
    print(`${file}: model "${model.name}" loads; it has no tests (add a \`tests:\` section, docs/models.md)`)
    return 0
  }
  const results = runModelTests(model, tests)
  print(`${file}: model "${model.name}", ${tests.length} test${tests.length === 1 ? '' : 's'}`)
  let failed = 0
  for (const [i, result] of results.entries()) {
    const test = tests[i]!
    if (result.failures.length === 0) {
      print(`  ✓ ${result.name}`)
      continue
    }
    failed++
    print(`  ✗ ${result.name}`)
    for (const failure of result.failures) {
      const at = test.expectAt[failure.index]!
      print(`      ${file}:${at.line}:${at.column}: ${failure.message}`)
    }
  }
  print(failed ? `${failed} of ${tests.length} failed` : `all ${tests.length} passed`)
  return failed ? 1 : 0
}
