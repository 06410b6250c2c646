#!/usr/bin/env node
// Builds the console into packages/console/dist when it is missing or older than its sources, so that
// `npm ci && npm start` and `npm test` need no separate build step; then its text files compressed
// (compress-dist.mjs). Prints what it did. Run as a script, or imported: the repository's `orgkit start`
// (packages/cli/bin/orgkit.js, what `npm start` runs) asks `consoleIsStale` in its own process, one node start
// less than a script before it (~0.15 s of each `npm start` here), and runs this script only to build (Vite's
// modules are not left in the server's memory).
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compressDist } from './compress-dist.mjs'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const sources = [
  join(root, 'src'),
  join(root, 'index.html'),
  join(root, 'vite.config.ts'),
  join(root, 'package.json'),
  join(root, '..', 'sdk', 'src'),
]

function newest(path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

const built = join(root, 'dist', 'index.html')
const marker = join(root, 'dist', '.production')
const builtAt = () => (existsSync(built) && existsSync(marker) ? statSync(built).mtimeMs : 0)

/** Whether dist/ is missing, not a production build, or older than a source. */
export const consoleIsStale = () => builtAt() < Math.max(...sources.map(newest))

/** Builds the console when it is stale, then compresses what needs it (in this script's process only). */
async function buildIfStale() {
  const stale = consoleIsStale()
  if (!stale) {
    console.log('console: dist is up to date')
  } else {
    console.log(builtAt() ? 'console: sources changed, rebuilding…' : 'console: building (first run)…')
    // What users get, whoever asks: under vitest NODE_ENV is `test`, and Vite keeps a NODE_ENV it finds, which
    // built React's development bundle (716 kB of sign-in JS instead of 484) that `npm start` then served as
    // up to date.
    process.env.NODE_ENV = 'production'
    const { build } = await import('vite')
    await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn', mode: 'production' })
    console.log('console: built into packages/console/dist')
  }
  const compressed = compressDist(join(root, 'dist'))
  if (compressed) console.log(`console: ${compressed} files compressed (brotli, gzip)`)
  // A production build, compressed (`.production`, written last): one without it is built again.
  if (stale) writeFileSync(marker, '')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildIfStale()
