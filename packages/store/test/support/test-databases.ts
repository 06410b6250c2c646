import { randomUUID } from 'node:crypto'
import { constants, cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject, type ProvidedContext } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated PGlite data folder that test databases are copied from (tools/pglite-template.ts). */
    pgliteFolderTemplate: string
    /** Where this run's copies go: memory-backed, removed when the run ends. */
    pgliteTestFolders: string
  }
}

/** What the global setup hands the tests (vitest's `provide` / `inject`). */
export type TestDatabasesContext = Pick<ProvidedContext, 'pgliteFolderTemplate' | 'pgliteTestFolders'>

/**
 * A fresh embedded database for one test server or store, and the way to remove it: a copy, in
 * memory-backed storage, of the store's migrated data folder (the one `npm start` fills an empty folder
 * from; tools/pglite-template.ts). PGlite runs on it as `npm start` runs on its data folder. Without that
 * folder (ORGKIT_TEST_TEMPLATES= turns templates off), an in-memory database the store makes from initdb.
 */
export function embeddedTestDatabase(): { dataDir: string; remove(): void } {
  const template = inject('pgliteFolderTemplate')
  if (!template) return { dataDir: 'memory://', remove: () => {} }
  const dataDir = join(inject('pgliteTestFolders'), randomUUID())
  cpSync(template, dataDir, { recursive: true, mode: constants.COPYFILE_FICLONE })
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) }
}

/**
 * A data folder on disk for a test that needs one (a server process killed and started again on it, a key
 * file beside the database): the migrated template's copy, or, with templates off, an empty folder the
 * first open runs initdb in. The caller removes it.
 */
export function embeddedTestFolder(): string {
  const { dataDir } = embeddedTestDatabase()
  return dataDir === 'memory://' ? mkdtempSync(join(tmpdir(), 'orgkit-test-')) : dataDir
}
