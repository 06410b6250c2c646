import { createHash, randomUUID } from 'node:crypto'
import { constants, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import type { Migration } from 'kysely'

/**
 * An empty embedded database, migrated, that a new one starts from instead of running initdb and every
 * migration: initdb alone takes 3–4 s of CPU on a quiet 2-core machine (over 20 s on a busy one). Kept in
 * a folder (`templateDir`, e.g. node_modules/.cache/orgkit) in two forms, each named by what made it —
 * PGlite's version and every migration's name and code — so a migration added or edited makes new ones and
 * a stale one is never used:
 * - `data-dir-<key>/`, a data folder: a new data folder on disk is a copy of it (copy-on-write where the
 *   file system can), opened in ~0.4 s of CPU (`npm start`, and every test database);
 * - `pglite-<key>.tar`, a dump: an in-memory database (`memory://`) loads it (~1 s).
 * Whoever opens a database from either still migrates it: if the key ever missed a change, the migrator
 * would apply what is missing.
 */
export interface TemplateMaker {
  /** Makes the dump: a fresh in-memory database, migrated, dumped (uncompressed: loads fastest). */
  build(): Promise<Blob>
  /** Makes the data folder: initdb into `folder`, migrated, closed. */
  buildInto(folder: string): Promise<void>
  migrations: Record<string, Migration>
  /** The folder of the migrations' source files, which the key hashes (templateKey). */
  sources?: string
}

/**
 * The migrated data folder for these migrations, in `dir`: made now when missing. `kind` 'initdb' names the
 * data folder initdb makes, unmigrated (`migrations` empty): kept beside the migrated ones, not in place of
 * them (connect.ts, `initdbFolder`).
 */
export async function pgliteTemplateFolder(
  dir: string,
  maker: Omit<TemplateMaker, 'build'>,
  kind: 'data-dir' | 'initdb' = 'data-dir',
): Promise<string> {
  const folder = join(dir, `${kind}-${templateKey(maker.migrations, maker.sources)}`)
  if (existsSync(join(folder, 'PG_VERSION'))) return folder
  await mkdir(dir, { recursive: true })
  // Made aside and renamed, as the dump is: two processes making it at once each make a whole one.
  const partial = `${folder}.${process.pid}.${randomUUID().slice(0, 8)}`
  try {
    await maker.buildInto(partial)
    await rename(partial, folder)
  } catch (error) {
    await rm(partial, { recursive: true, force: true })
    if (!existsSync(join(folder, 'PG_VERSION'))) throw error // else another process made it first
  }
  await removeOthers(dir, folder)
  return folder
}

/**
 * Fills the data folder `into`, which holds no database yet, with a copy of the migrated template folder: a
 * copy-on-write clone where the file system has them (btrfs, XFS, APFS). Files already there stay (the
 * server's `secret.key`, made before the database opens). Copied aside first, then moved in, PG_VERSION
 * last: a fill cut short (a crash, a full disk) leaves no PG_VERSION, so the next open fills it again rather
 * than opening half a database. Synchronous: ~1,200 files, ~40 MB, 60–110 ms here against 200–350 ms
 * through fs.promises.cp, and nothing else runs while a database opens.
 */
export function copyTemplateFolder(template: string, into: string): void {
  const aside = `${into}.${process.pid}.${randomUUID().slice(0, 8)}`
  try {
    cpSync(template, aside, { recursive: true, mode: constants.COPYFILE_FICLONE })
    for (const entry of readdirSync(aside)) {
      if (entry === 'PG_VERSION') continue
      rmSync(join(into, entry), { recursive: true, force: true }) // what a fill cut short left
      renameSync(join(aside, entry), join(into, entry))
    }
    renameSync(join(aside, 'PG_VERSION'), join(into, 'PG_VERSION'))
  } finally {
    rmSync(aside, { recursive: true, force: true })
  }
}

/** The dump for these migrations, from `dir` when made before, else made now and written there. */
export async function pgliteTemplate(dir: string, maker: TemplateMaker): Promise<Blob> {
  const file = join(dir, `pglite-${templateKey(maker.migrations, maker.sources)}.tar`)
  const kept = await readFile(file).catch(() => null)
  if (kept) return new Blob([kept])
  const dump = await maker.build()
  await mkdir(dir, { recursive: true })
  // Written aside and renamed: two processes making it at once each write whole files, and a reader
  // never sees half of one.
  const partial = `${file}.${process.pid}.${randomUUID().slice(0, 8)}`
  await writeFile(partial, new Uint8Array(await dump.arrayBuffer()))
  await rename(partial, file).catch(async (error) => {
    await rm(partial, { force: true })
    throw error
  })
  await removeOthers(dir, file)
  return dump
}

/** What a template folder holds: a migrated template (a dump or a data folder), or an initdb folder. */
const KEPT = /^(pglite-|data-dir-|initdb-)([0-9a-f]{16})(?:\.tar)?$/
const family = (prefix: string) => (prefix === 'initdb-' ? 'initdb' : 'migrated')

/**
 * Templates of migrations since changed (or, for an initdb folder, of another PGlite) are of no more use:
 * each is ~40 MB. Only `current`'s family goes: an initdb folder and the migrated templates stay side by side.
 */
async function removeOthers(dir: string, current: string): Promise<void> {
  const [, prefix, key] = KEPT.exec(basename(current)) ?? []
  if (!prefix) return
  for (const name of await readdir(dir)) {
    const made = KEPT.exec(name)
    if (made && family(made[1]!) === family(prefix) && made[2] !== key)
      await rm(join(dir, name), { recursive: true, force: true })
  }
}

/**
 * Names what a template holds: PGlite's version and each migration's name and source, in order. The source
 * is the migration's file in `sources` (`<name>.ts` in the repository, `.js` installed), read as bytes: the
 * same whichever loader runs the code (tsx, the CLI's bundle, vitest), where a function's text is each
 * loader's own rewrite of it, so one checkout's loaders made and deleted one another's templates. Without
 * the file, the function's text.
 */
export function templateKey(migrations: Record<string, Migration>, sources?: string): string {
  const hash = createHash('sha256').update(`pglite ${pgliteVersion()}\n`)
  for (const [name, migration] of Object.entries(migrations)) {
    const file = sources && ['.ts', '.js'].map((ext) => join(sources, `${name}${ext}`)).find(existsSync)
    hash.update(`${name}\n`)
    if (file) hash.update(readFileSync(file))
    else hash.update(`${String(migration.up)}\n${String(migration.down ?? '')}\n`)
  }
  return hash.digest('hex').slice(0, 16)
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url)
  // dist/index.cjs → the package's own package.json (its exports don't list it).
  const manifest = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')
  return (require(manifest) as { version: string }).version
}
