import { type Change, type Model, OrgkitError, type SnapshotPart } from '@orgkit/core'
import { changesSince, currentRevision, type FeedRead, streamSnapshot } from '@orgkit/store'
import { type Actor, type Ctx, isPlatform } from './context.ts'

/**
 * What a host product's in-process replica (@orgkit/sdk/replica) loads and follows: the engine's state at a
 * revision, then every revision's changes after it, in order — the same feed server instances follow
 * (engine-replica.ts). It holds every org's structure, so only a platform token reads it, not acting as
 * anyone (a user could otherwise read everyone's roles).
 */
export function assertFeedReader(actor: Actor): void {
  if (!isPlatform(actor))
    throw new OrgkitError('PLATFORM_ONLY', 'only a platform token reads the engine feed')
}

export interface FeedEntry {
  revision: number
  changes: readonly Change[]
}

/**
 * The snapshot as JSON text, in pieces: `{"model":…,"parts":[{kind,records},…],"revision":N}`. Read whole
 * inside one repeatable-read transaction before the first byte is sent: a slow client must not hold a
 * transaction open (on the embedded database that is the only connection). The pieces are strings, far
 * smaller on the heap than the records they came from.
 */
export async function snapshotText(ctx: Ctx, actor: Actor): Promise<string[]> {
  assertFeedReader(actor)
  const pieces: string[] = [`{"format":1,"model":${JSON.stringify(ctx.model satisfies Model)},"parts":[`]
  let first = true
  const revision = await streamSnapshot(ctx.db, (part: SnapshotPart) => {
    pieces.push((first ? '' : ',') + JSON.stringify(part))
    first = false
  })
  pieces.push(`],"revision":${revision}}`)
  return pieces
}

/** At most this many revisions per answer of the JSON form (one read of the change log). */
const PAGE = 1000

/**
 * Where a follower starts: after `revision`, which this server's database must have reached — a larger
 * one means the client followed another database (or this one was reset) and must load the snapshot again.
 */
export async function assertKnown(ctx: Ctx, revision: number): Promise<void> {
  if (revision <= ctx.engine.revision) return
  if (await ctx.engine.reached(revision, 1000)) return
  const head = await currentRevision(ctx.db)
  if (revision > head)
    throw new OrgkitError('REVISION_NOT_REACHED', `revision ${revision} was never committed here`, {
      revision,
      head,
    })
}

/**
 * The JSON form (long polling): the revisions after `after`, at most a page of them, waiting up to
 * `waitMs` for the next one when there are none yet. `head` is this server's applied revision.
 */
export async function changesAfter(
  ctx: Ctx,
  actor: Actor,
  after: number,
  waitMs: number,
  signal?: AbortSignal,
): Promise<{ head: number; changes: FeedEntry[] }> {
  assertFeedReader(actor)
  await assertKnown(ctx, after)
  if (ctx.engine.revision <= after && waitMs > 0) await nextRevision(ctx, after, waitMs, signal)
  const upTo = ctx.engine.revision
  const read = upTo > after ? await changesSince(ctx.db, after, ctx.engine.feedMac, PAGE) : []
  const changes: FeedEntry[] = []
  for (const entry of read) {
    if (entry.revision > upTo) break
    if ('refused' in entry) throw notServable(entry)
    changes.push(entry)
  }
  return { head: upTo, changes }
}

/**
 * A follower whose next entry fails its MAC or is missing (changes repository) is never sent it, nor the ones
 * after it: it must load the snapshot again (read from rows), which @orgkit/sdk/replica does on
 * REVISION_NOT_REACHED.
 */
function notServable(entry: Extract<FeedRead, { refused: unknown }>): OrgkitError {
  const what = entry.refused === 'missing' ? 'is missing' : 'fails its MAC'
  return new OrgkitError(
    'REVISION_NOT_REACHED',
    `the change feed's entry at revision ${entry.revision} ${what}: load the snapshot again`,
    { revision: entry.revision },
  )
}

/** Resolves once the engine has applied a revision after `after`, `waitMs` passed, or the server stops. */
function nextRevision(ctx: Ctx, after: number, waitMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      unwatch()
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, waitMs)
    const unwatch = ctx.engine.watch({
      applied: (revision) => {
        if (revision > after) done()
      },
      stopped: done,
    })
    signal?.addEventListener('abort', done)
  })
}

/** How the server-sent events form writes: one event per revision, and a heartbeat with the head. */
export interface FeedSink {
  change(entry: FeedEntry): Promise<void>
  head(revision: number): Promise<void>
  /** The follower must load the snapshot again (`notServable`): the last thing this stream says. */
  reload(problem: OrgkitError): Promise<void>
  /** Aborted when the client goes. */
  readonly signal: AbortSignal
}

/** Revisions kept in memory for a follower before it is sent the rest from the database instead. */
const QUEUE_LIMIT = 10_000

/**
 * The server-sent events form: every revision after `after`, in order, each exactly once, until the client
 * goes or the server stops. Revisions this server's engine applies arrive through `EngineReplica.watch` and
 * are sent from memory; when they don't continue the follower's sequence (it is catching up, the queue
 * overflowed, or the engine reloaded from a snapshot) the gap is read from the change log. A heartbeat
 * every `heartbeatMs` carries the head, so the client can tell its lag and a silent connection from a dead one.
 * The caller has checked `after` (`assertKnown`) before its answer started.
 */
export async function followChanges(
  ctx: Ctx,
  actor: Actor,
  after: number,
  sink: FeedSink,
  heartbeatMs = 15_000,
): Promise<void> {
  assertFeedReader(actor)
  let queue: FeedEntry[] = []
  let overflowed = false
  let stopped = false
  let wake: (() => void) | null = null
  const awake = () => wake?.()
  sink.signal.addEventListener('abort', awake)
  const unwatch = ctx.engine.watch({
    applied: (revision, changes) => {
      if (changes === null || queue.length >= QUEUE_LIMIT) {
        queue = []
        overflowed = true
      } else if (!overflowed) queue.push({ revision, changes })
      wake?.()
    },
    stopped: () => {
      stopped = true
      wake?.()
    },
  })
  try {
    let sent = after
    await sink.head(ctx.engine.revision)
    while (!stopped && !sink.signal.aborted) {
      while (queue.length > 0 && queue[0]!.revision <= sent) queue.shift()
      if (queue.length > 0 && queue[0]!.revision === sent + 1) {
        const entry = queue.shift()!
        await sink.change(entry)
        sent = entry.revision
        continue
      }
      if (ctx.engine.revision > sent) {
        // Behind what the engine applied and the queue doesn't continue from here: read the gap.
        overflowed = false
        const upTo = ctx.engine.revision
        for (const entry of await changesSince(ctx.db, sent, ctx.engine.feedMac, PAGE)) {
          if (entry.revision > upTo || sink.signal.aborted) break
          if ('refused' in entry) {
            await sink.reload(notServable(entry))
            // Held open, silent, until the client goes: a client from before the `reload` event would
            // otherwise reconnect at once and be told the same, in a loop; this way only after its silence
            // timeout.
            while (!stopped && !sink.signal.aborted) await new Promise<void>((resolve) => (wake = resolve))
            return
          }
          await sink.change(entry)
          sent = entry.revision
        }
        continue
      }
      const beat = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), heartbeatMs)
        wake = () => {
          clearTimeout(timer)
          resolve(false)
        }
      })
      wake = null
      if (beat && !sink.signal.aborted) await sink.head(ctx.engine.revision)
    }
  } finally {
    unwatch()
    sink.signal.removeEventListener('abort', awake)
  }
}
