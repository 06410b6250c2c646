import {
  Authorizer,
  type Change,
  type CompiledModel,
  OrgkitError,
  STATE_FORMAT,
  stateFingerprint,
} from '@orgkit/core'
import {
  CHANGES_CHANNEL,
  changesSince,
  type Db,
  type Executor,
  engineSnapshots,
  type FeedMac,
  type FeedRead,
  type Store,
  snapshotSource,
  streamSnapshot,
} from '@orgkit/store'

/**
 * The engine's state kept in the database (issue 25.4): authenticated with `mac` (the server's keyring,
 * security/engine-state-mac.ts), and restored only while its lineage — the load from rows it descends from —
 * is younger than `maxAgeMs`.
 */
export interface EngineStateOptions {
  mac: engineSnapshots.StateMac
  maxAgeMs: number
}

/** Entries read from the change feed a page at a time. */
const FEED_PAGE = 1000

/**
 * A change-feed entry that fails its MAC, or is missing (changes repository): not applied, whatever it says,
 * nor skipped. Its text says what it may mean, for the log: the database was written by someone without the
 * server's key, or an instance runs with a keyring that lacks this one's key.
 */
export class FeedEntryRefused extends Error {
  constructor(
    readonly revision: number,
    readonly reason: Extract<FeedRead, { refused: unknown }>['refused'],
  ) {
    super(
      `the change feed's entry at revision ${revision} is refused (${reason}): ${
        reason === 'unsigned'
          ? 'it has no MAC (written before migration 0022, by an older version, or blanked)'
          : reason === 'key'
            ? 'its MAC is under a key ORGKIT_SECRET_KEY does not hold (another keyring, or a key dropped before `orgkit secrets rotate`)'
            : reason === 'mac'
              ? 'its MAC does not verify: it was written or altered without ORGKIT_SECRET_KEY'
              : 'it is missing: deleted, before a later entry or from the tail the revision row says the feed has'
      }; not applied, the engine reads rows instead`,
    )
    this.name = 'FeedEntryRefused'
  }
}

/** Who follows what an `EngineReplica` applies (`watch`). */
export interface ReplicaWatcher {
  applied(revision: number, changes: readonly Change[] | null): void
  /** The replica stopped: the server is closing. */
  stopped(): void
}

/**
 * This instance's copy of the engine: a snapshot at some revision, then the change feed applied in
 * revision order. Writes call `catchUp` after they commit; `atLeast` makes a check wait for a revision a
 * client has seen (no "new enemy": a revoke is never answered from older state).
 */
export class EngineReplica {
  authorizer!: Authorizer
  revision = 0
  /** Whether a LISTEN connection is up (false: polling only). */
  listening = false
  private catching: Promise<void> | null = null
  private again = false
  /**
   * The authorizer refused a change part-way (`apply` is not atomic over an entry's changes): nothing more
   * is applied to it, and the reload that follows replaces it (its rows are at least as new).
   */
  private damaged = false
  private poller: NodeJS.Timeout | null = null
  private unlisten: (() => Promise<void>) | null = null
  private stopped = false
  private readonly watchers = new Set<ReplicaWatcher>()

  private readonly onResync: (error: unknown, revision: number) => void
  /** Where the state is kept and how it is trusted; null: the engine always loads from rows, saves nothing. */
  private readonly state: EngineStateOptions | null
  /** How the change feed is authenticated (security/change-feed-mac.ts): what this instance writes, it MACs. */
  readonly feedMac: FeedMac
  /** How a reload reads the rows (the store's `streamSnapshot`; a test holds one back). */
  private readonly readRows: typeof streamSnapshot

  constructor(
    private readonly db: Db,
    private readonly compiled: CompiledModel,
    private readonly clock: () => number,
    options: {
      feedMac: FeedMac
      onResync?: (error: unknown, revision: number) => void
      state?: EngineStateOptions | null
      readRows?: typeof streamSnapshot
    },
  ) {
    this.feedMac = options.feedMac
    this.readRows = options.readRows ?? streamSnapshot
    this.onResync = options.onResync ?? (() => {})
    this.state = options.state ?? null
  }

