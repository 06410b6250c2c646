#!/usr/bin/env node
// Part of `npm run build` (after tsc): what the published @orgkit/server serves besides its code, copied
// into dist/ so an installed server needs neither the console's build tools, nor Redoc, nor the network.
//   dist/console/  the built admin console (packages/console/dist), served at `/` (server.ts)
//   dist/vendor/   Redoc's standalone bundle and its licence notices, served for /v1/docs (docs-page.ts)
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const from = (path) => fileURLToPath(new URL(path, import.meta.url))
const consoleBuild = from('../../console/dist')
if (!existsSync(`${consoleBuild}/index.html`))
  throw new Error(
    'packages/console/dist is missing: run node packages/console/scripts/build-if-stale.mjs first',
  )
rmSync(from('../dist/console'), { recursive: true, force: true })
cpSync(consoleBuild, from('../dist/console'), { recursive: true })

const redoc = dirname(createRequire(import.meta.url).resolve('redoc/package.json'))
mkdirSync(from('../dist/vendor'), { recursive: true })
for (const [file, as] of [
  ['bundles/redoc.standalone.js', 'redoc.standalone.js'],
  ['bundles/redoc.standalone.js.LICENSE.txt', 'redoc.standalone.js.LICENSE.txt'],
  ['LICENSE', 'redoc.LICENSE'],
])
  copyFileSync(`${redoc}/${file}`, from(`../dist/vendor/${as}`))
