import { constants, cpSync, existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import type { PGlite } from '@electric-sql/pglite'
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Driver,
  Kysely,
  Migrator,
  PostgresDialect,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely'
import pg from 'pg'
import { lockDataFolder } from './data-folder-lock.ts'
import type { Database, Db } from './database.ts'
import { migrationProvider, migrations } from './migrations/index.ts'
import { OrgkitDriver } from './pg-driver.ts'
import { copyTemplateFolder, pgliteTemplate, pgliteTemplateFolder } from './pglite-template.ts'
import { prepareStatements } from './prepared.ts'
import { readSnapshotsBeside } from './snapshot-source.ts'
import { TracedDriver } from './tracing.ts'

// bigint (int8) columns — revisions and audit ids — arrive as strings: exact beyond 2^53.
export interface DatabaseConfig {
  /** A PostgreSQL server: `postgres://user@host:5432/db`. Without it, the embedded PGlite. */
  url?: string | undefined
  /** PGlite's data folder; `memory://` keeps it in memory (tests). */
  dataDir?: string | undefined
  /** A schema to create and use (tests give each run its own on a shared server). */
  schema?: string | undefined
  /** Connections in the pool (server only; PGlite is one connection). */
  poolSize?: number | undefined
  /**
   * PostgreSQL: run statements prepared (prepared.ts), default true; false behind a pooler that can't keep a
   * session's prepared statements (PgBouncer in transaction mode without max_prepared_statements). The embedded
   * database always does.
   */
  prepare?: boolean | undefined
  /**
   * PGlite only: an empty database starts as a copy of a migrated template kept in this folder (made there
   * on first use, remade when the migrations change) rather than from initdb: ~0.4 s of CPU instead of 3–4
   * (pglite-template.ts). ORGKIT_TEMPLATE_DIR; `npm start` and the tests keep it in node_modules/.cache/orgkit.
   */
  templateDir?: string | undefined
  /**
   * PostgreSQL only: told when the database ends a connection (a restart, a failover, an operator's
   * pg_terminate_backend), held `idle` in the pool or `in use` by a statement, which then fails with it. The
   * pool drops that connection and opens a new one on the next query; without a listener, Node would end
   * the process on the pool's `error` event. Default: a process warning.
   */
  onConnectionError?: ((error: Error, held: 'idle' | 'in use') => void) | undefined
  /**
   * PGlite only: an open embedded database to run on instead of opening `dataDir`'s; the caller's, which the
   * store neither opens nor closes (`dataDir` still names its folder, where the server keeps its key file).
   * For an application that holds the embedded database itself, opened with `openPglite`; the tests reuse
   * one from file to file (packages/store/test/support/test-databases.ts). One store at a time on it (PGlite
   * is one session); closing the store deallocates its prepared statements there.
   */
  pglite?: PGlite | undefined
}

/**
 * PGlite's settings, chosen for an embedded server's start-up time and resident memory (docs/performance.md,
 * issue 25.2), on top of PGlite's own defaults (single user, fsync off, no parallel workers):
 * - `shared_buffers` 16MB, not PostgreSQL's 128MB: the buffer pool lives in the WebAssembly heap, so its
 *   size is resident memory from the start (an idle embedded instance held ~130 MB more with 128MB). The
 *   data folder's files stay in the operating system's page cache besides, and the engine answers checks
 *   from its own memory, so the database's working set is a write's few pages and the snapshot's scans.
 * - The WebAssembly memory's initial size stays PGlite's 128 MB (`initialMemory`): it is the module's own
 *   minimum, and only the pages PostgreSQL touches are resident (~30 MB idle); it grows on demand.
 * - PostgreSQL's WebAssembly runs on V8's baseline compiler only (`--liftoff-only`, set once for the
 *   process before the first PGlite compiles): V8 otherwise recompiles every function that runs hot during
 *   PostgreSQL's start with its optimising compiler, on the other core, for code a server mostly never
 *   runs again. Measured on `orgkit start`: 1.0 s less CPU to /healthz and 50-80 MB less idle RSS (empty
 *   database), 1 s less CPU and ~35 MB less with 100k bindings; a simple statement costs ~10% more CPU.
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB']
const PGLITE_V8_FLAGS = '--liftoff-only'

export interface Store {
  db: Db
  kind: 'postgres' | 'pglite'
  /**
   * Subscribes to a NOTIFY channel on a connection of its own (PostgreSQL only; the embedded database has
   * one process, which the caller notifies itself). `onLost` fires when that connection drops: the caller
   * re-subscribes and catches up, because notifications sent meanwhile are gone.
   */
  listen?(
    channel: string,
    onNotify: (payload: string) => void,
    onLost: (error: Error) => void,
  ): Promise<() => Promise<void>>
  /**
   * The embedded database only: NOTIFY on its one in-process connection. This process is its only writer,
   * so nothing is missed. (The engine does not use it: it applies its own writes; token revocations do.)
   */
  listenInProcess?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

/**
 * One code path for both databases: a `pg.Pool` under Kysely's PostgresDialect, over a real server or over
 * PGlite through its node-postgres adapter. The same SQL and the same migrator serve both.
 */
export async function openStore(config: DatabaseConfig): Promise<Store> {
  if (config.url) {
    if (config.schema) {
      const admin = new pg.Client({ connectionString: config.url })
      await admin.connect()
      await admin.query(`create schema if not exists "${config.schema.replaceAll('"', '')}"`)
      await admin.end()
    }
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize ?? 10,
      // Named like the listener and the reload pool, so pg_stat_activity tells one deployment's sessions.
      application_name: `orgkit:${config.schema ?? 'public'}`.slice(0, 63),
      ...(config.schema ? { options: `-c search_path="${config.schema.replaceAll('"', '')}"` } : {}),
    })
    // A transaction's begin travels with its first statement (prepared.ts, BeginFirst): a round trip less.
    if (config.prepare !== false)
      pool.on('connect', (client) => prepareStatements(client, { deferBegin: true }))
    const lost = config.onConnectionError ?? ((error: Error) => process.emitWarning(error))
    const idleLost = (error: Error) => lost(error, 'idle')
    const inUseLost = (error: Error) => lost(error, 'in use')
    pool.on('error', idleLost)
    const db = new Kysely<Database>({ dialect: new OrgkitDialect({ pool, onLost: inUseLost }) })
    const url = config.url
    const searchPath = config.schema ? `-c search_path="${config.schema.replaceAll('"', '')}"` : undefined
    // A reload a write asks for under its org's lock reads its snapshot here (snapshot.ts, `snapshotSource`):
    // never waiting for a connection of the main pool, which the writes queued on that lock may all hold.
    // Connected only when a reload needs one; its reads set a lock timeout (snapshot.ts, `streamSnapshot`).
    const besidePool = new pg.Pool({
      connectionString: config.url,
      max: 2,
      application_name: `orgkit-reload:${config.schema ?? 'public'}`.slice(0, 63),
      ...(searchPath && { options: searchPath }),
    })
    besidePool.on('error', idleLost)
    const beside = new Kysely<Database>({
      dialect: new OrgkitDialect({ pool: besidePool, onLost: inUseLost }),
    })
    readSnapshotsBeside(db, beside)
    return {
      db,
      kind: 'postgres',
      async listen(channel, onNotify, onLost) {
        const client = new pg.Client({
          connectionString: url,
          // Named, so an operator (or a test) can find one deployment's listeners in pg_stat_activity.
          application_name: `orgkit-listen:${config.schema ?? 'public'}`.slice(0, 63),
          ...(searchPath && { options: searchPath }),
        })
        let closing = false
        client.on('notification', (n) => {
          if (n.channel === channel) onNotify(n.payload ?? '')
        })
        const lost = (error: Error) => {
          if (!closing) onLost(error)
        }
        client.on('error', lost)
        client.on('end', () => lost(new Error('the listening connection ended')))
        await client.connect()
        await client.query(`listen "${channel.replaceAll('"', '')}"`)
        return async () => {
          closing = true
          await client.end().catch(() => {})
        }
      },
      close: async () => {
        await Promise.all([db.destroy(), beside.destroy()])
      },
    }
  }
  const given = config.pglite
  // PGlite is one session: a second store on it would interleave its transactions with the first's.
  if (given && storesOn.has(given))
    throw new Error('this PGlite already has an open store: close that one first')
  if (given) storesOn.add(given)
  const pglite = given ?? (await openPglite(config))
  /** A store that fails to open gives the caller's PGlite back, or closes its own (and the folder's lock). */
  const letGo = async () => {
    if (given) storesOn.delete(given)
    else await pglite.close()
  }
  const pool = await pglitePool(pglite).catch(async (error: unknown) => {
    await letGo()
    throw error
  })
  pool.on('connect', prepareStatements)
  const db = new Kysely<Database>({ dialect: new OrgkitDialect({ pool }) })
  if (config.schema) {
    try {
      await sql`create schema if not exists ${sql.id(config.schema)}`.execute(db)
      await sql`set search_path to ${sql.id(config.schema)}`.execute(db)
    } catch (error) {
      await db.destroy()
      await letGo()
      throw error
    }
  }
  return {
    db,
    kind: 'pglite',
    listenInProcess: (channel, onNotify) => pglite.listen(channel, onNotify),
    close: async () => {
      await db.destroy()
      if (!given) return pglite.close()
      // The caller's session goes back as the store found it: without the statements the store prepared
      // (another store on it would prepare the same names) and the schema it chose.
      try {
        await pglite.exec(`deallocate all; ${config.schema ? 'reset search_path;' : ''}`)
      } finally {
        storesOn.delete(given)
      }
    },
  }
}

