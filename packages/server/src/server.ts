import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'
import { getRequestListener } from '@hono/node-server'
import { type Authorizer, CompiledModel, type Model, presets } from '@orgkit/core'
import {
  type DatabaseConfig,
  type Db,
  migrate,
  openStore,
  pruneAudit,
  type Store,
  serverSecrets,
  tokens,
} from '@orgkit/store'
import pino, { type Logger } from 'pino'
import { createApp } from './app.ts'
import { manualProvider, type PaymentProvider } from './billing/payments.ts'
import { loadPlans, type PlanCatalog } from './billing/plans.ts'
import { UsageMeter } from './billing/usage-meter.ts'
import { createCaches } from './caches.ts'
import { compactHeap } from './compact-heap.ts'
import { DEFAULT_ENGINE_STATE_MAX_AGE_MS, parseListenAddress } from './config.ts'
import { dnsTxtLookup } from './domains/txt-lookup.ts'
import { EngineReplica, FeedEntryRefused } from './engine-replica.ts'
import type { App } from './env.ts'
import { Deciders, hotPath } from './hot/index.ts'
import { closeWhenAnswered } from './http-close.ts'
import { MailSender } from './mail/mailer.ts'
import { listenMetrics, Metrics } from './metrics.ts'
import { reconcileStoredRoles } from './model-reconcile.ts'
import { authorizationRoutes } from './routes/check.ts'
import { altchaCaptcha } from './security/captcha.ts'
import { changeFeedMac } from './security/change-feed-mac.ts'
import { engineStateMac } from './security/engine-state-mac.ts'
import { type HostTokenConfig, HostTokens } from './security/host-tokens.ts'
import { isLoopback } from './security/local-outbox.ts'
import type { PasswordHashCost } from './security/passwords.ts'
import { pruneRateLimits } from './security/rate-limit.ts'
import { SecretBox } from './security/secret-box.ts'
import { loadKeyring, sealStoredSecrets } from './security/secrets-at-rest.ts'
import { createSsoProtocols } from './security/sso/registry.ts'
import { followTokenRevocations } from './security/token-revocations.ts'
import type { Ctx, Settings } from './services/context.ts'
import { issueDueInvoices } from './services/invoices.ts'
import { AuditCheckpoints } from './webhooks/checkpoints.ts'
import { WebhookWorker } from './webhooks/worker.ts'

export interface ServerOptions {
  database: DatabaseConfig
  /** SMTP server for mail; without it, mail stays in the local outbox. */
  smtpUrl?: string | undefined
  mailFrom?: string | undefined
  publicUrl?: string | undefined
  signup?: 'open' | 'invite' | undefined
  /** Proof-of-work difficulty of the captcha (tests lower it). */
  captchaMaxNumber?: number | undefined
  /** argon2 parameters below the library's defaults (tests lower them where hashing isn't the subject). */
  passwordHashCost?: PasswordHashCost | undefined
  webhooksAllowPrivate?: boolean | undefined
  /** How often the webhook worker looks for due deliveries; 0: only when kicked (tests drive it). */
  webhookIntervalMs?: number | undefined
  auditRetentionDays?: number | undefined
  /** Minutes between signed checkpoints of each org's audit head (webhooks and the log); 0: none. Default 60. */
  auditCheckpointMinutes?: number | undefined
  /** Proxies in front that append to X-Forwarded-For: the client address is that many entries from the end. */
  trustProxyHops?: number | undefined
  /** Let the local console read the mail outbox (only honoured without SMTP, on loopback; docs/console.md). */
  localOutbox?: boolean | undefined
  /** The built console to serve at `/` (default: packages/console/dist when it exists; null: none). */
  consoleDir?: string | null | undefined
  /** How often the engine polls the change feed besides LISTEN/NOTIFY. */
  pollMs?: number | undefined
  /**
   * The engine's state kept in the database (issue 25.4, docs/architecture.md): restored at start when the
   * store trusts it (MACed under `secretKey`'s keyring; its lineage built from rows less than `maxAgeMs` ago,
   * default 7 days: ORGKIT_ENGINE_STATE_MAX_AGE), caught up from the change feed; written after a load from
   * rows, every `checkMs` (default 60 s) once `minRevisions` (default 10,000) revisions passed since the last,
   * and at close past as many. false: neither read nor written (ORGKIT_ENGINE_STATE=off). Default: on.
   */
  engineState?: false | { minRevisions?: number; checkMs?: number; maxAgeMs?: number } | undefined
  model?: Model | undefined
  /** The plan catalogue (default: the built-in one, see billing/plans.ts). */
  plans?: PlanCatalog | undefined
  /** How invoices are collected (default: `manual`). */
  payments?: PaymentProvider | undefined
  /** How often counted checks are flushed to the database; 0: only on demand and at close (tests). */
  usageFlushMs?: number | undefined
  port?: number | undefined
  host?: string | undefined
  /**
   * ORGKIT_SECRET_KEY: the keys sealing TOTP secrets and unsent mail (security/secret-box.ts). Required on
   * PostgreSQL; the embedded database keeps one in its folder when not given.
   */
  secretKey?: string | undefined
  /** A bearer token that may read `/metrics` (besides platform tokens): ORGKIT_METRICS_TOKEN. */
  metricsToken?: string | undefined
  /** `host:port` to serve `/metrics` on, without a token, instead of the public port: ORGKIT_METRICS_ADDRESS. */
  metricsAddress?: string | undefined
  logger?: Logger | undefined
  clock?: (() => number) | undefined
  /** The host product's JWTs, verified against its JWKS (ORGKIT_JWT_*, issue 20); none when absent. */
  hostTokens?: HostTokenConfig | undefined
  /**
   * Make the first platform token when the database has none, once listening (default true). false: a
   * worker under a primary that makes it once all its workers listen, and shows it (cli start.ts).
   */
  bootstrapToken?: boolean | undefined
  /** The DNS resolver verifying domains, `ip[:port]` (ORGKIT_DNS_RESOLVER); default the system's. */
  dnsResolver?: string | undefined
  /** How long a domain verification waits for the resolver (default 5000 ms). */
  dnsTimeoutMs?: number | undefined
}

