import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import pg from 'pg'

/** How pg turns a value into a parameter's text (a Date, a Buffer, an array, an object), for `Pipelined`. */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): unknown
}

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
  /**
   * How the transaction ended with a statement sent with its commit behind it (`COMMITS`): its own `commit`
   * or `rollback`, still to come, is answered with that, and any other statement refused; `'pending'` while
   * that statement is still being answered (anything sent then would run after its commit).
   */
  ended: 'pending' | 'commit' | 'rollback' | null
  /** Statements marked `DEFERRED`, answered but not yet sent: they go with the transaction's last one. */
  deferred: Deferred[]
}

/** The name `begin` is prepared under, once a connection, for `deferBegin`: never stale (no result columns). */
const BEGIN = 'orgkit_begin'

/**
 * Begins a transaction's last statement, one after which it may only commit: on PostgreSQL with statements
 * prepared, its commit is sent behind it, in the same round trip (`Pipelined`), and the transaction's own
 * `commit` is then answered without one. The statement must make sure it is the last: it fails when the
 * transaction would have more to do after it (the audit append's `last`, audit.repository.ts). Elsewhere (the
 * embedded database, `prepare: false`) it is a comment, and the commit goes as usual.
 */
export const COMMITS = '/* orgkit: commits */ '

/**
 * Begins a statement whose answer the caller does not read — an insert or update without `returning`, its
 * row built by the caller: on PostgreSQL with statements prepared, it is answered at once (no rows, no
 * count) and sent just ahead of the transaction's last statement (`COMMITS`), in that statement's round trip;
 * it runs where it would have run, before the last statement takes the change feed's revision row. Any other
 * statement sends it first, alone; a rollback drops it. When it fails (a missing row its foreign key names),
 * the statement it went with fails with its error, and nothing commits. A value that can't be sent fails the
 * statement itself, at once. Elsewhere it is a comment, and the statement runs at once.
 */
export const DEFERRED = '/* orgkit: deferred */ '

