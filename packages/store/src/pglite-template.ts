import { createHash, randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Migration } from 'kysely'

/**
 * An empty embedded database, migrated, as a data-folder dump that a new PGlite starts from
 * (`loadDataDir`) instead of running initdb and every migration: initdb alone takes 3–4 s of CPU on a
 * quiet 2-core machine (over 20 s on a busy one), loading a dump ~1 s. The dump is kept in a file named
 * by what made it — PGlite's version and every migration's name and code — so a migration added or edited
 * makes a new one, and a stale file is never used. Whoever opens a database from it still migrates it:
 * if the key ever missed a change, the migrator would apply what is missing.
 */
export interface TemplateMaker {
  /** Makes the dump: a fresh in-memory database, migrated, dumped (uncompressed: loads fastest). */
  build(): Promise<Blob>
  migrations: Record<string, Migration>
}

/** The dump for these migrations, from `dir` when made before, else made now and written there. */
export async function pgliteTemplate(dir: string, maker: TemplateMaker): Promise<Blob> {
  const file = join(dir, `pglite-${templateKey(maker.migrations)}.tar`)
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
  // Templates of migrations since changed are of no more use: each is ~40 MB.
  for (const name of await readdir(dir))
    if (/^pglite-[0-9a-f]+\.tar$/.test(name) && join(dir, name) !== file)
      await rm(join(dir, name), { force: true })
  return dump
}

/** Names what a template holds: PGlite's version and each migration's name and code, in order. */
export function templateKey(migrations: Record<string, Migration>): string {
  const hash = createHash('sha256').update(`pglite ${pgliteVersion()}\n`)
  for (const [name, migration] of Object.entries(migrations))
    hash.update(`${name}\n${String(migration.up)}\n${String(migration.down ?? '')}\n`)
  return hash.digest('hex').slice(0, 16)
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url)
  // dist/index.cjs → the package's own package.json (its exports don't list it).
  const manifest = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')
  return (require(manifest) as { version: string }).version
}
