import { createHash } from 'node:crypto'
import pg from 'pg'

/** Distinct statements kept prepared on a connection; past this, the rest run unnamed (parsed each time). */
const MAX_PREPARED = 500

/**
 * PostgreSQL's refusal to run a prepared statement whose result columns changed since it was prepared: a
 * migration, run by another instance of a newer version during a rolling upgrade, added a column to a
 * table a `select *` or `returning *` reads (SQLSTATE 0A000). Nothing of the statement ran.
 */
export function isStalePlan(error: unknown): boolean {
  const e = error as { code?: unknown; routine?: unknown; message?: unknown } | null
  // The routine that raises it, not the message: PostgreSQL translates messages (lc_messages).
  return (
    e?.code === '0A000' &&
    (e.routine === 'RevalidateCachedQuery' ||
      String(e.message).includes('cached plan must not change result type'))
  )
}

/**
 * Moves on whenever a connection meets a stale plan: every connection then prepares its statements anew,
 * under new names (the old ones stay in their sessions, unused, until the connection closes: pg keeps its
 * own record of what it parsed, so a DEALLOCATE behind its back would make it skip a needed Parse).
 */
let generation = 0

interface Session {
  names: Map<string, string>
  generation: number
  inTransaction: boolean
  /** A `begin` answered but not yet sent: it goes with the transaction's first statement (`deferBegin`). */
  beginPending: boolean
}

/** The name `begin` is prepared under, once a connection, for `deferBegin`: never stale (no result columns). */
const BEGIN = 'orgkit_begin'

const sessions = new WeakMap<object, Session>()

/**
 * Runs each distinct statement Kysely sends as a named prepared statement on this connection, so the
 * database parses and plans it once rather than on every call: on the embedded database a write's dozen
 * statements parsed and planned in WebAssembly, on the server's own thread, were a large share of its CPU;
 * on PostgreSQL, a third of the database's own CPU per write (the write bench's `db` column, issue 25.3).
 *
 * A prepared `select *` fails once its table gains a column (`isStalePlan`), which PostgreSQL shared with an
 * instance being upgraded can see. Then every connection prepares anew, and the statement is run again when
 * it was alone; in a transaction the transaction has failed, and the error reaches the caller (the server
 * answers 503 SCHEMA_CHANGED, to try again), as Rails does with its statement cache. Off with
 * `prepare: false` on a pooler that can't keep named statements (PgBouncer in transaction mode without
 * `max_prepared_statements`).
 *
 * The names come from the statement's text, so the same statement always maps to the same name; `in (…)`
 * lists of other lengths are other statements, and their number is capped.
 */