export interface RunningServer {
  url: string
  ctx: Ctx
  store: Store
  /** Set on the first start of an empty database: the secret is shown this once. */
  bootstrapToken: string | null
  /** Whether the built console is served at `/`. */
  consoleServed: boolean
  /** Where `/metrics` is served when it has a listen address of its own (`metricsAddress`). */
  metricsUrl: string | null
  /** Audit head checkpoints: `runOnce()` takes one now (tests; the interval does the same). */
  checkpoints: AuditCheckpoints
  /** The app (Hono) itself: `app.request()` answers in process, without the hot path (tests compare the two). */
  app: App
  close(): Promise<void>
}

/**
 * How much an engine's load from rows (and the app built meanwhile) must grow V8's heap for the start to
 * compact it. Measured here: an empty database grew it by 13 MB, 20k and 50k bindings by less than 64 MB,
 * 100k to 211 MB (compacted to 91).
 */
const COMPACT_AFTER_MB = 64

/** Opens the database, migrates, loads the engine, and listens. Used by `orgkit start` and the tests. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'info' })
  // Before the database opens: a missing or malformed key fails the start, not a sign-in later.
  const secrets = new SecretBox(await loadKeyring(options.secretKey, options.database))
  const store = await openStore({
    ...options.database,
    onConnectionError:
      options.database.onConnectionError ??
      ((error, held) =>
        logger.warn(
          { err: error },
          // 'idle': the pool's, which also hears a statement run alone whose connection went back before
          // the end reached it.
          held === 'idle'
            ? 'the database ended a pooled connection; the next query opens a new one'
            : 'the database ended a connection a statement held; the statement fails, the next query opens a new one',
        )),
  })
  // What the start has opened past the store, closed in reverse (then the store) when a later step fails —
  // a database error, a port in use: a process embedding the server goes on, and must not keep the
  // connections and timers of a server that never started.
  const opened: (() => Promise<unknown>)[] = []
  try {
    return await serve(options, logger, secrets, store, opened)
  } catch (error) {
    // The start's own error is the one to tell; one of closing is only logged.
    await closeInOrder([...opened.reverse(), () => store.close()]).catch((err) =>
      logger.warn({ err }, 'closing what a failed start opened'),
    )
    throw error
  }
}

/** The start on an open store: each thing it opens that outlives a failed start goes into `opened`. */
async function serve(
  options: ServerOptions,
  logger: Logger,
  secrets: SecretBox,
  store: Store,
  opened: (() => Promise<unknown>)[],
): Promise<RunningServer> {
  const feedMac = changeFeedMac(secrets.keyring)
  await migrate(store.db)
  // Plain text left by a version before sealing is sealed now (issue 22.7); a value under a key the
  // keyring lacks refuses the start, saying which. Then roles the model dropped are moved (or the start
  // refused). Both read whole tables (at 1M bindings ~0.4 s of PostgreSQL's time): they run beside the
  // engine's load, on a connection of their own (the embedded database's one session takes them in turn),
  // one after the other, so a refused key moves nothing; the start waits for them before it writes anything.
  const checks = (async () => {
    await sealStoredSecrets(store.db, secrets, { everything: false })
    return reconcileStoredRoles(
      store.db,
      feedMac,
      options.model ?? presets.capgo!,
      options.clock ?? Date.now,
      logger,
    )
  })()
  checks.catch(() => {}) // thrown where it is awaited
  const model = options.model ?? presets.capgo!
  const compiled = new CompiledModel(model)
  const clock = options.clock ?? Date.now
  const engineState = options.engineState ?? {}
  const keepState = engineState !== false
  const stateOptions = engineState || {}
  const minRevisions = stateOptions.minRevisions ?? 10_000
  const engine = new EngineReplica(store.db, compiled, clock, {
    feedMac,
    onResync: (err, revision) =>
      logger.error(
        { err, revision },
        err instanceof FeedEntryRefused
          ? 'the change feed holds an entry that fails its MAC, or lacks one (written or deleted without ORGKIT_SECRET_KEY, or by an instance with another keyring): not applied; reloaded from rows'
          : 'the engine refused a committed change; reloaded from a snapshot',
      ),
    state: keepState
      ? {
          mac: engineStateMac(secrets.keyring),
          maxAgeMs: stateOptions.maxAgeMs ?? DEFAULT_ENGINE_STATE_MAX_AGE_MS,
        }
      : null,
  })
  // The engine loads while the rest of the server is put together: nothing below reads it before `await
  // loading`, just ahead of listening, so no request is ever answered from an engine still loading. A stored
  // state decompresses on libuv's threads meanwhile, while this thread builds the app.
  const heapAtLoad = getHeapStatistics().total_heap_size
  const loading = engine.load(true)
  loading.catch(() => {}) // thrown where it is awaited
  // A failed start stops the engine once its load has settled (it reads through the store until then).
  opened.push(() => loading.catch(() => {}).then(() => engine.stop()))
  // A start the checks refuse ends here, before anything below writes (the captcha secret, a bootstrap token).
  const moved = await checks
  const caches = createCaches()
  const mail = new MailSender(
    store.db,
    options.smtpUrl,
    options.mailFrom ?? 'Orgkit <no-reply@orgkit.local>',
    logger,
    secrets,
    clock,
  )
  const settings: Settings = {
    signup: options.signup ?? 'open',
    publicUrl: options.publicUrl ?? '',
    captchaSecret: await sharedSecret(store.db, 'captcha'),
    secureCookies: options.publicUrl?.startsWith('https://') ?? false,
    webhooksAllowPrivate: options.webhooksAllowPrivate ?? false,
    auditRetentionDays: options.auditRetentionDays ?? 90,
    trustProxyHops: options.trustProxyHops ?? 0,
    localOutbox:
      (options.localOutbox ?? false) &&
      !options.smtpUrl &&
      !options.trustProxyHops &&
      isLoopback(options.host ?? '127.0.0.1'),
    metricsToken: options.metricsToken ?? null,
    metricsElsewhere: options.metricsAddress !== undefined,
    passwordHashCost: options.passwordHashCost,
  }
  const webhooks = new WebhookWorker(store.db, secrets, clock, logger, {
    allowPrivate: settings.webhooksAllowPrivate,
  })
  const captcha = altchaCaptcha(settings.captchaSecret, clock, { maxNumber: options.captchaMaxNumber })
  const usage = new UsageMeter(store.db, clock)
  const ctx: Ctx = {
    db: store.db,
    engine,
    compiled,
    model: compiled.model,
    clock,
    settings,
    mail,
    captcha,
    webhooks,
    billing: {
      plans: options.plans ?? loadPlans(undefined, undefined),
      usage,
      payments: options.payments ?? manualProvider,
    },
    deciders: new Deciders({ replica: engine, db: store.db, compiled, clock, observer: usage }),
    caches,
    secrets,
    hostTokens: options.hostTokens ? new HostTokens(options.hostTokens, clock) : null,
    dns: dnsTxtLookup({ resolver: options.dnsResolver, timeoutMs: options.dnsTimeoutMs }),
    sso: createSsoProtocols({ clock, allowPrivate: settings.webhooksAllowPrivate, db: store.db }),
  }
  const consoleDir = options.consoleDir === undefined ? defaultConsoleDir() : options.consoleDir
  const metrics = new Metrics()
  const app = createApp({ ctx, logger, consoleDir, metrics })
  const answerByApp = getRequestListener(app.fetch, { hostname: options.host ?? '127.0.0.1' })
  const server = createServer(hotPath({ ctx, logger, metrics, routes: authorizationRoutes }, answerByApp))
  const closeServer = closeWhenAnswered(server)
  // A start that moved a dropped role's bindings loads the engine again from rows: the first load may have
  // read them before the move, or refused them.
  if (moved) {
    await loading.catch(() => {})
    await engine.load(false)
  } else await loading
  const loaded = engine.loadedFrom
  if (loaded.kind === 'state')
    logger.info(
      { restoredFrom: loaded.revision, revision: engine.revision, ms: Math.round(engine.loadMs) },
      'engine restored from its stored state',
    )
  // A state whose MAC does not verify was written by someone without the key (or altered since): warn.
  else
    logger[loaded.refused === 'mac' ? 'warn' : 'info'](
      { refused: loaded.refused, revision: engine.revision, ms: Math.round(engine.loadMs) },
      loaded.refused === 'mac'
        ? 'engine loaded from rows: its stored state failed authentication (altered or planted), refused'
        : 'engine loaded from rows',
    )
  const saveState = (min: number) =>
    engine.saveState(min).catch((err) => logger.warn({ err }, 'the engine state was not written'))
  // Before listening, so that encoding it blocks no request; the write itself goes on in the background.
  if (keepState && loaded.kind === 'rows') void saveState(0)
  // Compacted after a load from rows that grew the heap by COMPACT_AFTER_MB or more, before listening
  // (compact-heap.ts): what a large engine's load leaves spread thin over V8's pages. A small one leaves few,
  // and compacting cost a start ~0.4 s of CPU for nothing (the tests' ~100 servers a run: ~40 s). After a
  // restore, collected once its tables have memory of their own, after listening (below).
  if (
    loaded.kind === 'rows' &&
    getHeapStatistics().total_heap_size - heapAtLoad >= COMPACT_AFTER_MB * 1024 * 1024
  ) {
    const heap = compactHeap()
    logger.debug({ heapBefore: heap.before, heapAfter: heap.after }, 'heap compacted after the engine loaded')
  }
  // A platform token revoked anywhere is dropped from this instance's cache as the revocation commits. After
  // the engine's load: on the embedded database (one session) its LISTEN would run inside the load's transaction.
  const stopTokenRevocations = await followTokenRevocations(store, caches, (err) =>
    logger.warn(
      { err },
      'token revocations: connection trouble; tokens trusted for a second until it is back',
    ),
  )
  opened.push(stopTokenRevocations)
  await engine.follow(store, {
    pollMs: options.pollMs ?? 1000,
    onError: (err) => logger.warn({ err }, 'change feed: connection trouble; polling until it is back'),
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options, 'PORT')))
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  opened.push(closeServer)
  // Idle keep-alive connections outlive a load balancer's (60 s) and a busy client's timer slack: otherwise
  // a request can race the server closing its idle socket and fail with ECONNRESET.
  Object.assign(server, { keepAliveTimeout: 65_000, headersTimeout: 66_000 })
  const metricsAt = options.metricsAddress
    ? parseListenAddress(options.metricsAddress, 'ORGKIT_METRICS_ADDRESS')
    : null
  const metricsServer = metricsAt
    ? await listenMetrics(metrics, metricsAt).catch((error: NodeJS.ErrnoException) => {
        throw listenError(error, metricsAt, 'ORGKIT_METRICS_ADDRESS')
      })
    : null
  if (metricsServer) opened.push(() => metricsServer.close())
  // Once listening, the last step that can fail: a start that could not listen made no token it never showed
  // (the next start makes one, and shows it).
  let bootstrapToken: string | null = null
  if (options.bootstrapToken !== false && (await tokens.countPlatformTokens(store.db)) === 0) {
    bootstrapToken = (await tokens.createPlatformToken(store.db, 'bootstrap')).secret
  }
  const { port, address } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  settings.publicUrl ||= `http://${host}:${port}`
  // A restored engine's tables view its stored state's bytes (a faster start); they take memory of their own
  // now, one an event-loop turn, so that the whole state's buffer can go (Authorizer.ownMemory). Then one full
  // collection (not compacting) frees it with the rest of what the restore read (compact-heap.ts): ~0.2 s of
  // CPU at 1M bindings that was on the start's path, before listening, and freed all but the state's buffer.
  if (loaded.kind === 'state')
    void ownMemoryInTurns(engine.authorizer).then(() => {
      const heap = compactHeap({ compact: false })
      logger.debug(
        { heapBefore: heap.before, heapAfter: heap.after },
        'heap collected after the engine restored',
      )
    })
  mail.start()
  if ((options.usageFlushMs ?? 10_000) > 0)
    usage.start(options.usageFlushMs ?? 10_000, (err) =>
      logger.warn({ err }, 'usage flush failed; kept for the next'),
    )
  if ((options.webhookIntervalMs ?? 1000) > 0) webhooks.start(options.webhookIntervalMs ?? 1000)
  const checkpoints = new AuditCheckpoints(store.db, clock, logger, webhooks)
  checkpoints.start((options.auditCheckpointMinutes ?? 60) * 60_000)
  // Housekeeping, hourly: audit entries past retention (their chains keep an anchor), old rate windows.
  const housekeeping = setInterval(() => {
    const cutoff = new Date(clock() - settings.auditRetentionDays * 86_400_000)
    void store.db
      .transaction()
      .execute((tx) => pruneAudit(tx, cutoff))
      .then(() => pruneRateLimits(store.db, clock()))
      .then(() => issueDueInvoices(ctx))
      .catch((err) => logger.error({ err }, 'housekeeping failed'))
  }, 3_600_000)
  housekeeping.unref()
  const stateTimer = keepState
    ? setInterval(() => void saveState(minRevisions), stateOptions.checkMs ?? 60_000)
    : null
  stateTimer?.unref()
  return {
    url: `http://${host}:${port}`,
    ctx,
    store,
    bootstrapToken,
    app,
    checkpoints,
    consoleServed: consoleDir !== null,
    metricsUrl: metricsServer?.url ?? null,
    close: () =>
      closeInOrder([
        () => {
          clearInterval(housekeeping)
          if (stateTimer) clearInterval(stateTimer)
        },
        () => checkpoints.stop(),
        stopTokenRevocations,
        () => engine.stop(),
        () => mail.stop(),
        () => webhooks.stop(),
        closeServer,
        () => metricsServer?.close(),
        () => usage.stop(),
        () => (keepState ? saveState(minRevisions) : undefined),
        () => store.close(),
      ]),
  }
}

