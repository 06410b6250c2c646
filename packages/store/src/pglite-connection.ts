import { EventEmitter } from 'node:events'
import { type PGlite, protocol } from '@electric-sql/pglite'

type Serialize = typeof protocol.serialize
type Message = Awaited<ReturnType<PGlite['execProtocolStream']>>[number]

/**
 * node-postgres' connection to the embedded database: what `@electric-sql/pglite/node-postgres` is, but a
 * statement's messages (parse, bind, describe, execute, sync — what node-postgres corks into one socket
 * write for a server) reach PGlite in one call, not one call each. Every call enters PostgreSQL's loop in
 * WebAssembly, parses its answer and waits for its promise; a write's dozen statements made ~35 calls,
 * ~0.6 ms of CPU (docs/performance.md). PostgreSQL reads a batch exactly as it reads them off a socket:
 * in order, and after an error it skips to the Sync.
 *
 * Messages wait for the next Sync, Flush or simple query (each ends what node-postgres sends at once), then
 * go in order, one batch after the other; the answers are emitted as events by name, as node-postgres'
 * own connection does. All of a pool's clients share this one connection: PGlite is one session.
 */
export class PgliteConnection extends EventEmitter {
  /** node-postgres keeps its record of prepared statements on the connection. */
  parsedStatements: Record<string, string> = {}
  submittedNamedStatements: Record<string, string> = {}
  _connecting = false
  readonly stream = { destroy: () => this.end() }
  private pending: Uint8Array[] = []
  /** The batches sent so far, in order: each call waits for the one before. */
  private queue: Promise<unknown>
  private emitMessages = false
  /**
   * PGlite's sync after a call copies a browser's filesystem (IndexedDB, OPFS) out. On Node's own files
   * (NODEFS) and in memory it does nothing, yet takes a mutex and a few promise turns: ~50 µs a statement
   * in the write path (issue 25.3: a trivial transaction 483–498 → 325–341 µs of CPU, alternated, load 6–7).
   */
  private readonly syncToFs: boolean

  constructor(private readonly pglite: PGlite) {
    super()
    // The no-op cases named, not the browsers' (idb://, opfs-ahp://, memfs2opfs://, and any PGlite adds).
    const dataDir = pglite.dataDir ?? ''
    this.syncToFs = !(
      dataDir.startsWith('memory://') ||
      dataDir.startsWith('file://') ||
      !dataDir.includes('://')
    )
    this.queue = pglite.waitReady
    // node-postgres listens for 'message' only when asked to hand every message over (pg-cursor, COPY).
    this.on('newListener', (event) => {
      if (event === 'message') this.emitMessages = true
    })
  }

  async connect(): Promise<void> {
    this._connecting = true
    await this.pglite.waitReady
    process.nextTick(() => this.emit('readyForQuery'))
  }

  // No network: nothing to negotiate.
  requestSsl(): void {}
  startup(): void {}
  cancel(): void {}
  password(): void {}
  ref(): void {}
  unref(): void {}

  parse(query: Parameters<Serialize['parse']>[0]): void {
    this.pending.push(protocol.serialize.parse(query))
  }
  bind(config: Parameters<Serialize['bind']>[0]): void {
    this.pending.push(protocol.serialize.bind(config))
  }
  describe(portal: Parameters<Serialize['describe']>[0]): void {
    this.pending.push(protocol.serialize.describe(portal))
  }
  execute(config: Parameters<Serialize['execute']>[0]): void {
    this.pending.push(protocol.serialize.execute(config))
  }
  close(portal: Parameters<Serialize['close']>[0]): void {
    this.pending.push(protocol.serialize.close(portal))
  }
  sync(): void {
    this.send(protocol.serialize.sync())
  }
  flush(): void {
    this.send(protocol.serialize.flush())
  }
  query(text: string): void {
    this.send(protocol.serialize.query(text))
  }
  sendCopyFromChunk(chunk: ArrayBuffer): void {
    this.send(protocol.serialize.copyData(chunk))
  }
  endCopyFrom(): void {
    this.send(protocol.serialize.copyDone())
  }
  sendCopyFail(message: string): void {
    this.send(protocol.serialize.copyFail(message))
  }

  end(): void {
    this.queue = this.queue.then(() => this.emit('end'))
    for (const event of this.eventNames()) if (event !== 'newListener') this.removeAllListeners(event)
    this.emitMessages = false
  }

  /** Sends what waited and `last` as one call, after the calls before it. */
  private send(last: Uint8Array): void {
    const batch = this.pending.length === 0 ? last : concat([...this.pending, last])
    this.pending = []
    this.queue = this.queue
      .then(() => this.pglite.execProtocolStream(batch, { throwOnError: false, syncToFs: this.syncToFs }))
      .then((messages) => {
        for (const message of messages) this.deliver(message)
      })
      .catch((error: unknown) => {
        // Kept resolved, so one refused call (PGlite closed under it) stops none after it, nor 'end'; with
        // no listener (its client has ended) nobody waits for the answer, and emitting would throw here.
        if (this.listenerCount('error') > 0) this.emit('error', error)
      })
  }

  private deliver(message: Message): void {
    if (this.emitMessages) this.emit('message', message)
    this.emit(message.name === 'error' ? 'errorMessage' : message.name, message)
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

/** A `pg.Pool` configuration over PGlite through `PgliteConnection` (what `createPgConfig` makes, batched). */
export function pglitePoolConfig(pglite: PGlite) {
  return {
    connection: new PgliteConnection(pglite),
    // Placeholders node-postgres expects; nothing reads them on an in-process connection.
    user: 'postgres',
    password: 'dummy',
    database: 'postgres',
    host: 'localhost',
    port: 5432,
    max: 1,
  }
}