/** The callers' PGlite instances (`DatabaseConfig.pglite`) a store is open on. */
const storesOn = new WeakSet<PGlite>()

/**
 * The embedded database in `config.dataDir`, opened as the store opens it: its settings (PGLITE_SETTINGS), an
 * empty folder filled from the migrated template in `templateDir`, and the folder's parents made.
 */
export async function openPglite(config: DatabaseConfig): Promise<PGlite> {
  const dataDir = config.dataDir ?? './.orgkit'
  // A folder on disk: a plain path or file://, as PGlite reads it (memory:// and the browsers' are not).
  const folder = /^[a-z0-9-]+:\/\//.test(dataDir) ? (dataDir.match(/^file:\/\/(.+)/)?.[1] ?? null) : dataDir
  // PGlite makes the folder itself but not its parents: ORGKIT_DATA_DIR=./data/orgkit failed with ENOENT.
  if (folder) await mkdir(folder, { recursive: true })
  // One process a folder, before anything is written to it (data-folder-lock.ts); released when PGlite closes.
  const release = folder ? lockDataFolder(folder) : null
  let started: PGlite | undefined
  try {
    // From the migrated template when there is one: a folder without a database is filled from its data
    // folder (files already there stay), a new in-memory database loads its dump.
    let template: Blob | undefined
    if (config.templateDir && folder !== null && !existsSync(join(folder, 'PG_VERSION')))
      copyTemplateFolder(await migratedTemplateFolder(config.templateDir), folder)
    else if (config.templateDir && folder === null && dataDir.startsWith('memory://'))
      template = await pgliteTemplate(config.templateDir, TEMPLATES)
    v8.setFlagsFromString(PGLITE_V8_FLAGS)
    // Loaded here, not with the store: a start on PostgreSQL never needs PGlite (~50 ms of CPU to load).
    const { PGlite } = await import('@electric-sql/pglite')
    const pglite = new PGlite(dataDir, {
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
      ...(template && { loadDataDir: template }),
    })
    started = pglite
    await pglite.waitReady
    if (release) {
      const close = pglite.close.bind(pglite)
      pglite.close = async () => {
        try {
          await close()
        } finally {
          release()
        }
      }
    }
    return pglite
  } catch (error) {
    // A PGlite that failed to start may hold the folder's files open: closed before the lock goes.
    await started?.close().catch(() => {})
    release?.()
    throw error
  }
}

