import { createHash } from 'node:crypto'
import type pg from 'pg'

/** Distinct statements kept prepared on a connection; past this, the rest run unnamed (parsed each time). */
const MAX_PREPARED = 500

const namesBySession = new WeakMap<object, Map<string, string>>()

/**
 * Runs each distinct statement Kysely sends as a named prepared statement on this connection, so the
 * database parses and plans it once rather than on every call. Worth it on the embedded database: PGlite
 * parses and plans in WebAssembly, on the server's own thread, and a write's dozen statements were a
 * large share of its CPU time. Only there: this process runs the migrations before it serves (they send
 * no parameterised statement, so none is prepared before a table changes shape), and no other process
 * changes its tables, so a prepared `select *` never meets a table whose columns changed
 * under it (PostgreSQL fails such a statement with "cached plan must not change result type", which a
 * server shared with an instance being upgraded could see). The names come from the statement's text, so
 * the same statement always maps to the same name; `in (…)` lists of other lengths are other statements,
 * and their number is capped.
 */
export function prepareStatements(client: pg.PoolClient | pg.Client): void {
  // PGlite's adapter gives every client the same connection — one session, and pg's record of what it
  // has parsed there — so a client the pool makes after an idle one closed finds its statements prepared.
  const connection = (client as unknown as { connection: object }).connection
  const names = namesBySession.get(connection) ?? new Map<string, string>()
  namesBySession.set(connection, names)
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // Without parameters pg sends a simple query (a migration's several statements, begin, commit): as is.
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined)
      return query(text, values, callback)
    let name = names.get(text)
    if (name === undefined && names.size < MAX_PREPARED) {
      name = `orgkit_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
      names.set(text, name)
    }
    return name === undefined ? query(text, values) : query({ name, text, values })
  }
}