export function prepareStatements(
  client: pg.PoolClient | pg.Client,
  { deferBegin = false }: { deferBegin?: boolean } = {},
): void {
  // PGlite's adapter gives every client the same connection — one session, and pg's record of what it
  // has parsed there — so a client the pool makes after an idle one closed finds its statements prepared.
  const connection = (client as unknown as { connection: PgConnection }).connection
  const session = sessions.get(connection) ?? {
    names: new Map(),
    generation,
    inTransaction: false,
    beginPending: false,
  }
  sessions.set(connection, session)
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
  const nameOf = (text: string) => {
    if (session.generation !== generation) {
      session.names.clear()
      session.generation = generation
    }
    let name = session.names.get(text)
    if (name === undefined && session.names.size < MAX_PREPARED) {
      name = `orgkit_${generation}_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
      session.names.set(text, name)
    }
    return name
  }
  const named = (text: string, values: unknown[]) => {
    const name = nameOf(text)
    if (!session.beginPending) return name === undefined ? query(text, values) : query({ name, text, values })
    session.beginPending = false
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, result: pg.QueryResult | pg.QueryResult[]) => {
        if (error) reject(error)
        else resolve(Array.isArray(result) ? result[result.length - 1] : result)
      }
      query(new BeginFirst({ name, text, values }, undefined, done))
    })
  }
  /** Sends `begin` alone, prepared: a connection's first, or the one pending before a statement that can't carry it. */
  const beginNow = () => {
    session.beginPending = false
    return query({ name: BEGIN, text: 'begin' })
  }
  /**
   * With `deferBegin`: `begin` is answered at once and sent with the transaction's first statement
   * (`BeginFirst`); a `commit` or `rollback` with nothing sent since needs no round trip. Null for a
   * statement that goes as it is. The first `begin` on a connection runs alone: it prepares `begin` there.
   */
  const deferred = (text: string): Promise<unknown> | null => {
    const statement = text.trim().toLowerCase()
    if (statement === 'begin' && !session.inTransaction) {
      session.inTransaction = true
      if (connection.parsedStatements?.[BEGIN] === undefined) return beginNow()
      session.beginPending = true
      return Promise.resolve(answered('BEGIN'))
    }
    if (session.beginPending && (statement === 'commit' || statement === 'rollback')) {
      session.beginPending = false
      session.inTransaction = false
      return Promise.resolve(answered(statement.toUpperCase()))
    }
    return null
  }
  ;(client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // Without parameters pg sends a simple query (a migration's several statements, begin, commit): as is.
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
      if (typeof text === 'string') {
        const answer = deferBegin && callback === undefined ? deferred(text) : null
        if (answer) return answer
        session.inTransaction = transactionAfter(text, session.inTransaction)
      }
      if (!session.beginPending) return query(text, values, callback)
      // A savepoint, a COPY (its own query object), a callback: the transaction's begin goes first. A query
      // object or a callback answers through itself, and no one awaits what this returns: a failed begin
      // (the connection lost) fails it there, or copyOut would wait for ever on an unhandled rejection.
      const sent = beginNow().then(
        () => query(text, values, callback),
        (error: unknown) => {
          const own = text as { handleError?: (error: unknown, connection: unknown) => void } | null
          if (typeof own?.handleError === 'function') own.handleError(error, connection)
          else if (typeof callback === 'function') callback(error)
          else throw error
        },
      )
      // What pg returns: a query object itself (pg-cursor reads through it), nothing for a callback.
      if (typeof text !== 'string') return text
      return callback === undefined ? sent : undefined
    }
    const alone = !session.inTransaction
    return named(text, values).catch((error: unknown) => {
      if (isStalePlan(error)) {
        if (session.generation === generation) generation++
      } else if ((error as { code?: unknown }).code === '26000') {
        // pg closed the statement when a value failed to serialise at bind, yet still counts it parsed: every
        // later call would fail "does not exist". Forget it, on our side and pg's, so it is parsed again.
        const name = session.names.get(text)
        const parsed = (connection as { parsedStatements?: Record<string, unknown> }).parsedStatements
        if (name === undefined || !parsed) throw error
        session.names.delete(text)
        delete parsed[name]
      } else throw error
      if (!alone) throw error
      return named(text, values)
    })
  }
}

/** What a statement answered without a round trip returns (`begin`, `commit` of nothing sent). */
function answered(command: string): Pick<pg.QueryResult, 'command' | 'rowCount' | 'rows' | 'fields'> {
  return { command, rowCount: null, rows: [], fields: [] }
}

/** The part of pg's Connection the deferred `begin` writes to (its Bind and Execute, unsynced). */
interface PgConnection {
  parsedStatements?: Record<string, string>
  bind(message: { statement: string; values: unknown[] }): void
  execute(message: Record<string, never>): void
}

type Done = (error: Error | null, result: pg.QueryResult | pg.QueryResult[]) => void
const PgQuery = pg.Query as unknown as new (
  config: { name?: string; text: string; values: unknown[] },
  values: undefined,
  callback: Done,
) => { prepare(connection: PgConnection): void }

/**
 * A statement with its transaction's `begin` before it, in one write and one round trip: Bind and Execute
 * of the prepared `begin`, then pg's own messages for the statement and one Sync. The database runs them in
 * order, and answers `begin` first: pg's query gathers two results, and the caller takes the last. An error
 * in the statement leaves the transaction failed, as it would after a `begin` of its own; the caller rolls
 * back. (A round trip less a write on PostgreSQL, issue 25.3: begin's ~0.2 ms of the server's CPU, its
 * system calls and a wake-up of each process.)
 */
class BeginFirst extends PgQuery {
  override prepare(connection: PgConnection): void {
    connection.bind({ statement: BEGIN, values: [] })
    connection.execute({})
    super.prepare(connection)
  }
}

/** Whether the session is in a transaction after this simple statement (Kysely's begin, commit, rollback). */
function transactionAfter(text: string, before: boolean): boolean {
  const statement = text.trimStart().slice(0, 20).toLowerCase()
  if (statement.startsWith('begin') || statement.startsWith('start transaction')) return true
  if (statement.startsWith('rollback to')) return before
  if (statement.startsWith('commit') || statement.startsWith('rollback') || statement.startsWith('end'))
    return false
  return before
}
