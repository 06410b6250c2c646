#!/usr/bin/env node
/**
 * Regenerates the screenshots docs/console.md shows: runs the console's own browser walk
 * (test/console.e2e.test.ts; with ORGKIT_SCREENSHOTS=1 it photographs every screen it visits into
 * test-artifacts/console/ after an axe-core check) and copies the main screens into docs/images/console/. Run from the repository root:
 * `npm run docs:screenshots`. What the docs show is therefore what the test saw, on the current build.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const from = `${root}test-artifacts/console/`
const to = `${root}docs/images/console/`

/** The screens docs/console.md shows, by the names the walk gives them. */
const SCREENS = [
  '04-app-channels',
  '07-members-pending',
  '10-app-access',
  '11-explain-allowed',
  '12-channel-permissions',
  '20-general',
  '24-audit-logs',
  '25-webhooks',
]

const walk = spawnSync('npx', ['vitest', 'run', 'packages/console/test/console.e2e.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ORGKIT_TEST_DATABASE_URL: '', ORGKIT_SCREENSHOTS: '1' },
})
if (walk.status !== 0) {
  console.error('docs:screenshots: the console walk failed; the docs keep their screenshots')
  process.exit(walk.status ?? 1)
}
mkdirSync(to, { recursive: true })
for (const name of SCREENS) {
  const file = `${from}${name}.png`
  if (!existsSync(file)) throw new Error(`the walk took no screenshot named ${name}`)
  copyFileSync(file, `${to}${name}.png`)
}
console.log(`docs:screenshots: ${SCREENS.length} screens copied to docs/images/console/`)
