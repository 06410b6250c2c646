import { fileURLToPath } from 'node:url'
// By path, and connect.ts alone: global setup resolves packages without the "@orgkit/source" condition.
import { openStore } from '../packages/store/src/connect.ts'

/**
 * Vitest global setup: makes the migrated PGlite template the tests' embedded databases start from, once,
 * before any test file runs — otherwise the first file of each worker makes it at the same moment, on a
 * fresh clone and after every migration change. The harnesses find it under the same key in the same
 * folder (`TEMPLATE_DIR` in packages/server/test/support/harness.ts); ORGKIT_TEST_TEMPLATES= turns it off.
 */
export default async function setup(): Promise<void> {
  const dir =
    process.env.ORGKIT_TEST_TEMPLATES ??
    fileURLToPath(new URL('../node_modules/.cache/orgkit', import.meta.url))
  if (!dir) return
  const store = await openStore({ dataDir: 'memory://', templateDir: dir })
  await store.close()
}
