/**
 * An in-process replica of Orgkit's permission engine for the host product's own servers: it loads the
 * engine's snapshot (`GET /v1/engine/snapshot`), follows the change feed (`GET /v1/engine/changes`, as
 * server-sent events resumed from its revision, or by long polling when a stream can't be held), and answers
 * checks and lists in memory with @orgkit/core's engine — the same code the server runs, so the answers are
 * the server's. A subpath of its own (`@orgkit/sdk/replica`) because it carries the engine: the browser
 * client (`@orgkit/sdk`) stays small.
 *
 *   const replica = await createReplica({ url: process.env.ORGKIT_URL!, token: process.env.ORGKIT_TOKEN! })
 *   const { allowed } = replica.checkNow(userId, 'app.upload_bundle', { type: 'app', id: appId })
 */
import {
  Authorizer,
  type Change,
  CompiledModel,
  type Decision,
  type Model,
  ORG,
  OrgkitError,
  type SnapshotPart,
  type Subject,
  type Target,
} from '@orgkit/core'
import { OrgkitApiError, type Problem } from './index.ts'
import { type SseEvent, sseEvents } from './sse.ts'

export interface ReplicaOptions {
  /** Orgkit's origin, e.g. `https://orgkit.internal:3000`. */
  url: string
  /** A platform token (`okp_…`): the feed holds every org's structure, so nothing less may read it. */
  token: string
  fetch?: typeof fetch
  /** Wall-clock milliseconds: time-bound roles expire by it. Default `Date.now`. */
  clock?: () => number
  /** How long a check with `atLeastRevision` waits for the feed before asking the API. Default 200 ms. */
  waitMs?: number
  /** Silence on the stream after which the connection counts as dead (the server beats every 15 s). */
  silenceMs?: number
  /** How long a long poll waits on the server for the next revision. Default 20 s. */
  pollWaitMs?: number
  /** Told of each trouble while following (the replica keeps trying: it reconnects, polls, or reloads). */
  onError?: (error: unknown) => void
  /** Told of each revision applied, in order, exactly once (a snapshot reload says so with `reloaded`). */
  onApplied?: (revision: number, how: 'change' | 'reloaded') => void
}

export type ResourceRef = { type: string; id: string } | { org: string }
/** A user id, or a subject as the API takes it. */
export type SubjectRef = string | Subject

export interface ReplicaLag {
  /** The revision this replica has applied. */
  revision: number
  /** The newest revision the server has told of. */
  head: number
  /** Revisions behind the server's head: `head - revision`. */
  behind: number
  /** Milliseconds since the server last said anything (a change, a heartbeat, a poll's answer). */
  msSinceLastEvent: number
  transport: 'sse' | 'poll' | 'connecting' | 'closed'
}

export type ReplicaDecision = Decision & { revision: number; source: 'replica' | 'api' }

interface FeedEntry {
  revision: number
  changes: Change[]
}

/** Loads the snapshot, starts following the feed, and resolves once the replica answers. */
export async function createReplica(options: ReplicaOptions): Promise<Replica> {
  const replica = new Replica(options)
  await replica.load()
  replica.start()
  return replica
}

/** After this many failed streams in a row, long polling takes over for `POLL_SPELL_MS`, then a stream is tried again. */
const STREAM_FAILURES_BEFORE_POLLING = 2
const POLL_SPELL_MS = 30_000

export class Replica {
  private authorizer!: Authorizer
  private applied = 0
  private head = 0
  private lastEventAt = 0
  private transport: ReplicaLag['transport'] = 'connecting'
  private closed = false
  private following: Promise<void> | null = null
  private readonly stop = new AbortController()
  private readonly waiters = new Set<{ revision: number; resolve(reached: boolean): void }>()
  private readonly fetch: typeof fetch
  private readonly clock: () => number
  private readonly url: string

  constructor(private readonly options: ReplicaOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.clock = options.clock ?? Date.now
    this.url = options.url.replace(/\/+$/, '')
  }

  /** The revision this replica has applied: every write the API answered with at most this one is seen. */
  get revision(): number {
    return this.applied
  }

  get model(): Model {
    return this.authorizer.model
  }

  /** The decision now, at this replica's revision, in memory (no I/O: microseconds). */
  checkNow(subject: SubjectRef, permission: string, resource: ResourceRef): Decision {
    const who = subjectOf(subject)
    const target = targetOf(resource)
    return visible(this.authorizer, who, target, this.authorizer.check(who, permission, target))
  }

  /**
   * The decision, never from older state than `atLeastRevision` (a revision a write answered with): once
   * the replica has it, in memory; after waiting up to `waitMs` for the feed, from the API, which has it.
   */
  async check(request: {
    subject: SubjectRef
    permission: string
    resource: ResourceRef
    atLeastRevision?: number | undefined
  }): Promise<ReplicaDecision> {
    if (await this.holds(request.atLeastRevision)) {
      const decision = this.checkNow(request.subject, request.permission, request.resource)
      return { ...decision, revision: this.applied, source: 'replica' }
    }
    const answer = await this.api<{ allowed: boolean; reason: string; revision: number }>(
      'POST',
      '/v1/check',
      {
        ...request,
        subject: subjectOf(request.subject),
      },
    )
    return { ...(answer as Decision & { revision: number }), source: 'api' }
  }

