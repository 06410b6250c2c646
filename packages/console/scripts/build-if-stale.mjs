#!/usr/bin/env node
// Builds the console into packages/console/dist when it is missing or older than its sources, so that
// `npm ci && npm start` and `npm test` need no separate build step; then its text files compressed
// (compress-dist.mjs). Prints what it did.
import { existsSync, readdirSync, statSync } from 'node:fs'
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

const built = join(root, 'dist', 'index.html')
const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0
if (builtAt >= Math.max(...sources.map(newest))) {
  console.log('console: dist is up to date')
} else {
  console.log(builtAt ? 'console: sources changed, rebuilding…' : 'console: building (first run)…')
  const { build } = await import('vite')
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' })
  console.log('console: built into packages/console/dist')
}
const compressed = compressDist(join(root, 'dist'))
if (compressed) console.log(`console: ${compressed} files compressed (brotli, gzip)`)
