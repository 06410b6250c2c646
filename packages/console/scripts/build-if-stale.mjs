#!/usr/bin/env node
// Builds the console into packages/console/dist when it is missing or older than its sources, so that
// `npm ci && npm start` and `npm test` need no separate build step; then its text files compressed
// (compress-dist.mjs). Prints what it did.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
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

// What users get, whoever asks: under vitest NODE_ENV is `test`, and Vite keeps a NODE_ENV it finds, which
// built React's development bundle (716 kB of sign-in JS instead of 484) that `npm start` then served as up
// to date. A build says it was a production one (`.production`, written last); one without is rebuilt.
process.env.NODE_ENV = 'production'
const built = join(root, 'dist', 'index.html')
const marker = join(root, 'dist', '.production')
const builtAt = existsSync(built) && existsSync(marker) ? statSync(built).mtimeMs : 0
if (builtAt >= Math.max(...sources.map(newest))) {
  console.log('console: dist is up to date')
} else {
  console.log(builtAt ? 'console: sources changed, rebuilding…' : 'console: building (first run)…')
  const { build } = await import('vite')
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn', mode: 'production' })
  writeFileSync(marker, '')
  console.log('console: built into packages/console/dist')
}
const compressed = compressDist(join(root, 'dist'))
if (compressed) console.log(`console: ${compressed} files compressed (brotli, gzip)`)