const TEMPLATES = {
  migrations,
  sources: fileURLToPath(new URL('./migrations/', import.meta.url)),
  build: buildTemplate,
  buildInto: buildTemplateInto,
}

/**
 * The migrated template's data folder in `templateDir` (pglite-template.ts): made there when missing — from
 * a copy of `initdb`, a data folder holding only what initdb made, when given (the tests' global setup keeps
 * one: initdb is ~4 s of CPU), else from initdb.
 */
export const migratedTemplateFolder = (templateDir: string, initdb?: string) =>
  pgliteTemplateFolder(
    templateDir,
    initdb ? { ...TEMPLATES, buildInto: (folder) => buildTemplateInto(folder, initdb) } : TEMPLATES,
  )

/**
 * A data folder holding what initdb made and nothing more, in `templateDir`: made there when missing, kept
 * per PGlite version beside the migrated templates. The tests' global setup copies it for the tests that
 * migrate from nothing, and makes the migrated template from it (initdb is ~4 s of CPU).
 */
export const initdbFolder = (templateDir: string) =>
  pgliteTemplateFolder(
    templateDir,
    { migrations: {}, buildInto: async (folder) => (await openStore({ dataDir: folder })).close() },
    'initdb',
  )

/** A fresh database in `folder` (initdb, or a copy of the data folder `initdb`), migrated: the template's. */
async function buildTemplateInto(folder: string, initdb?: string): Promise<void> {
  if (initdb) cpSync(initdb, folder, { recursive: true, mode: constants.COPYFILE_FICLONE })
  const store = await openStore({ dataDir: folder })
  try {
    await migrate(store.db)
  } finally {
    await store.close()
  }
}