  /** How the last load went: restored from a stored state (and from which revision), or read from rows. */
  loadedFrom: { kind: 'state'; revision: number } | { kind: 'rows'; refused: string | null } = {
    kind: 'rows',
    refused: null,
  }
  /** How long `load` took, in ms (logged at start; the start bench prints it). */
  loadMs = 0
  /** The revision of the state last written or restored (engine-state snapshots, issue 25.4). */
  savedRevision = 0
  /**
   * When this engine's lineage was built from rows (epoch ms, this replica's clock): set by a load from rows,
   * carried by a restore from the state, and saved with it, so a state re-saved from restore to restore
   * still dies at the maximum age and a derived-data bug in it does not live for ever.
   */
  lineageAt = 0
  /** The migrations applied when this lineage read its rows (the store's `migrationMark`), saved with it. */
  private migration = ''
  private saving: Promise<boolean> | null = null

  /**
   * Loads the engine: from the stored state when `useState`, this replica keeps one and the store trusts the
   * one there (its MAC, format, model, lineage age, digest, the feed still holding its revision, no migration
   * since), caught up from the change feed after it; else from rows. A state that restores but whose feed the
   * engine refuses falls back to rows too (the resync in `pull`).
   */
  async load(useState = false): Promise<void> {
    const started = performance.now()
    if (useState && this.state) {
      const restored = await this.restoreState().catch((error: unknown) => {
        this.loadedFrom = { kind: 'rows', refused: `unreadable: ${String(error)}` }
        return false
      })
      if (restored) {
        this.loadMs = performance.now() - started
        return
      }
    }
    await this.reloadWith(this.db)
    this.loadMs = performance.now() - started
  }

  private async restoreState(): Promise<boolean> {
    const { mac, maxAgeMs } = this.state!
    const expect = { ...this.stateKey(), lineageAfter: this.clock() - maxAgeMs }
    const read = await engineSnapshots.readEngineSnapshot(this.db, expect, mac)
    if (read.bytes === null) {
      this.loadedFrom = { kind: 'rows', refused: read.reason === 'none' ? null : read.reason }
      return false
    }
    const { authorizer, revision } = Authorizer.restore(this.compiled, read.bytes, { clock: this.clock })
    if (revision !== read.revision) {
      this.loadedFrom = { kind: 'rows', refused: 'revision' }
      return false
    }
    this.authorizer = authorizer
    this.revision = revision
    this.savedRevision = revision
    this.lineageAt = read.lineageAt
    this.migration = read.migration
    this.loadedFrom = { kind: 'state', revision }
    // Entries deleted after the state's revision, the feed's tail included, are refused as `missing` (the
    // feed read brings the revision row): the catch-up then reads rows.
    await this.catchUp()
    return true
  }

  private stateKey() {
    return { format: STATE_FORMAT, model: stateFingerprint(this.compiled.model) }
  }

  /**
   * Writes the engine's state as it is now, beside its revision, when it is `minRevisions` or more past the
   * one last written (0: whenever it is newer). The encoding runs synchronously, on this thread (see
   * docs/performance.md for its length at 1M bindings); the write is asynchronous. One at a time; resolves
   * to whether a state was written (never without state options). MACed with the keyring's current key.
   */
  saveState(minRevisions = 0): Promise<boolean> {
    if (this.saving) return this.saving
    const revision = this.revision
    if (
      !this.state ||
      revision === 0 ||
      revision <= this.savedRevision ||
      revision - this.savedRevision < minRevisions
    )
      return Promise.resolve(false)
    const bytes = this.authorizer.encodeState(revision)
    const header = { revision, ...this.stateKey(), lineageAt: this.lineageAt, migration: this.migration }
    this.saving = engineSnapshots
      .writeEngineSnapshot(this.db, header, bytes, this.state.mac)
      .then((written) => {
        if (written) this.savedRevision = Math.max(this.savedRevision, revision)
        return written
      })
      .finally(() => {
        this.saving = null
      })
    return this.saving
  }

