#!/usr/bin/env node
// Part of `npm run build` (after tsc): what the published @orgkit/server serves besides its code, copied
// into dist/ so an installed server needs neither the console's build tools nor the network.
//   dist/console/  the built admin console (packages/console/dist), served at `/` (server.ts)
import { cpSync, existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const from = (path) => fileURLToPath(new URL(path, import.meta.url))
const consoleBuild = from('../../console/dist')
if (!existsSync(`${consoleBuild}/index.html`))
  throw new Error(
    'packages/console/dist is missing: run node packages/console/scripts/build-if-stale.mjs first',
  )
rmSync(from('../dist/console'), { recursive: true, force: true })
cpSync(consoleBuild, from('../dist/console'), { recursive: true })
