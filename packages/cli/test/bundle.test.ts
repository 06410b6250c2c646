import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// bin/orgkit.js runs one file bundled from the sources (scripts/bundle.mjs); here on a repository of three
// small sources, so that changing one costs no rebuild of the real thing.
const script = fileURLToPath(new URL('../scripts/bundle.mjs', import.meta.url))
const repo = mkdtempSync(join(tmpdir(), 'orgkit-bundle-'))
afterAll(() => rmSync(repo, { recursive: true, force: true }))

const write = (path: string, text: string) => {
  mkdirSync(dirname(join(repo, path)), { recursive: true })
  writeFileSync(join(repo, path), text)
}
/** Runs the script: the bundle's path, and whether it was built now. */
const bundle = () => {
  // From a directory that is not the repository's (`orgkit` may be run from anywhere): the sources' stamps
  // must be of the repository's files, whatever the working directory.
  const said = execFileSync(process.execPath, [script, '--repo', repo], { encoding: 'utf8', cwd: '/' })
  const [, verb, path] = said.match(/^cli: (?:(built) )?(\S+)/) ?? []
  return { built: verb === 'built', path: path! }
}
const run = (path: string) => execFileSync(process.execPath, [path], { encoding: 'utf8' }).trim()

write(
  'packages/cli/src/cli.ts',
  "import { word } from '../../core/src/word.ts'\nconsole.log(word, new URL(import.meta.url).pathname, import.meta.dirname)\n",
)
write('packages/core/src/word.ts', "export const word: string = 'one'\n")
write('packages/server/src/unused.ts', 'export const unused = 1\n')

describe('the CLI bundle', () => {
  it('is built on first use and runs as the sources do, import.meta the source file’s own', () => {
    const first = bundle()
    expect(first.built).toBe(true)
    expect(run(first.path)).toBe(
      `one ${join(repo, 'packages/cli/src/cli.ts')} ${join(repo, 'packages/cli/src')}`,
    )
  })

  it('is reused while nothing it was built from changes, even when another source does', () => {
    const before = bundle().path
    write('packages/server/src/unused.ts', 'export const unused = 2\n')
    expect(bundle()).toEqual({ built: false, path: before })
  })

  it('is rebuilt when a source it was built from changes, and runs the change', () => {
    const before = bundle().path
    write('packages/core/src/word.ts', "export const word: string = 'two'\n")
    const after = bundle()
    expect(after.built).toBe(true)
    expect(after.path).not.toBe(before)
    expect(run(after.path)).toMatch(/^two /)
    expect(bundle()).toEqual({ built: false, path: after.path })
  })

  it('keeps a build a live process runs through later builds, and drops it once that process has ended', async () => {
    const held = bundle().path
    // A process running that build, as bin/orgkit.js does (holdBuild), until it is told to end.
    const runner = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { holdBuild } = await import(${JSON.stringify(script)}); holdBuild(${JSON.stringify(held)}); console.log('held'); setInterval(() => {}, 1000)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    await once(runner.stdout!, 'data')
    for (const word of ['three', 'four', 'five']) {
      write('packages/core/src/word.ts', `export const word: string = '${word}'\n`)
      expect(bundle().built).toBe(true)
    }
    expect(existsSync(held)).toBe(true) // two builds past the one it replaced, still there
    runner.kill()
    await once(runner, 'exit')
    write('packages/core/src/word.ts', "export const word: string = 'six'\n")
    const latest = bundle()
    expect(latest.built).toBe(true)
    expect(existsSync(held)).toBe(false)
    expect(run(latest.path)).toMatch(/^six /)
  })

  it('is rebuilt when a tsconfig changes (esbuild reads it)', () => {
    const before = bundle().path
    write('tsconfig.json', '{ "compilerOptions": { "strict": true } }\n')
    expect(bundle().built).toBe(true)
    expect(bundle()).toEqual({ built: false, path: expect.not.stringMatching(before) })
  })
})