  /** Ids of the resources of `type` the subject may act on with `permission`, sorted; as `check` for revisions. */
  async listResources(request: {
    subject: SubjectRef
    permission: string
    type: string
    atLeastRevision?: number | undefined
  }): Promise<{ ids: string[]; revision: number; source: 'replica' | 'api' }> {
    if (await this.holds(request.atLeastRevision)) {
      const ids = this.authorizer.listResources(subjectOf(request.subject), request.permission, request.type)
      return { ids: [...ids].sort(), revision: this.applied, source: 'replica' }
    }
    const answer = await this.api<{ ids: string[]; revision: number }>('POST', '/v1/list-resources', {
      ...request,
      subject: subjectOf(request.subject),
    })
    return { ...answer, source: 'api' }
  }

  /** Resolves true once `revision` is applied, false after `timeoutMs` (or when closed). */
  waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= revision) return Promise.resolve(true)
    if (this.closed || timeoutMs <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve: (reached: boolean) => {
          clearTimeout(timer)
          this.waiters.delete(waiter)
          resolve(reached)
        },
      }
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs)
      this.waiters.add(waiter)
    })
  }

  lag(): ReplicaLag {
    return {
      revision: this.applied,
      head: this.head,
      behind: Math.max(0, this.head - this.applied),
      msSinceLastEvent: this.clock() - this.lastEventAt,
      transport: this.transport,
    }
  }

  /** Stops following; checks still answer, from the last revision applied. */
  async close(): Promise<void> {
    this.closed = true
    this.transport = 'closed'
    this.stop.abort()
    for (const waiter of this.waiters) waiter.resolve(false)
    await this.following
  }

  /** @internal Loads (or reloads) the snapshot. */
  async load(): Promise<void> {
    const response = await this.request('GET', '/v1/engine/snapshot')
    const snapshot = (await response.json()) as { model: Model; parts: SnapshotPart[]; revision: number }
    const loading = Authorizer.loading(new CompiledModel(snapshot.model), { clock: this.clock })
    for (const part of snapshot.parts) loading.add(part)
    this.authorizer = loading.done()
    const reloaded = this.applied > 0
    this.applied = snapshot.revision
    this.head = Math.max(this.head, snapshot.revision)
    this.lastEventAt = this.clock()
    if (reloaded) this.options.onApplied?.(snapshot.revision, 'reloaded')
    this.wake()
  }

  /** @internal Starts following the feed. */
  start(): void {
    this.following ??= this.follow()
  }

  private async holds(revision: number | undefined): Promise<boolean> {
    return revision === undefined || (await this.waitFor(revision, this.options.waitMs ?? 200))
  }

  private async follow(): Promise<void> {
    let failures = 0
    let streamFailures = 0
    let pollUntil = 0
    while (!this.closed) {
      const polling = this.clock() < pollUntil
      try {
        if (polling) await this.pollOnce()
        else
          await this.streamOnce(() => {
            streamFailures = 0
          })
        failures = 0
      } catch (error) {
        if (this.closed) break
        this.transport = 'connecting'
        if (error instanceof OrgkitApiError && error.code === 'REVISION_NOT_REACHED') {
          // The server never had our revision (another database, or this one restored): start over.
          await this.load().catch((e) => this.options.onError?.(e))
          continue
        }
        this.options.onError?.(error)
        failures++
        // A refused connection (fetch's TypeError) is the server being away, which polling can't help; a
        // stream refused or broken once connected is what polling is for (a buffering proxy, say).
        const streamTrouble = !polling && !(error instanceof TypeError)
        if (
          streamTrouble &&
          (error instanceof NoStream || ++streamFailures >= STREAM_FAILURES_BEFORE_POLLING)
        ) {
          pollUntil = this.clock() + POLL_SPELL_MS
          streamFailures = 0
          continue
        }
        await this.pause(Math.min(100 * 2 ** (failures - 1), 5000))
      }
    }
  }

  /** One server-sent events connection, from our revision, until it ends. */
  private async streamOnce(connected: () => void): Promise<void> {
    const silence = this.options.silenceMs ?? 45_000
    const abort = new AbortController()
    const onStop = () => abort.abort()
    this.stop.signal.addEventListener('abort', onStop)
    let watchdog = setTimeout(() => abort.abort(), silence)
    try {
      const response = await this.request('GET', `/v1/engine/changes?after=${this.applied}`, undefined, {
        headers: { accept: 'text/event-stream', 'last-event-id': String(this.applied) },
        signal: abort.signal,
      })
      if (!/^text\/event-stream\b/.test(response.headers.get('content-type') ?? '') || !response.body) {
        await response.body?.cancel()
        throw new NoStream('the feed answered without an event stream (a proxy in between?)')
      }
      this.transport = 'sse'
      for await (const event of sseEvents(response.body)) {
        clearTimeout(watchdog)
        watchdog = setTimeout(() => abort.abort(), silence)
        this.lastEventAt = this.clock()
        connected()
        this.onEvent(event)
      }
    } catch (error) {
      if (abort.signal.aborted && !this.closed) throw new Error(`the feed was silent for ${silence} ms`)
      throw error
    } finally {
      clearTimeout(watchdog)
      this.stop.signal.removeEventListener('abort', onStop)
    }
  }

  private onEvent(event: SseEvent): void {
    if (event.event === 'head') {
      this.head = Math.max(this.head, (JSON.parse(event.data) as { revision: number }).revision)
    } else if (event.event === 'change') {
      this.apply(JSON.parse(event.data) as FeedEntry)
    } else if (event.event === 'reload') {
      // The server cannot send the next revision (its feed entry fails its MAC): load the snapshot again.
      throw new OrgkitApiError(JSON.parse(event.data) as Problem)
    }
  }

  /** One long poll. */
  private async pollOnce(): Promise<void> {
    const wait = this.options.pollWaitMs ?? 20_000
    const response = await this.request(
      'GET',
      `/v1/engine/changes?after=${this.applied}&waitMs=${wait}`,
      undefined,
      {
        signal: this.stop.signal,
      },
    )
    const page = (await response.json()) as { head: number; changes: FeedEntry[] }
    this.transport = 'poll'
    this.lastEventAt = this.clock()
    this.head = Math.max(this.head, page.head)
    for (const entry of page.changes) this.apply(entry)
  }

  /**
   * Applies the next revision: each exactly once and in order. One seen already (a resumed stream may
   * repeat) is skipped; a gap means a reload of the snapshot — resuming from what was applied would be sent
   * the same gap again, for ever, and skipping it could skip a revoke.
   */
  private apply(entry: FeedEntry): void {
    if (entry.revision <= this.applied) return
    if (entry.revision !== this.applied + 1)
      this.reloadFor(new Error(`the feed skipped from revision ${this.applied} to ${entry.revision}`))
    try {
      this.authorizer.apply(entry.changes)
    } catch (error) {
      // The engine refused a committed change: the server's copy decides.
      this.reloadFor(error)
    }
    this.applied = entry.revision
    this.head = Math.max(this.head, entry.revision)
    this.options.onApplied?.(entry.revision, 'change')
    this.wake()
  }

  /** Reports `error`, then has `follow` load the snapshot again and resume from it. */
  private reloadFor(error: unknown): never {
    this.options.onError?.(error)
    throw new OrgkitApiError({ status: 409, code: 'REVISION_NOT_REACHED', detail: 'reloading the snapshot' })
  }

  private wake(): void {
    for (const waiter of this.waiters) if (waiter.revision <= this.applied) waiter.resolve(true)
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.stop.signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.stop.signal.addEventListener('abort', done)
    })
  }

  private async api<T>(method: string, path: string, body: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T
  }

  /** A call with the platform token; a problem answer throws an `OrgkitApiError` with its code. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const response = await this.fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ...(init.signal && { signal: init.signal }),
    })
    if (response.ok) return response
    const text = await response.text()
    let problem: Partial<Problem> = {}
    try {
      problem = JSON.parse(text) as Partial<Problem>
    } catch {
      // not a problem document: a proxy's page
    }
    throw new OrgkitApiError({
      ...problem,
      status: response.status,
      code: typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`,
    })
  }
}

/** The server answered, but not with an event stream: poll instead. */
class NoStream extends Error {}

