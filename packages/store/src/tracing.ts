import { SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely'

/**
 * A span per database call (OpenTelemetry's database conventions: `db.system.name`, `db.query.text` — the
 * statement with its `$n` placeholders, never the values), a child of whatever span is active: the
 * request's. Through `@opentelemetry/api` only: without an SDK registered every call is a no-op, and a host
 * that registers its own gets these spans too. At the driver, not in a Kysely plugin, so the transaction's
 * own statements (begin, commit, savepoints) are seen, and a failed query ends its span with the error.
 */
export class TracedDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>()
  private readonly inner = new WeakMap<DatabaseConnection, DatabaseConnection>()

  /** The tracer of the provider registered when the store opened (a later one is another process's). */
  private readonly tracer = trace.getTracer('@orgkit/store')

  constructor(private readonly driver: Driver) {}

  init(): Promise<void> {
    return this.driver.init()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.driver.acquireConnection()
    let traced = this.wrapped.get(connection)
    if (!traced) {
      traced = tracedConnection(connection, this.tracer)
      this.wrapped.set(connection, traced)
      this.inner.set(traced, connection)
    }
    return traced
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driver.beginTransaction(connection, settings)
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.commitTransaction(connection)
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.rollbackTransaction(connection)
  }
  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['savepoint']>>[2],
  ) {
    return this.driver.savepoint!(connection, name, compile)
  }
  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2],
  ) {
    return this.driver.rollbackToSavepoint!(connection, name, compile)
  }
  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2],
  ) {
    return this.driver.releaseSavepoint!(connection, name, compile)
  }

  /** The driver releases its own connection object (kysely's PostgresDriver calls a private method on it). */
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(this.inner.get(connection) ?? connection)
  }

  destroy(): Promise<void> {
    return this.driver.destroy()
  }
}

/** `select`, `insert`…: the statement's first word, which names the span (a low-cardinality name). */
const operationOf = (sql: string) => /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'query'

function startSpan(tracer: Tracer, query: CompiledQuery) {
  const operation = operationOf(query.sql)
  return tracer.startSpan(operation, {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'postgresql',
      'db.operation.name': operation,
      'db.query.text': query.sql,
    },
  })
}

function failed(span: ReturnType<typeof startSpan>, error: unknown): never {
  span.recordException(error as Error)
  span.setStatus({ code: SpanStatusCode.ERROR })
  span.end()
  throw error
}

function tracedConnection(connection: DatabaseConnection, tracer: Tracer): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const span = startSpan(tracer, query)
      let result: QueryResult<R>
      try {
        result = await connection.executeQuery<R>(query)
      } catch (error) {
        failed(span, error)
      }
      if (result.rows.length > 0) span.setAttribute('db.response.returned_rows', result.rows.length)
      span.end()
      return result
    },
    async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
      const span = startSpan(tracer, query)
      try {
        yield* connection.streamQuery<R>(query, chunkSize)
      } catch (error) {
        failed(span, error)
      }
      span.end()
    },
  }
}
