import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Vitest global setup: builds the console once, before any test file runs. The browser tests serve it, and
 * several of them starting at once on a fresh clone must not race one another's Vite build into `dist`.
 */
export default function setup(): void {
  const script = fileURLToPath(new URL('../packages/console/scripts/build-if-stale.mjs', import.meta.url))
  execFileSync(process.execPath, [script], { stdio: 'inherit' })
}
