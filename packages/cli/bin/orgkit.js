#!/usr/bin/env node
import cluster from 'node:cluster'
import { existsSync } from 'node:fs'
import inspector from 'node:inspector'
import { register } from 'node:module'
import { constants as osConstants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { hugePagesOffered } from './huge-pages.mjs'

// Under the huge-page start's parent (below): when that parent goes, however it went, the server stops as on
// SIGTERM. Set up first, before the CLI loads, so a parent gone meanwhile is seen too.
const parent = process.env.ORGKIT_START_PARENT
delete process.env.ORGKIT_START_PARENT // not for node:cluster's workers, whose channel is the primary's
if (parent !== undefined && process.channel) {
  process.channel.unref() // the channel keeps nothing alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  if (!process.connected) process.kill(process.pid, 'SIGTERM')
}

// Installed, @orgkit/cli runs its built JavaScript (dist/; the package ships no src/). In this repository
// it runs one file bundled from the TypeScript sources and rebuilt when one of them changes
// (scripts/bundle.mjs): a start loads one module instead of transforming ~300 through tsx.
// ORGKIT_RUN_SOURCES=1 runs the sources through tsx instead, as every workspace's tests do (docs/packages.md):
// the "@orgkit/source" export condition for every import, as `node --conditions=@orgkit/source` would set.
if (parent === undefined && process.argv[2] === 'start' && hugePagesHelp()) {
  await startWithHugePages()
} else if (!existsSync(new URL('../src/cli.ts', import.meta.url))) {
  await import('#cli')
} else {
  // The repository's embedded databases start as a copy of a migrated template kept beside its other build
  // caches (packages/store/src/pglite-template.ts) rather than from initdb: `npm start` on an empty folder.
  process.env.ORGKIT_TEMPLATE_DIR ??= fileURLToPath(
    new URL('../../../node_modules/.cache/orgkit', import.meta.url),
  )
  if (process.argv[2] === 'start') await consoleBuilt()
  if (process.env.ORGKIT_RUN_SOURCES || !(await bundled())) {
    register(
      'data:text/javascript,export const resolve = (specifier, context, next) => next(specifier, { ...context, conditions: [...context.conditions, "@orgkit/source"] })',
    )
    const { register: tsx } = await import('tsx/esm/api')
    tsx()
    await import('#cli')
  }
}

/**
 * The console this repository's server serves (packages/console/dist), built first when it is missing or
 * older than its sources: what `npm start` promises. The check runs here (a few ms); a build runs in a
 * process of its own (Vite's modules stay out of the server's memory) and a failed one ends the start.
 */
async function consoleBuilt() {
  const script = new URL('../../console/scripts/build-if-stale.mjs', import.meta.url)
  const { consoleIsStale } = await import(script.href)
  if (!consoleIsStale()) return
  const { spawnSync } = await import('node:child_process')
  const { status } = spawnSync(process.execPath, [fileURLToPath(script)], { stdio: 'inherit' })
  if (status !== 0) process.exit(status ?? 1)
}

/** Runs the bundle (built now if stale); false when it could not be built. */
async function bundled() {
  let file
  try {
    const { bundledCli, holdBuild } = await import('../scripts/bundle.mjs')
    file = await bundledCli()
    holdBuild(file)
  } catch (error) {
    console.error(
      `orgkit: running the sources through tsx; the bundle failed: ${error.message.split('\n')[0]}`,
    )
    return false
  }
  const { pathToFileURL } = await import('node:url')
  await import(pathToFileURL(file).href)
  return true
}

/**
 * Whether `orgkit start` should run the server in a child process with glibc's huge-page tunable: on PostgreSQL
 * (ORGKIT_DATABASE_URL, where worlds grow large), on Linux with glibc 2.35 or later and transparent huge pages
 * not turned off, when GLIBC_TUNABLES isn't set already (set it, even empty, and this leaves it alone). glibc
 * reads the tunable only when a process starts, hence the child. The engine's stored state and its tables then
 * sit on 2 MB pages: a page's first write costs the kernel ~12 µs on the 2-vCPU VMs here, and a start at 1M
 * bindings writes ~140 MB of them (docs/deploy.md, docs/performance.md). Not in a node:cluster worker (its
 * server belongs to that cluster) nor under a debugger (the child's inspector would want the same port).
 */
function hugePagesHelp() {
  if (process.env.GLIBC_TUNABLES !== undefined || !process.env.ORGKIT_DATABASE_URL) return false
  return !cluster.isWorker && !inspector.url() && hugePagesOffered()
}

/**
 * Runs this same command in a child with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 and stands in for it: SIGINT
 * and SIGTERM go on to it (it stops once, whatever reaches it twice), and this process ends as it ends, with
 * its exit code or by the same signal. If this process dies first, the child hears its IPC channel close and
 * stops (above). The child is told it has a parent (ORGKIT_START_PARENT), so it never starts another: glibc
 * drops GLIBC_TUNABLES for a node given capabilities (setcap), and the child would not see it set.
 */
async function startWithHugePages() {
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
      ORGKIT_START_PARENT: String(process.pid),
    },
  })
  const forward = (signal) => child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('error', (error) => {
    console.error(`orgkit: could not start the server: ${error.message}`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => {
    if (signal) {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      process.kill(process.pid, signal)
    }
    // A signal this process outlives (one it can't die of): the shell's convention, 128 + its number.
    process.exit(signal ? 128 + (osConstants.signals[signal] ?? 0) : (code ?? 1))
  })
}
