import { randomUUID } from 'node:crypto'
import { cpSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { inject, type ProvidedContext } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite data folder that test databases are copied from (tools/pglite-template.ts). */
    pgliteFolderTemplate: string
  }
}

/** What the global setup hands the tests (vitest's `provide` / `inject`). */
export type TestDatabasesContext = Pick<ProvidedContext, 'pgliteFolderTemplate'>

/**
 * A fresh embedded database for one test server or store: a copy of the migrated data folder the global
 * setup made (tools/pglite-template.ts), in memory-backed storage, and the way to remove it. PGlite runs on
 * it as `npm start` runs on its data folder. Without that folder (ORGKIT_TEST_TEMPLATES= turns templates
 * off), an in-memory database that the store makes from initdb.
 */
export function embeddedTestDatabase(): { dataDir: string; remove(): void } {
  const template = inject('pgliteFolderTemplate')
  if (!template) return { dataDir: 'memory://', remove: () => {} }
  const dataDir = join(dirname(template), randomUUID())
  cpSync(template, dataDir, { recursive: true })
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) }
}
