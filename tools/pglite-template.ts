import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import type { TestProject } from 'vitest/node'
// By path, and connect.ts alone: global setup resolves packages without the "@orgkit/source" condition.
import { openStore } from '../packages/store/src/connect.ts'
// The provided value's type (vitest's ProvidedContext) is declared beside the tests that read it.
import type {} from '../packages/store/test/support/test-databases.ts'

/**
 * Vitest global setup: makes the migrated PGlite template the tests' embedded databases start from, once,
 * before any test file runs — otherwise the first file of each worker makes it at the same moment, on a
 * fresh clone and after every migration change. The dump is kept under a key in node_modules/.cache/orgkit
 * (`TEMPLATE_DIR` in packages/server/test/support/harness.ts); ORGKIT_TEST_TEMPLATES= turns it off.
 *
 * The dump is also opened once into a data folder in memory-backed storage (/dev/shm): each test database
 * is a copy of that folder (packages/store/test/support/test-databases.ts). Copying 42 MB between tmpfs files and opening PGlite
 * on the copy costs ~0.35–0.45 s of CPU against ~0.95 s to unpack the dump into PGlite's in-heap file
 * system, and keeps the database's files out of the JavaScript heap the garbage collector walks.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir =
    process.env.ORGKIT_TEST_TEMPLATES ??
    fileURLToPath(new URL('../node_modules/.cache/orgkit', import.meta.url))
  if (!dir) return () => {}
  const store = await openStore({ dataDir: 'memory://', templateDir: dir })
  await store.close()
  const dump = readdirSync(dir)
    .filter((name) => /^pglite-[0-9a-f]+\.tar$/.test(name))
    .map((name) => join(dir, name))[0]
  if (!dump) return () => {}
  const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
  // A run that was killed left its folders behind: they are memory, so take them back.
  for (const name of readdirSync(shm)) {
    const pid = Number(/^orgkit-test-(\d+)$/.exec(name)?.[1])
    if (pid && !alive(pid)) rmSync(join(shm, name), { recursive: true, force: true })
  }
  const run = join(shm, `orgkit-test-${process.pid}`)
  const template = join(run, 'template')
  mkdirSync(run, { recursive: true })
  const pglite = new PGlite(template, { loadDataDir: new Blob([readFileSync(dump)]) })
  await pglite.waitReady
  await pglite.close()
  project.provide('pgliteFolderTemplate', template)
  return () => rmSync(run, { recursive: true, force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