/** A deferred statement, its values already as pg sends them. */
interface Deferred {
  text: string
  values: unknown[]
}

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
    ended: null,
    deferred: [],
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
  const named = (text: string, values: unknown[]): Promise<unknown> => {
    const name = nameOf(text)
    const begin = session.beginPending
    const commit = deferBegin && session.inTransaction && text.startsWith(COMMITS)
    if (!begin && !commit) return name === undefined ? query(text, values) : query({ name, text, values })
    // Deferred statements go just ahead of this one, each bound to its prepared statement; alone first, where
    // pg parses and records them, while one of them or this one is still to be parsed on the connection.
    const parsed = (name: string | undefined) =>
      name !== undefined && connection.parsedStatements?.[name] !== undefined
    if (
      commit &&
      session.deferred.length > 0 &&
      !(parsed(name) && session.deferred.every((d) => parsed(nameOf(d.text))))
    )
      return sendDeferred().then(() => named(text, values))
    session.beginPending = false
    const ahead = commit ? session.deferred.splice(0).map((d) => ({ ...d, name: nameOf(d.text)! })) : []
    // The statement's result among those the pipeline answers: after begin's and the deferred ones'.
    const own = (begin ? 1 : 0) + ahead.length
    return new Promise((resolve, reject) => {
      let settled = false
      const done = (error: Error | null, result: pg.QueryResult | pg.QueryResult[]) => {
        // pg may call back twice (a value that fails at bind, then the database's ready): the first counts.
        if (settled) return
        settled = true
        // What the database answered of the statement and the commit behind it: both, the transaction committed
        // (an error then is the client's own, reading the rows); the statement alone, the commit failed and the
        // database rolled back (or the connection was lost, and the client with it); neither, the statement
        // failed and the transaction is open, failed, for the caller to roll back.
        // A deferred statement ahead of it that failed is as the statement failing.
        const answered = Math.max(0, sent.completed - own)
        if (commit && (error === null || answered > 0)) {
          session.inTransaction = false
          session.ended = error === null || answered > 1 ? 'commit' : 'rollback'
        } else if (commit) session.ended = null
        if (error) reject(error)
        else resolve(Array.isArray(result) ? result[own] : result)
      }
      const sent = new Pipelined({ name, text, values }, { begin, commit, ahead }, done)
      if (commit) session.ended = 'pending'
      query(sent)
    })
  }
  /** Sends `begin` alone, prepared: a connection's first, or the one pending before a statement that can't carry it. */
  const beginNow = () => {
    session.beginPending = false
    return query({ name: BEGIN, text: 'begin' })
  }
  /**
   * With `deferBegin`: `begin` is answered at once and sent with the transaction's first statement
   * (`Pipelined`); a `commit` or `rollback` with nothing sent since needs no round trip. Null for a
   * statement that goes as it is. The first `begin` on a connection runs alone: it prepares `begin` there.
   */
  const deferred = (text: string): Promise<unknown> | null => {
    const statement = text.trim().toLowerCase()
    if (statement === 'begin' && !session.inTransaction) {
      session.inTransaction = true
      session.deferred = [] // (never left by a transaction that ended: never carried into the next)
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
  /** Fails a statement the way pg would: through a query object, a callback, or the promise returned. */
  const refuse = (text: unknown, callback: unknown, error: unknown) => {
    const own = text as { handleError?: (error: unknown, connection: unknown) => void } | null
    if (typeof own?.handleError === 'function') own.handleError(error, connection)
    else if (typeof callback === 'function') callback(error)
    else return Promise.reject(error)
    // What pg returns: a query object itself (pg-cursor reads through it), nothing for a callback.
    return typeof text === 'string' ? undefined : text
  }
  /**
   * After a statement sent with its commit behind it (`COMMITS`): the transaction's own `commit` is answered
   * with how it ended. When the commit failed, its `commit` or `rollback` sends a real `rollback` (a warning
   * only, where the database has already rolled back; it ends the transaction where the commit never ran, its
   * Parse or Bind cancelled) and answers ROLLBACK, as PostgreSQL's commit does in a failed transaction.
   * Anything else is refused, as is everything while the last statement is still being answered: nothing may
   * follow a transaction's last statement, and what did would run outside it.
   */
  const afterEnd = (text: unknown, callback: unknown, ended: 'pending' | 'commit' | 'rollback') => {
    const statement = typeof text === 'string' && callback === undefined ? text.trim().toLowerCase() : ''
    if (ended === 'pending') {
      return refuse(
        text,
        callback,
        new Error("the transaction's last statement is still being answered: nothing may follow it"),
      )
    }
    if (statement === 'commit' && ended === 'commit') {
      session.ended = null
      return Promise.resolve(answered('COMMIT'))
    }
    if ((statement === 'commit' || statement === 'rollback') && ended === 'rollback') {
      session.ended = null
      return query('rollback').then(() => answered('ROLLBACK'))
    }
    if (statement === 'rollback') session.ended = null
    const what = statement === 'rollback' ? 'rolled back' : 'followed by another statement'
    return refuse(
      text,
      callback,
      new Error(
        `the transaction ${ended === 'commit' ? 'committed' : 'ended'} with its last statement: it can't be ${what}`,
      ),
    )
  }
  /**
   * A statement with parameters, prepared (`named`): when the table of a `select *` changed under it, it runs
   * again where it was alone; when pg counts parsed a statement it closed, that is forgotten.
   */
  const run = (text: string, values: unknown[]): Promise<unknown> => {
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
  /** Sends the deferred statements now, one at a time, in order: what comes next is not the last statement. */
  const sendDeferred = async () => {
    for (const { text, values } of session.deferred.splice(0)) await run(text, values)
  }
  const wrapped = (text: unknown, values?: unknown, callback?: unknown): unknown => {
    if (session.ended !== null) return afterEnd(text, callback, session.ended)
    const parameters = typeof text === 'string' && Array.isArray(values) && values.length > 0
    // A deferred statement waits for the transaction's last (its begin sent: one ahead of it goes now).
    const deferring = deferBegin && session.inTransaction && !session.beginPending && callback === undefined
    if (deferring && parameters && (text as string).startsWith(DEFERRED)) {
      try {
        session.deferred.push({ text: text as string, values: (values as unknown[]).map(prepareValue) })
      } catch (error) {
        return Promise.reject(error)
      }
      return Promise.resolve(answered('DEFERRED'))
    }
    if (session.deferred.length > 0 && !(parameters && (text as string).startsWith(COMMITS))) {
      if (typeof text === 'string' && text.trim().toLowerCase() === 'rollback') session.deferred = []
      else if (typeof text !== 'string' || callback !== undefined)
        return refuse(
          text,
          callback,
          new Error('a deferred statement is pending: only a statement through Kysely may follow it'),
        )
      else return sendDeferred().then(() => wrapped(text, values))
    }
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
        (error: unknown) => refuse(text, callback, error),
      )
      // What pg returns: a query object itself (pg-cursor reads through it), nothing for a callback.
      if (typeof text !== 'string') return text
      return callback === undefined ? sent : undefined
    }
    return run(text, values)
  }
  ;(client as { query: unknown }).query = wrapped
}

