import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'
import { migrate, openStore, type Store } from '../../src/index.ts'
import {
  type BorrowedDatabase,
  borrowEmbeddedDatabase,
  type PostgresTestDatabase,
  postgresTestDatabase,
} from './test-databases.ts'

/** Every store suite runs on PGlite, and on PostgreSQL when ORGKIT_TEST_DATABASE_URL is set. */
export const url = process.env.ORGKIT_TEST_DATABASE_URL
export const TARGETS = url ? (['pglite', 'postgres'] as const) : (['pglite'] as const)
export type Target = (typeof TARGETS)[number]

/**
 * Where each suite's embedded database comes from: a migrated template kept here (remade when the
 * migrations change) rather than initdb and every migration. ORGKIT_TEST_TEMPLATES= (empty) turns it off.
 */
export const TEMPLATE_DIR =
  process.env.ORGKIT_TEST_TEMPLATES ??
  fileURLToPath(new URL('../../../../node_modules/.cache/orgkit', import.meta.url))

/**
 * A migrated store for the surrounding `describe` (a database of its own on PostgreSQL, dropped afterwards).
 * Call inside `describe.each(TARGETS)`; read `.store` from the returned handle inside tests.
 */
export function useStore(kind: Target): { readonly store: Store } {
  const handle = { store: undefined as unknown as Store }
  let embedded: BorrowedDatabase | undefined
  let postgres: PostgresTestDatabase | undefined
  beforeAll(async () => {
    if (kind === 'pglite') embedded = await borrowEmbeddedDatabase()
    else postgres = await postgresTestDatabase()
    handle.store = await openStore(
      embedded
        ? { dataDir: embedded.dataDir, pglite: embedded.pglite }
        : { url: postgres!.url, schema: postgres!.schema, poolSize: 12 },
    )
    await migrate(handle.store.db)
  })
  afterAll(async () => {
    await handle.store?.close()
    await embedded?.release()
    await postgres?.remove()
  })
  return handle
}
