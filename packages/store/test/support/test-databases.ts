import { randomUUID } from 'node:crypto'
import {
  closeSync,
  constants,
  copyFileSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { inject, type ProvidedContext } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated PGlite data folder that test databases are copied from (tools/pglite-template.ts). */
    pgliteFolderTemplate: string
    /** A PGlite data folder as initdb leaves it, unmigrated (tools/pglite-template.ts). */
    pgliteEmptyTemplate: string
    /** Where this run's copies go: memory-backed, removed when the run ends. */
    pgliteTestFolders: string
    /**
     * The migrated PostgreSQL database that test databases are made from on ORGKIT_TEST_DATABASE_URL's
     * server (tools/postgres-test-database.ts); empty when that role may not create databases.
     */
    postgresTemplateDatabase: string
  }
}

/** What the global setup hands the tests (vitest's `provide` / `inject`). */
export type TestDatabasesContext = Pick<
  ProvidedContext,
  'pgliteFolderTemplate' | 'pgliteEmptyTemplate' | 'pgliteTestFolders' | 'postgresTemplateDatabase'
>

/**
 * A fresh embedded database for one test server or store, and the way to remove it: a copy, in
 * memory-backed storage, of the store's migrated data folder (the one `npm start` fills an empty folder
 * from; tools/pglite-template.ts). PGlite runs on it as `npm start` runs on its data folder. Without that
 * folder (ORGKIT_TEST_TEMPLATES= turns templates off), an in-memory database the store makes from initdb.
 */
export const embeddedTestDatabase = () => copyOf(inject('pgliteFolderTemplate'))

/**
 * A new embedded database with no schema yet, for a test that migrates one from nothing: a copy of the data
 * folder initdb made (tools/pglite-template.ts), in the same memory-backed storage — initdb is PGlite's own
 * (~4 s of CPU a time); what is Orgkit's is every migration, which the caller still runs. With templates
 * off, an in-memory database that runs initdb.
 */
export const embeddedEmptyDatabase = () => copyOf(inject('pgliteEmptyTemplate'))

/** A copy of the data folder `template` among this run's test folders; without one, an in-memory database. */
function copyOf(template: string | undefined): { dataDir: string; remove(): void } {
  if (!template) return { dataDir: 'memory://', remove: () => {} }
  const dataDir = join(inject('pgliteTestFolders'), randomUUID())
  copyFolder(template, dataDir)
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) }
}

/**
 * What a test copy of a template data folder holds, read once a worker: its folders (with their modes), its
 * files, and of a file ending in zeros (the WAL segment: 9 of its 16 MB written) the part before them.
 * Left out: template1's and template0's folders (base/1 and base/4: fixed OIDs since PostgreSQL 15, ~660 of
 * ~1,200 files, 14 MB). PGlite opens the `postgres` database (base/5) and nothing here connects to or copies
 * from the others; a CREATE DATABASE on a test copy would fail, loudly.
 */
interface CopyPlan {
  /** The folder itself ('') first, then each folder in it before what it holds. */
  dirs: { path: string; mode: number }[]
  files: string[]
  /** A file whose tail is zeros: what comes before them, and its whole size (the rest left a hole). */
  sparse: Map<string, { head: Buffer; size: number; mode: number }>
}

const plans = new Map<string, CopyPlan>()
const UNUSED_DATABASES = new Set(['base/1', 'base/4'])
const PAGE = 8192
const ZEROS = Buffer.alloc(PAGE)

function copyPlan(template: string): CopyPlan {
  const mode = (path: string) => statSync(join(template, path)).mode & 0o7777
  const plan: CopyPlan = { dirs: [{ path: '', mode: mode('') }], files: [], sparse: new Map() }
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(template, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        if (UNUSED_DATABASES.has(path)) continue
        plan.dirs.push({ path, mode: mode(path) })
        walk(path)
      } else plan.files.push(path)
    }
  }
  walk('')
  for (const path of plan.files) {
    const size = statSync(join(template, path)).size
    if (size < 1024 * 1024) continue
    const bytes = readFileSync(join(template, path))
    let end = size
    for (let from = end - PAGE; from >= 0 && bytes.subarray(from, end).equals(ZEROS); from -= PAGE) end = from
    if (end < size)
      plan.sparse.set(path, { head: Buffer.from(bytes.subarray(0, end)), size, mode: mode(path) })
  }
  return plan
}

