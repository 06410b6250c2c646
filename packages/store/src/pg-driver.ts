import { CompiledQuery, type DatabaseConnection, PostgresDriver, type QueryResult } from 'kysely'
import type pg from 'pg'

/**
 * Kysely's PostgresDriver over connections of our own, which keep their pg client: Kysely's hide it, and one
 * statement needs it. `COPY … TO STDOUT` hands its bytes over as they came (CopyData messages), where a
 * query's values reach us only as strings node-postgres decoded as UTF-8 — for the engine's stored state,
 * 57 MB at 1M bindings, a string per part and its base64 decoded (engine-state-parts.ts). node-postgres
 * passes CopyData only to a query object submitted on the client (`copyOut`), and a read that must see its
 * transaction's snapshot must submit it on that transaction's client. Transactions, savepoints and their
 * SQL are Kysely's (inherited); only how a connection is got, used and given back is ours.
 */
export class OrgkitDriver extends PostgresDriver {
  #pool: pg.Pool | undefined
  readonly #connections = new WeakMap<pg.PoolClient, PgConnection>()

  /** `onLost`: told when the database ends a connection while a statement holds it (the pool tells the idle). */
  constructor(
    pool: pg.Pool,
    private readonly onLost: (error: Error) => void = () => {},
  ) {
    super({ pool })
    this.#pool = pool
  }

  override async init(): Promise<void> {}

  override async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#pool) throw new Error('driver has already been destroyed')
    const client = await this.#pool.connect()
    // Destroyed while the client was being acquired.
    if (!this.#pool) {
      client.release()
      throw new Error('driver has already been destroyed')
    }
    let connection = this.#connections.get(client)
    if (!connection) {
      const made = new PgConnection(client)
      connection = made
      this.#connections.set(client, made)
      // A connection the database ends (a restart, a failover, pg_terminate_backend) is an 'error' event on
      // its client, which pg-pool hears only while the client is idle (connect.ts: onConnectionError):
      // unheard while a statement holds it, Node ends the process. Heard here and told once: the statements
      // in flight fail with it, later ones as "not queryable", and the pool drops the client when it is
      // released. (Idle, the pool tells it.) Told of once: a client ended between statements emits 'error'
      // twice, for the database's FATAL message and for the socket's end; a socket error, then its close.
      let told = false
      client.on('error', (error: Error) => {
        if (!made.inUse || told) return
        told = true
        this.onLost(error)
      })
    }
    connection.inUse = true
    return connection
  }

  override async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const held = connection as PgConnection
    held.inUse = false
    held.client.release()
  }

  override async destroy(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end()
  }
}

/** What `copyOut` runs on the connection it reaches: the statement, on that connection's client. */
const COPY_OUT = Symbol('orgkit copy out')
type CopyOutQuery = CompiledQuery & { [COPY_OUT]: (client: pg.PoolClient) => Promise<void> }

class PgConnection implements DatabaseConnection {
  /** Checked out of the pool: an error on its client is this driver's to tell, not the pool's. */
  inUse = false
  constructor(readonly client: pg.PoolClient) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const copy = (query as Partial<CopyOutQuery>)[COPY_OUT]
      if (copy) {
        await copy(this.client)
        return { rows: [] }
      }
      const { command, rowCount, rows } = await this.client.query(query.sql, [...query.parameters])
      const writes =
        command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
      return { numAffectedRows: writes ? BigInt(rowCount ?? 0) : undefined, rows: rows ?? [] }
    } catch (error) {
      // As Kysely's connection does: the caller's frames after pg's, which end in the socket's read.
      const caller = new Error().stack?.split('\n').slice(1).join('\n')
      if (error instanceof Error && caller) error.stack += `\n${caller}`
      throw error
    }
  }

  /** Nothing streams (Kysely's needs pg-cursor, not set up): a result is read whole, or COPYed out. */
  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not set up on this store')
  }
}

/**
 * Runs `statement`, a `COPY … TO STDOUT`, on the connection `db` runs on (a transaction's: in its snapshot),
 * handing the bytes of each CopyData message to `onData` as they arrive. They are the client's memory, read
 * again once `onData` returns: it copies what it keeps. An error `onData` throws ends the copy with it, once
 * the database has sent the rest. Only the store's own driver runs it.
 */
export async function copyOut(
  db: { executeQuery(query: CompiledQuery): Promise<unknown> },
  statement: string,
  onData: (bytes: Uint8Array) => void,
): Promise<void> {
  let ran = false
  const query: CopyOutQuery = {
    ...CompiledQuery.raw(statement),
    [COPY_OUT]: (client) => {
      ran = true
      return submitCopyOut(client, statement, onData)
    },
  }
  await db.executeQuery(query)
  // Another driver would have run the statement as a query and dropped its bytes.
  if (!ran) throw new Error('copyOut needs the store’s own driver (OrgkitDriver)')
}

/**
 * The statement as node-postgres' own query objects are run (pg's Query; pg-cursor, pg-copy-streams): a
 * simple query whose messages the client hands to this object, until the database is ready again.
 */
function submitCopyOut(
  client: pg.PoolClient,
  text: string,
  onData: (bytes: Uint8Array) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: unknown = null
    let settled = false
    const settle = (error: unknown) => {
      if (settled) return
      settled = true
      if (error === null) resolve()
      else reject(error)
    }
    const copy = {
      text,
      submit(connection: pg.Connection) {
        connection.query(text)
      },
      handleCopyData(message: { chunk: Uint8Array }) {
        if (failed !== null) return
        try {
          onData(message.chunk)
        } catch (error) {
          failed = error // thrown here it would reach the socket's reader: kept until the database is done
        }
      },
      handleCopyInResponse(connection: pg.Connection) {
        // Not a COPY … TO: end the copy the database then waits for.
        ;(connection as unknown as { sendCopyFail(message: string): void }).sendCopyFail('not a COPY TO')
        failed ??= new Error('copyOut runs COPY … TO STDOUT only')
      },
      handleRowDescription() {
        failed ??= new Error('copyOut runs COPY … TO STDOUT only')
      },
      handleDataRow() {},
      handleCommandComplete() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      // The database's error (it is ready again next, unseen here) or the connection's (it never will be).
      handleError(error: unknown) {
        settle(failed ?? error)
      },
      handleReadyForQuery() {
        settle(failed)
      },
    }
    client.query(copy)
  })
}