/** What a statement answered without a round trip returns (`begin`, `commit` of nothing sent). */
function answered(command: string): Pick<pg.QueryResult, 'command' | 'rowCount' | 'rows' | 'fields'> {
  return { command, rowCount: null, rows: [], fields: [] }
}

/** The part of pg's Connection `Pipelined` writes to: `begin`'s and `commit`'s messages, and the Sync. */
interface PgConnection {
  parsedStatements?: Record<string, string>
  parse(message: { text: string }): void
  bind(message: { statement?: string; values: unknown[] }): void
  execute(message: { portal?: string }): void
  sync(): void
}

type Done = (error: Error | null, result: pg.QueryResult | pg.QueryResult[]) => void
const PgQuery = pg.Query as unknown as new (
  config: { name?: string | undefined; text: string; values: unknown[] },
  values: undefined,
  callback: Done,
) => {
  portal: string
  prepare(connection: PgConnection): void
  handleCommandComplete(message: unknown, connection: PgConnection): void
  /** pg's last step of `prepare` (pg 8): the statement's Execute, then the Sync that ends the round trip. */
  _getRows(connection: PgConnection, rows: number | undefined): void
}

/**
 * A statement with its transaction's `begin` before it, or its `commit` after it, or both: pg's own messages
 * for the statement, Bind and Execute of the prepared `begin` ahead of them, then of the `DEFERRED` statements
 * waiting (each prepared already), a `commit` (parsed unnamed: a few bytes) behind its Execute, and one Sync,
 * in one write and one round trip. The database runs them in
 * order and answers each: pg's query gathers their results, and the caller takes the statement's. A round
 * trip less a write on PostgreSQL for each (issue 25.3: ~0.2 ms of the server's CPU, its system calls and a
 * wake-up of each process, and as much of the database's).
 *
 * An error in the statement makes the database skip the rest up to the Sync, the commit included: the
 * transaction is left failed, as it would be after a `begin` of its own, and the caller rolls back. An error
 * in the commit (a deferred constraint) comes after the statement's result (`completed`): the database has
 * rolled back, and the statement fails with the commit's error, as the commit would have.
 */
class Pipelined extends PgQuery {
  /** Results the database has answered so far: the statement's follows begin's and the deferred ones', the commit's it. */
  completed = 0
  constructor(
    config: { name: string | undefined; text: string; values: unknown[] },
    private readonly around: {
      begin: boolean
      commit: boolean
      ahead: readonly (Deferred & { name: string })[]
    },
    done: Done,
  ) {
    super(config, undefined, done)
  }
  override prepare(connection: PgConnection): void {
    if (this.around.begin) {
      connection.bind({ statement: BEGIN, values: [] })
      connection.execute({})
    }
    // Deferred statements, prepared on the connection already (`named`): no Parse, whose ParseComplete pg
    // would take for its query's own statement's.
    for (const { name, values } of this.around.ahead) {
      connection.bind({ statement: name, values })
      connection.execute({})
    }
    super.prepare(connection)
  }
  override _getRows(connection: PgConnection, rows: number | undefined): void {
    if (!this.around.commit) {
      super._getRows(connection, rows)
      return
    }
    connection.execute({ portal: this.portal }) // (no `rows`: none are set here)
    connection.parse({ text: 'commit' })
    connection.bind({ values: [] })
    connection.execute({})
    connection.sync()
  }
  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    this.completed++
    super.handleCommandComplete(message, connection)
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
