#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'

// Installed, @orgkit/cli runs its built JavaScript (dist/; the package ships no src/). In this repository
// it runs one file bundled from the TypeScript sources and rebuilt when one of them changes
// (scripts/bundle.mjs): a start loads one module instead of transforming ~300 through tsx.
// ORGKIT_RUN_SOURCES=1 runs the sources through tsx instead, as every workspace's tests do (docs/packages.md):
// the "@orgkit/source" export condition for every import, as `node --conditions=@orgkit/source` would set.
if (!existsSync(new URL('../src/cli.ts', import.meta.url))) {
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