/**
 * Runs every step, in order, whatever an earlier one threw, and then throws what failed (the one error, or
 * all of them): a step that fails — a webhook delivery that would not stop, a state that could not be
 * saved — must not keep the port, the database's connections or the embedded data folder's lock held by a
 * server its embedder was told is closing.
 */
async function closeInOrder(steps: readonly (() => unknown)[]): Promise<void> {
  const failed: unknown[] = []
  for (const step of steps) {
    try {
      await step()
    } catch (error) {
      failed.push(error)
    }
  }
  if (failed.length === 1) throw failed[0]
  if (failed.length > 1) throw new AggregateError(failed, `${failed.length} steps of closing failed`)
}

/**
 * `Authorizer.ownMemory`'s steps, one an event-loop turn, the first after the start has returned: run within
 * it, the first (the largest) held up `startServer` and the first requests by ~0.2 s at 1M bindings.
 */
async function ownMemoryInTurns(authorizer: Authorizer): Promise<void> {
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  await turn()
  for (const _ of authorizer.ownMemory()) await turn()
}

/** A random secret every instance shares, made once and kept in the database. */
function sharedSecret(db: Db, name: string): Promise<string> {
  return serverSecrets.sharedSecret(db, name, randomBytes(32).toString('base64url'))
}

/**
 * The built console: the copy an installed package ships beside its code (dist/console, made by its
 * build), or in this repository the console's own build (`npm start` and the browser tests build it first).
 */
function defaultConsoleDir(): string | null {
  for (const url of [new URL('./console', import.meta.url), new URL('../../console/dist', import.meta.url)]) {
    const dir = fileURLToPath(url)
    if (existsSync(`${dir}/index.html`)) return dir
  }
  return null
}

/** A port another process holds, said so with what to do; any other failure to listen as it came. */
function listenError(
  error: NodeJS.ErrnoException,
  options: { port?: number; host?: string },
  variable: 'PORT' | 'ORGKIT_METRICS_ADDRESS',
): Error {
  if (error.code !== 'EADDRINUSE') return error
  const host = options.host ?? '127.0.0.1'
  const where = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`
  return Object.assign(
    new Error(
      `${where} is in use by another process: stop it, or start Orgkit on another port (${variable})`,
    ),
    { code: 'PORT_IN_USE' },
  )
}
