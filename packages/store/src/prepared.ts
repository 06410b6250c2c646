import { createHash } from 'node:crypto'
import type pg from 'pg'

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
export function prepareStatements(client: pg.PoolClient | pg.Client): void {
  // PGlite's adapter gives every client the same connection — one session, and pg's record of what it
  // has parsed there — so a client the pool makes after an idle one closed finds its statements prepared.
  const connection = (client as unknown as { connection: object }).connection
  const session = sessions.get(connection) ?? { names: new Map(), generation, inTransaction: false }
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
    return name === undefined ? query(text, values) : query({ name, text, values })
  }
  ;(client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // Without parameters pg sends a simple query (a migration's several statements, begin, commit): as is.
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
      if (typeof text === 'string') session.inTransaction = transactionAfter(text, session.inTransaction)
      return query(text, values, callback)
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

/** Whether the session is in a transaction after this simple statement (Kysely's begin, commit, rollback). */
function transactionAfter(text: string, before: boolean): boolean {
  const statement = text.trimStart().slice(0, 20).toLowerCase()
  if (statement.startsWith('begin') || statement.startsWith('start transaction')) return true
  if (statement.startsWith('rollback to')) return before
  if (statement.startsWith('commit') || statement.startsWith('rollback') || statement.startsWith('end'))
    return false
  return before
}
