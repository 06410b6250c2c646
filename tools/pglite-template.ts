import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
// By path: global setup resolves packages without the "@orgkit/source" condition.
import { initdbFolder, migratedTemplateFolder } from '../packages/store/src/connect.ts'
import { running } from '../packages/store/src/data-folder-lock.ts'
// The provided values' types (vitest's ProvidedContext) are declared beside the tests that read them.
import type {} from '../packages/store/test/support/test-databases.ts'

/**
 * Vitest global setup: makes the migrated template the tests' embedded databases start from, once, before
 * any test file runs — otherwise the first file of each worker would make it at the same moment, on a fresh
 * clone and after every migration change. It is the store's own (packages/store/src/pglite-template.ts),
 * the one `npm start` fills an empty data folder from, kept in node_modules/.cache/orgkit (`TEMPLATE_DIR`
 * in packages/server/test/support/harness.ts); ORGKIT_TEST_TEMPLATES= (empty) turns templates off.
 *
 * Each test database is a copy of its data folder in memory-backed storage (/dev/shm), in a folder of this
 * run's that goes when the run ends (test-databases.ts copies it without template0/template1: ~25 ms of CPU a
 * copy, the start on it ~0.3–0.4 s) against ~0.95 s to unpack a dump into PGlite's in-heap file system, and
 * the database's files stay out of the JavaScript heap.
 *
 * Beside it, the data folder initdb makes, unmigrated (`initdb-<PGlite's version's key>`): the tests that
 * migrate a new database from nothing start from a copy of it (`embeddedEmptyDatabase`), and the migrated
 * template is made from it, so a fresh clone's run pays initdb (~4 s of CPU) once instead of three times.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir =
    process.env.ORGKIT_TEST_TEMPLATES ??
    fileURLToPath(new URL('../node_modules/.cache/orgkit', import.meta.url))
  if (!dir) return () => {}
  const initdb = await initdbFolder(dir)
  const template = await migratedTemplateFolder(dir, initdb)
  const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
  // A run that was killed left its folders behind: they are memory, so take them back.
  for (const name of readdirSync(shm)) {
    const pid = Number(/^orgkit-test-(\d+)$/.exec(name)?.[1])
    if (pid && !running(pid)) rmSync(join(shm, name), { recursive: true, force: true })
  }
  const run = join(shm, `orgkit-test-${process.pid}`)
  mkdirSync(run, { recursive: true })
  project.provide('pgliteFolderTemplate', template)
  project.provide('pgliteEmptyTemplate', initdb)
  project.provide('pgliteTestFolders', run)
  return () => rmSync(run, { recursive: true, force: true })
}
