#!/usr/bin/env node
// Part of `npm start`, before the server: an embedded database's empty data folder (ORGKIT_DATA_DIR,
// default ./.orgkit) is filled from a migrated template instead of letting the server run PostgreSQL's
// initdb and every migration (3–4 s of CPU on a quiet 2-core machine, most of a first start). The template
// is made once per migration set, like the console's build: `orgkit migrate` into a folder of
// node_modules/.cache/orgkit/, named by PGlite's version and the migrations' sources, so a new or
// edited migration makes a new one. The server still migrates what it opens, so a template that missed
// a change is brought up to date, never trusted blindly. Nothing is done for PostgreSQL
// (ORGKIT_DATABASE_URL) or a folder that already holds a database.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const cacheDir = join(repo, 'node_modules', '.cache', 'orgkit')

/** The data folder to fill, or null when there is nothing to do. */
function emptyDataDir() {
  if (process.env.ORGKIT_DATABASE_URL) return null
  const dataDir = process.env.ORGKIT_DATA_DIR ?? './.orgkit'
  if (/^[a-z0-9-]+:\/\//.test(dataDir) && !dataDir.startsWith('file://')) return null // memory:// …
  const folder = resolve(dataDir.replace(/^file:\/\//, ''))
  if (existsSync(join(folder, 'PG_VERSION'))) return null
  if (existsSync(folder) && readdirSync(folder).length > 0) return null // not ours to fill
  return folder
}

/** Names a template by what makes it: PGlite's version and every migration's source. */
function templateKey() {
  const require = createRequire(join(repo, 'packages', 'store', 'package.json'))
  const pglite = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')
  const hash = createHash('sha256').update(JSON.parse(readFileSync(pglite, 'utf8')).version)
  const migrations = join(repo, 'packages', 'store', 'src', 'migrations')
  for (const name of readdirSync(migrations).sort())
    hash.update(`\n${name}\n`).update(readFileSync(join(migrations, name)))
  return hash.digest('hex').slice(0, 16)
}

/** The migrated template's folder: made now by `orgkit migrate` when missing. */
function template() {
  const dir = join(cacheDir, `data-dir-${templateKey()}`)
  if (existsSync(join(dir, 'PG_VERSION'))) return dir
  console.log('database: making the migrated template (once per migration set)…')
  const partial = `${dir}.${process.pid}`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(cacheDir, { recursive: true })
  const made = spawnSync(process.execPath, [join(repo, 'packages', 'cli', 'bin', 'orgkit.js'), 'migrate'], {
    env: { ...process.env, ORGKIT_DATA_DIR: partial, ORGKIT_DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (made.status !== 0 || !existsSync(join(partial, 'PG_VERSION'))) {
    rmSync(partial, { recursive: true, force: true })
    return null // the server will make its database itself, as before
  }
  try {
    renameSync(partial, dir)
  } catch {
    rmSync(partial, { recursive: true, force: true }) // another start made it at the same moment
  }
  // Templates of older migration sets are of no more use: ~40 MB each.
  for (const name of readdirSync(cacheDir))
    if (name.startsWith('data-dir-') && !name.startsWith(basename(dir)))
      rmSync(join(cacheDir, name), { recursive: true, force: true })
  return existsSync(join(dir, 'PG_VERSION')) ? dir : null
}

const folder = emptyDataDir()
if (folder) {
  const from = template()
  if (from) {
    // A copy-on-write clone where the file system has them (btrfs, XFS, APFS): ~40 MB, mostly a WAL segment.
    cpSync(from, folder, { recursive: true, mode: constants.COPYFILE_FICLONE })
    console.log(`database: ${folder} made from the migrated template`)
  }
}