/** A pool over the embedded database (pglite-connection.ts, loaded with PGlite: never on PostgreSQL). */
async function pglitePool(pglite: PGlite): Promise<pg.Pool> {
  const { pglitePoolConfig } = await import('./pglite-connection.ts')
  return new pg.Pool(pglitePoolConfig(pglite))
}

/** A fresh in-memory database, migrated and dumped: what `templateDir` keeps. */
async function buildTemplate(): Promise<Blob> {
  const pglite = await openPglite({ dataDir: 'memory://' })
  const db = new Kysely<Database>({ dialect: new OrgkitDialect({ pool: await pglitePool(pglite) }) })
  try {
    await migrate(db)
    return await pglite.dumpDataDir('none')
  } finally {
    await db.destroy()
    await pglite.close()
  }
}

/** Whether the migrations applied in `schema` are exactly those this build knows, no more, no fewer. */
async function appliedAreKnown(db: Db, schema: string): Promise<boolean> {
  const table = sql.table(`${schema}.kysely_migration`)
  const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db)
  const known = Object.keys(migrations)
  const applied = new Set(rows.map((row) => row.name))
  return (
    applied.size === rows.length && applied.size === known.length && known.every((name) => applied.has(name))
  )
}

/** Brings the schema up to date; safe to run on every start and from several instances at once. */
export async function migrate(db: Db): Promise<string[]> {
  // Kysely looks for its own tables in every schema unless told which one: beside another schema being
  // migrated at the same moment (instances of other deployments, parallel test runs), it would think its
  // lock table exists and fail. Its tables live in the schema Orgkit's do.
  const { rows } = await sql<{ schema: string | null; present: boolean }>`
    select current_schema() as schema,
      to_regclass(quote_ident(current_schema()) || '.kysely_migration') is not null as present`.execute(db)
  // Up to date, as every start is but the first after an upgrade: the applied migrations are exactly this
  // build's, read in one statement instead of the migrator's ten (its tables looked up, its lock table, an
  // advisory lock and a transaction; ~30-60 ms of a start's CPU on PGlite). Anything else (a migration to
  // apply, or one this build doesn't know: a newer version's) goes to the migrator, which applies or refuses.
  if (rows[0]?.schema && rows[0].present && (await appliedAreKnown(db, rows[0].schema))) return []
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    ...(rows[0]?.schema && { migrationTableSchema: rows[0].schema }),
    // Numbers are handed out ahead (0010 was reserved while 0011 and 0012 landed): a database that applied
    // a later one still takes an earlier one that arrives after it. Each migration stands on its own.
    allowUnorderedMigrations: true,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** One round trip to the database: throws when it can't answer (the readiness probe). */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db)
}

/**
 * Introspection (the migrator's "does my table exist?") over our schema only. Kysely's own scans every
 * schema of the server and calls has_schema_privilege on each: on a server shared by concurrent runs, a
 * schema dropped mid-scan failed the migration with 'schema "…" does not exist'. Tables come without
 * their columns: nothing here reads them.
 */
class CurrentSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<unknown>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select current_schema() as name`.execute(this.db)
    return rows
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'v', 'p')
      order by c.relname
    `.execute(this.db)
    return rows
      .filter((r) => options.withInternalKyselyTables || !r.name.startsWith('kysely_migration'))
      .map((r) => ({ name: r.name, schema: r.schema, isView: r.kind === 'v', columns: [] }))
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) }
  }
}

class OrgkitDialect extends PostgresDialect {
  constructor(private readonly config: { pool: pg.Pool; onLost?: (error: Error) => void }) {
    super(config)
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db)
  }

  /**
   * Kysely's driver on connections that keep their client (pg-driver.ts: `copyOut`), every database call a
   * span when a tracer is registered (tracing.ts).
   */
  override createDriver(): Driver {
    return new TracedDriver(new OrgkitDriver(this.config.pool, this.config.onLost))
  }
}