  /**
   * Loads the engine from rows. Reloads run side by side (a catch-up pass, a write's catch-up inside its
   * transaction, a write's own refused change), and another pass may apply the feed meanwhile: rows read at
   * a revision older than the engine's by the time they are loaded are dropped, so the revision never goes
   * back (a check that waited for a revision would otherwise be answered without it: a revoke undone until
   * the next catch-up). Resolves to whether this load replaced the engine.
   *
   * `head`: a write's, read under its org's lock (every write to that org committed before it is at or
   * below it). Once the reload has its connection (after the wait for the pool beside writes, where
   * reloads of writes that hit one refused entry queue), it reads nothing when the engine, not damaged, has
   * reached that head meanwhile (another reload or catch-up): the write would not have caught up at all had
   * that happened before its lock (`write`'s check), so it authorizes against what it would have then.
   */
  private async reloadWith(executor: Executor, head?: number): Promise<boolean> {
    const needless = () => head !== undefined && !this.damaged && this.revision >= head
    if (needless()) return false
    const loading = Authorizer.loading(this.compiled, { clock: this.clock })
    // A new lineage: from before the rows are read, so it is never younger than what it reflects.
    const lineageAt = this.clock()
    // Within a write's transaction, one snapshot of its own beside it on PostgreSQL (the write's statements each
    // see the latest commits); on PGlite the write's, which nothing else can commit beside (`snapshotSource`).
    const source = snapshotSource(this.db, executor)
    // Before the rows too: a migration between the two makes the state look older than it is (refused), never
    // newer.
    const migration = await engineSnapshots.migrationMark(source)
    const revision = await this.readRows(source, loading.add, () => !needless())
    if (revision === null) return false
    // A damaged engine does not move, so the rows of the reload its damage asked for are never older.
    if (revision < this.revision) return false
    this.authorizer = loading.done()
    this.damaged = false
    this.revision = revision
    this.lineageAt = lineageAt
    this.migration = migration
    // After a restored state whose feed the engine refused (`pull`'s resync), say so.
    const refused = this.loadedFrom.kind === 'rows' ? this.loadedFrom.refused : 'a change after the state'
    this.loadedFrom = { kind: 'rows', refused }
    return true
  }

  /** Starts over from rows, telling the watchers when the engine was replaced (not when a newer one stays). */
  private async resync(executor: Executor, head?: number): Promise<void> {
    if (await this.reloadWith(executor, head)) this.tell(this.revision, null)
  }

  /** Applies a revision's changes; one the authorizer refuses part-way leaves it `damaged`. */
  private applyChanges(changes: readonly Change[]): void {
    try {
      this.authorizer.apply(changes)
    } catch (error) {
      this.damaged = true
      throw error
    }
  }

  /** Applies every committed change after our revision. Concurrent callers share one pass. */
  catchUp(): Promise<void> {
    // A call during a running pass may concern a commit that pass no longer sees: ask for one more pass.
    this.again = true
    this.catching ??= (async () => {
      while (this.again) {
        this.again = false
        await this.pull()
      }
    })().finally(() => {
      this.catching = null
    })
    return this.catching
  }

  /**
   * Catches up through a transaction's own connection. A write calls this once it holds its org's lock:
   * every earlier write to that org has committed by then, so what it authorizes against is current.
   * `head`: the feed's head as read once the lock was held (a reload it needs stops short when the engine
   * reached it meanwhile: `reloadWith`).
   */
  catchUpWithin(executor: Executor, head?: number): Promise<void> {
    return this.pull(executor, head)
  }

  private async pull(executor: Executor = this.db, head?: number): Promise<void> {
    for (;;) {
      const batch = await changesSince(executor, this.revision, this.feedMac, FEED_PAGE)
      for (const entry of batch) {
        const { revision } = entry
        if (revision <= this.revision) continue // another pass applied it meanwhile
        // Another pass broke the engine and is reloading it: this one reloads too (within its transaction).
        if (this.damaged) return this.resync(executor, head)
        try {
          // The feed read refuses a revision missing from it (`missing`); this is for a replica moved by
          // another pass meanwhile (a reload) to somewhere the page does not continue.
          if (revision !== this.revision + 1)
            throw new Error(`the change feed holds no revision ${this.revision + 1} (next: ${revision})`)
          // Fail closed: an entry that is not the one written under the server's key (a rewritten one, or
          // one moved from another revision, after an older stored state was put back) is never applied, and
          // a missing one never skipped — a revoke deleted from the feed would otherwise stay granted here.
          // Inside a write's transaction this reloads under the org's lock, so the write is authorized
          // against the rows (a refusal instead would lock every writer to the org out until a reload).
          if ('refused' in entry) throw new FeedEntryRefused(revision, entry.refused)
          this.applyChanges(entry.changes)
        } catch (error) {
          // A committed change the graph refuses would wedge this replica for good: start over from a
          // fresh snapshot instead (it reflects the database, whatever the feed said), and say so.
          this.onResync(error, revision)
          return this.resync(executor, head)
        }
        this.revision = revision
        this.tell(revision, entry.changes)
      }
      // A page ends early at a refusal: one passed over (applied meanwhile) leaves the rest still to read.
      const last = batch.at(-1)
      if (batch.length < FEED_PAGE && !(last && 'refused' in last)) return
    }
  }