const subjectOf = (subject: SubjectRef): Subject =>
  typeof subject === 'string' ? { type: 'user', id: subject } : subject

const targetOf = (resource: ResourceRef): Target =>
  'org' in resource ? { type: ORG, id: resource.org } : { type: resource.type, id: resource.id }

const UNKNOWN: Decision = Object.freeze({ allowed: false, reason: 'no_grant' }) as Decision

/**
 * The decision as the API would answer it (server/src/hot/engine-decider.ts `alike`, issue 22.5): a target
 * that does not exist, or another org's gate, reads as a plain `no_grant` to whoever has nothing there — a
 * host that shows the reason to its user tells them nothing about ids outside their orgs.
 */
function visible(authorizer: Authorizer, subject: Subject, target: Target, decision: Decision): Decision {
  if (decision.allowed || decision.reason === 'no_grant') return decision
  switch (decision.reason) {
    case 'not_found':
      return authorizer.orgOf(target) === null ? UNKNOWN : decision
    case 'mfa_required':
    case 'password_policy':
    case 'key_scope': {
      const orgId = authorizer.orgOf(target)
      return orgId !== null && authorizer.personBelongs(subject, orgId) ? decision : UNKNOWN
    }
    default:
      return decision
  }
}

export { OrgkitApiError, OrgkitError }