/**
 * Copies `template` into `into` from its plan: no lstat, readdir or chmod a file as cpSync does, and a zero
 * tail left a hole (memory-backed storage reads it as zeros). Measured here (/dev/shm, load ~3): copy and
 * removal 22–27 + 11–13 ms of CPU against 76–95 + 24–30 ms with cpSync and rmSync.
 */
function copyFolder(template: string, into: string): void {
  const plan = plans.get(template) ?? copyPlan(template)
  plans.set(template, plan)
  for (const { path, mode } of plan.dirs) mkdirSync(join(into, path), { mode })
  for (const path of plan.files) {
    const sparse = plan.sparse.get(path)
    if (!sparse) {
      copyFileSync(join(template, path), join(into, path), constants.COPYFILE_FICLONE)
      continue
    }
    const fd = openSync(join(into, path), 'w', sparse.mode)
    try {
      writeSync(fd, sparse.head)
      ftruncateSync(fd, sparse.size)
    } finally {
      closeSync(fd)
    }
  }
}

/**
 * A data folder on disk for a test that needs one (a server process killed and started again on it, a key
 * file beside the database): the migrated template's copy, or, with templates off, an empty folder the
 * first open runs initdb in. The caller removes it.
 */
export function embeddedTestFolder(): string {
  const { dataDir } = embeddedTestDatabase()
  return dataDir === 'memory://' ? mkdtempSync(join(tmpdir(), 'orgkit-test-')) : dataDir
}

/** Where one test's PostgreSQL data lives: a database of its own, or a schema of its own in the test database. */
export interface PostgresTestDatabase {
  url: string
  schema?: string
  /** Drops it (closing whatever is still connected to it). */
  remove(): Promise<void>
}

/** Test databases are named `orgkit_t_<made, base 36 ms>_<random>`: the global setup drops a killed run's. */
export const TEST_DATABASE_PREFIX = 'orgkit_t_'

/**
 * A fresh PostgreSQL database for one test server or store, on ORGKIT_TEST_DATABASE_URL's server: made from
 * the migrated template database (CREATE DATABASE … TEMPLATE, ~0.15 s of the server's time here) instead of
 * migrating a new schema (~1.5 s), committing without waiting for fdatasync as the test database does.
 * Where the role may not create databases, a new schema in the test database, which the store migrates.
 */
export async function postgresTestDatabase(): Promise<PostgresTestDatabase> {
  const url = process.env.ORGKIT_TEST_DATABASE_URL
  if (!url) throw new Error('ORGKIT_TEST_DATABASE_URL is not set')
  const id = `${Date.now().toString(36)}_${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const template = inject('postgresTemplateDatabase')
  if (!template) {
    const schema = `orgkit_test_${id}`
    return { url, schema, remove: () => adminQuery(url, `drop schema if exists "${schema}" cascade`) }
  }
  const name = `${TEST_DATABASE_PREFIX}${id}`
  // On one connection: a connection less per database (a backend the server starts and ends).
  await adminQuery(
    url,
    `create database "${name}" template "${template}"`,
    `alter database "${name}" set synchronous_commit = off`,
  )
  const own = new URL(url)
  own.pathname = `/${name}`
  return {
    url: own.href,
    remove: () => adminQuery(url, `drop database if exists "${name}" with (force)`),
  }
}

/**
 * Statements, one at a time, on a connection of their own to `url` (a database cannot be made or dropped in a
 * transaction).
 */
export async function adminQuery(url: string, ...statements: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    for (const statement of statements) await admin.query(statement)
  } finally {
    await admin.end()
  }
}
