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
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { inject, type ProvidedContext } from 'vitest'
import { type DatabaseConfig, openPglite, openStore } from '../../src/connect.ts'
import { countPlatformTokens } from '../../src/tokens.repository.ts'

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

/** An open embedded test database: run a store on it with `{ dataDir, pglite }`, then give it back. */
export interface BorrowedDatabase {
  dataDir: string
  pglite: PGlite
  /**
   * Takes it back once the stores on it have closed: emptied to the migrated template's rows for the next
   * file of this worker, or closed and removed when it can't be (closed under a test, its schema changed, a
   * listener left on it: `emptied`).
   */
  release(): Promise<void>
  /** Closes and removes it instead: what was on it is in doubt (a store on it that failed to close). */
  discard(): Promise<void>
}

/**
 * The worker's open embedded databases that no test holds: vitest's workers keep their modules from one
 * file to the next (isolate: false), and so these. Opening PGlite is ~0.25 s of CPU in a quiet process
 * (its WebAssembly instantiated, PostgreSQL started, a 128 MB memory whose collection V8 then chases);
 * emptying one a test has used is ~10 ms.
 */
const idle: { dataDir: string; pglite: PGlite }[] = []
/**
 * More than the most a file holds at once is memory for nothing. ORGKIT_TEST_REUSE=0 keeps none: every test a
 * new database, as before (to rule reuse out, or to measure it).
 */
const MOST_IDLE = process.env.ORGKIT_TEST_REUSE === '0' ? 0 : 4

/**
 * An open embedded database for one test server or store, as fresh as a copy of the migrated template:
 * one the worker's last files gave back and emptied, or one opened on a new copy. With templates off
 * (ORGKIT_TEST_TEMPLATES=), a new in-memory database, closed on release.
 */
export async function borrowEmbeddedDatabase(): Promise<BorrowedDatabase> {
  const reused = idle.pop()
  const { dataDir, pglite } = reused ?? (await openCopy())
  let released = false
  return {
    dataDir,
    pglite,
    async release() {
      if (released) return
      released = true
      if (idle.length < MOST_IDLE && (await emptied(pglite, dataDir))) idle.push({ dataDir, pglite })
      else await discard(pglite, dataDir)
    },
    async discard() {
      if (released) return
      released = true
      await discard(pglite, dataDir)
    },
  }
}

async function openCopy(): Promise<{ dataDir: string; pglite: PGlite }> {
  const template = inject('pgliteFolderTemplate')
  const { dataDir } = embeddedTestDatabase()
  const pglite = await openPglite({ dataDir })
  if (template && !fresh.has(template)) fresh.set(template, await readFresh(pglite))
  return { dataDir, pglite }
}

async function discard(pglite: PGlite, dataDir: string): Promise<void> {
  if (!pglite.closed) await pglite.close().catch(() => {})
  if (dataDir !== 'memory://') rmSync(dataDir, { recursive: true, force: true })
}

/** What a new copy of the template holds, read off the first one a worker opens. */
interface Fresh {
  /** What the schema is, in a digest (CATALOG): a test that changed it gives back a database not reused. */
  catalog: string
  tables: string[]
  /** The tables the migrations put rows in, with those rows. */
  rows: { table: string; json: string }[]
  sequences: { name: string; value: string; called: boolean }[]
}

/** By the template folder they were read off. */
const fresh = new Map<string, Fresh>()

/** A schema of the database's own, not PostgreSQL's (pg_catalog, pg_toast, pg_temp_1, …, information_schema). */
const ours = (column: string) => `${column} not like 'pg\\_%' and ${column} <> 'information_schema'`
const OUR_SCHEMAS = `(select oid from pg_namespace where ${ours('nspname')})`
/**
 * A digest of the schema as a test could change it: relations and their kind, columns with type, null-ness
 * and default, constraints, indexes, types, functions with their bodies, triggers and whether they are on,
 * schemas, and the migrations Kysely has recorded.
 */
