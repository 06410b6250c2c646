import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../../..')
/** Vitest's global setup (vitest.config.ts): loaded by path, before any test file. */
const GLOBAL_SETUP = ['tools/build-console.ts', 'tools/pglite-template.ts', 'tools/postgres-test-database.ts']

/** Every file reachable from `entry` through relative imports (static ones: `import … from './x.ts'`). */
function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen
  seen.add(entry)
  const text = readFileSync(entry, 'utf8')
  for (const [, spec] of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm))
    if (spec && /\.tsx?$/.test(spec)) {
      const path = resolve(dirname(entry), spec)
      if (existsSync(path)) reachable(path, seen)
    }
  return seen
}

/**
 * Vitest resolves the global setup's imports without the "@orgkit/source" condition that points our packages
 * at their sources, so an `@orgkit/*` import reached from it needs the package's built dist/ — absent from a
 * fresh clone, where `npm test` then finds no test at all (this session's fresh-clone run: snapshot.ts, which
 * imports @orgkit/core, had become reachable from connect.ts). A type-only import is erased, so it may stay.
 */
it("the tests' global setup reaches no @orgkit package at run time", () => {
  const offenders = new Set<string>()
  const files = new Set(GLOBAL_SETUP.flatMap((entry) => [...reachable(join(ROOT, entry))]))
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    for (const [line] of text.matchAll(/^import\s(?!type\s)[^'"]*?from\s+'@orgkit\/[^']+'/gm))
      offenders.add(`${relative(ROOT, file)}: ${line.replace(/\s+/g, ' ')}`)
  }
  expect([...offenders]).toEqual([])
})