  /**
   * Whether this replica has applied `revision`, after catching up for at most `waitMs`. False means the
   * caller should answer from the database (hot/deciders.ts), which has it if it was ever committed.
   */
  async reached(revision: number | undefined, waitMs = 50): Promise<boolean> {
    if (revision === undefined || this.revision >= revision) return true
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs)
    })
    try {
      await Promise.race([this.catchUp().catch(() => {}), timeout])
    } finally {
      clearTimeout(timer)
    }
    return this.revision >= revision
  }

  /**
   * A write this instance just committed as `revision`: when it is the next revision, its changes are
   * applied from memory (as the feed holds them: through JSON), with no read of the feed; otherwise (another
   * writer's revision in between, not yet seen) the replica catches up from the database. Synchronous up
   * to the apply, so a catch-up pass running meanwhile sees the revision applied and skips it.
   */
  async committed(revision: number, changes: readonly Change[]): Promise<void> {
    if (this.damaged || this.revision !== revision - 1) return this.atLeast(revision)
    const applied = JSON.parse(JSON.stringify(changes)) as Change[]
    try {
      this.applyChanges(applied)
    } catch (error) {
      // As in `pull`: a change the graph refuses means a fresh snapshot, never a half-applied one.
      this.onResync(error, revision)
      return this.resync(this.db)
    }
    this.revision = revision
    this.tell(revision, applied)
  }

  /** Resolves once this replica has applied `revision`, catching up from the database if it has to. */
  async atLeast(revision: number | undefined): Promise<void> {
    if (revision === undefined || this.revision >= revision) return
    await this.catchUp()
    if (this.revision < revision) {
      throw new OrgkitError('REVISION_NOT_REACHED', `revision ${revision} is not committed`, {
        revision,
        applied: this.revision,
      })
    }
  }

  /**
   * Keeps this replica current with writes made by other instances: woken by NOTIFY on every commit
   * (PostgreSQL), and polling every `pollMs` whatever happens, so a lost notification or a dropped
   * listening connection delays a change by one poll at most, never loses it.
   */
  async follow(
    store: Store,
    options: { pollMs?: number; onError?: (error: unknown) => void } = {},
  ): Promise<void> {
    const onError = options.onError ?? (() => {})
    const pull = () => void this.catchUp().catch(onError)
    this.poller = setInterval(pull, options.pollMs ?? 1000)
    this.poller.unref()
    if (!store.listen) return
    // A notification names the revision committed: one this replica has applied (its own writes, mostly)
    // needs no read of the feed.
    const notified = (payload: string) => {
      const revision = Number(payload)
      if (!(Number.isInteger(revision) && revision > 0 && revision <= this.revision)) pull()
    }
    let delay = 100
    const subscribe = async (): Promise<void> => {
      if (this.stopped) return
      try {
        this.unlisten = await store.listen!(CHANGES_CHANNEL, notified, (error) => {
          this.listening = false
          onError(error)
          setTimeout(() => void subscribe(), delay).unref()
          delay = Math.min(delay * 2, 5000)
        })
        this.listening = true
        delay = 100
        pull() // whatever committed while we were not listening
      } catch (error) {
        onError(error)
        setTimeout(() => void subscribe(), delay).unref()
        delay = Math.min(delay * 2, 5000)
      }
    }
    await subscribe()
  }

  /**
   * Tells `watcher` of every revision this replica applies, in order, with its changes — or with `null`
   * when it reloaded from a snapshot and the changes in between are only in the database. The change feed
   * the server gives hosts (routes/engine.ts) follows this. Returns how to stop.
   */
  watch(watcher: ReplicaWatcher): () => void {
    // A follower arriving while the server closes must end too, or it would hold the HTTP server open.
    if (this.stopped) {
      queueMicrotask(() => watcher.stopped())
      return () => {}
    }
    this.watchers.add(watcher)
    return () => this.watchers.delete(watcher)
  }

  private tell(revision: number, changes: readonly Change[] | null): void {
    for (const watcher of this.watchers) watcher.applied(revision, changes)
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const watcher of this.watchers) watcher.stopped()
    this.watchers.clear()
    if (this.poller) clearInterval(this.poller)
    await this.unlisten?.()
    await this.catching?.catch(() => {})
    await this.saving?.catch(() => {})
  }
}