const CATALOG = `
  select md5(string_agg(line, E'\\n' order by line)) as catalog from (
    select 'r ' || oid::regclass::text || ' ' || relkind::text || relpersistence::text as line
      from pg_class where relnamespace in ${OUR_SCHEMAS}
    union all select 'a ' || a.attrelid::regclass::text || '.' || a.attname || ' ' ||
        format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
      from pg_attribute a join pg_class c on c.oid = a.attrelid
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where c.relnamespace in ${OUR_SCHEMAS} and a.attnum > 0 and not a.attisdropped
    union all select 'c ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
      from pg_constraint where connamespace in ${OUR_SCHEMAS}
    union all select 'i ' || pg_get_indexdef(indexrelid) from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relnamespace in ${OUR_SCHEMAS}
    union all select 'y ' || oid::regtype::text || ' ' || typtype::text from pg_type
      where typnamespace in ${OUR_SCHEMAS} and typtype in ('e', 'd', 'c', 'r', 'm')
    union all select 'e ' || enumtypid::regtype::text || ' ' || enumlabel from pg_enum
    union all select 'f ' || oid::regprocedure::text || ' ' || md5(prosrc) from pg_proc
      where pronamespace in ${OUR_SCHEMAS}
    union all select 't ' || tgenabled::text || ' ' || pg_get_triggerdef(oid) from pg_trigger where not tgisinternal
    union all select 'n ' || nspname from pg_namespace where ${ours('nspname')}
    union all select 'm ' || name from public.kysely_migration) as objects`

async function readFresh(pglite: PGlite): Promise<Fresh> {
  const catalog = (await pglite.query<{ catalog: string }>(CATALOG)).rows[0]!.catalog
  const tables = (
    await pglite.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables
        where schemaname = 'public' and tablename not like 'kysely\\_%' order by tablename`,
    )
  ).rows.map((row) => row.name)
  const rows: Fresh['rows'] = []
  for (const table of tables) {
    const { json } = (
      await pglite.query<{ json: string | null }>(`select json_agg(t)::text as json from ${table} t`)
    ).rows[0]!
    if (json) rows.push({ table, json })
  }
  const sequences = (
    await pglite.query<{ name: string; value: string; called: boolean }>(
      `select quote_ident(schemaname) || '.' || quote_ident(sequencename) as name,
        coalesce(last_value, start_value)::text as value, last_value is not null as called
        from pg_sequences where schemaname = 'public'`,
    )
  ).rows
  return { catalog, tables, rows, sequences }
}

// No VACUUM between tests, though PGlite runs no autovacuum: a vacuumed table takes new rows into the space
// of deleted ones, and rows made in one millisecond (PGlite's clock) could then list in another order than on
// a new copy. The dead rows a run leaves are a few thousand a table.

/**
 * Empties a used database back to what a new copy of the template holds: every row deleted (foreign keys and
 * triggers off meanwhile, as a restore does), the migrations' rows put back, the sequences reset, and the
 * session's state (a transaction left open, prepared statements, settings, advisory locks) discarded. False
 * when it can't be: closed, its schema changed, or a listener still registered (PGlite calls its callbacks
 * in JavaScript, which no SQL removes).
 */
async function emptied(pglite: PGlite, dataDir: string): Promise<boolean> {
  const template = fresh.get(inject('pgliteFolderTemplate'))
  if (!template || pglite.closed) return false
  try {
    await pglite.exec('rollback')
    // PGlite unlistens a channel in PostgreSQL once its last callback goes: one still listened to has one.
    const listening = await pglite.query<{ n: number }>(
      'select count(*)::int as n from pg_listening_channels()',
    )
    if (listening.rows[0]!.n > 0) return false
    await pglite.exec('discard all')
    if ((await pglite.query<{ catalog: string }>(CATALOG)).rows[0]!.catalog !== template.catalog) return false
    await pglite.transaction(async (tx) => {
      await tx.exec(`set local session_replication_role = replica;
        ${template.tables.map((table) => `delete from ${table};`).join('\n')}`)
      for (const { table, json } of template.rows)
        await tx.query(
          `insert into ${table} overriding system value select * from json_populate_recordset(null::${table}, $1)`,
          [json],
        )
      for (const { name, value, called } of template.sequences)
        await tx.query('select setval($1, $2::bigint, $3)', [name, value, called])
    })
    // The key a server makes beside an embedded database it has none for (the server's KEY_FILE).
    rmSync(join(dataDir, 'secret.key'), { force: true })
    return true
  } catch {
    return false
  }
}

/** Platform tokens in a database, opened for the count alone: a start that failed must have made none. */
export async function platformTokensIn(database: DatabaseConfig): Promise<number> {
  const store = await openStore(database)
  try {
    return await countPlatformTokens(store.db)
  } finally {
    await store.close()
  }
}
