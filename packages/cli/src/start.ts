import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import { type Config, loadConfig, type RunningServer, startServer, startTracing } from '@orgkit/server'
import { migrate, openStore, tokens } from '@orgkit/store'
import pino from 'pino'
import { databaseOf } from './database.ts'

/** What a worker tells the primary once it listens. */
interface Ready {
  url: string
  consoleServed: boolean
}

/**
 * `orgkit start`: one server process, or with ORGKIT_WORKERS=N a primary that prepares the database (its
 * schema, the first platform token) and then forks N workers sharing the port (node:cluster). Each worker
 * is an instance like any other behind a load balancer: its own engine, kept exact by the change feed;
 * a request carrying `atLeastRevision` is answered at least that fresh by whichever worker gets it
 * (docs/deploy.md). A worker that dies is replaced.
 */
export async function start(): Promise<void> {
  const config = loadConfig()
  if (config.workers === 1) {
    const server = await serve(config)
    printBanner(config, server, server.bootstrapToken)
    stopOnSignal(() => server.close())
  } else if (cluster.isPrimary) {
    await runWorkers(config)
  } else {
    // The primary makes the first platform token once every worker listens, and shows it.
    const server = await serve(config, { bootstrapToken: false })
    process.send!({ url: server.url, consoleServed: server.consoleServed } satisfies Ready)
    stopOnSignal(() => server.close())
  }
}

async function serve(config: Config, { bootstrapToken = true } = {}): Promise<RunningServer> {
  // Traces when OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT ask for them (docs/deploy.md); nothing
  // of the SDK is loaded otherwise. Before the server, so its first request is traced too.
  const tracing = await startTracing(process.env)
  const server = await startServer({
    database: databaseOf(config),
    model: config.modelDefinition,
    plans: config.plans,
    port: config.port,
    host: config.host,
    smtpUrl: config.smtpUrl,
    mailFrom: config.mailFrom,
    publicUrl: config.publicUrl,
    signup: config.signup,
    webhooksAllowPrivate: config.webhooksAllowPrivate,
    auditRetentionDays: config.auditRetentionDays,
    auditCheckpointMinutes: config.auditCheckpointMinutes,
    trustProxyHops: config.trustProxyHops,
    metricsToken: config.metricsToken,
    secretKey: config.secretKey,
    metricsAddress: config.metricsAddress,
    hostTokens: config.hostTokens,
    dnsResolver: config.dnsResolver,
    engineState: config.engineState && { maxAgeMs: config.engineStateMaxAgeMs },
    logger: pino({ level: config.logLevel }),
    // A local instance's console shows the mail that has nowhere else to go (docs/console.md).
    localOutbox: true,
    bootstrapToken,
  })
  if (!tracing) return server
  return {
    ...server,
    close: async () => {
      try {
        await server.close()
      } finally {
        await tracing.shutdown() // exports the spans still buffered
      }
    },
  }
}

async function runWorkers(config: Config): Promise<void> {
  let stopping = false
  const pids = () =>
    Object.values(cluster.workers ?? {})
      .map((w) => w!.process.pid)
      .join(', ')
  // Workers that died young, one after another: each replacement waits twice as long (to 30 s).
  let youngDeaths = 0
  const replace = (): void => {
    const delay = youngDeaths === 0 ? 0 : Math.min(30_000, 500 * 2 ** youngDeaths)
    setTimeout(() => {
      if (stopping) return
      fork().then(
        () => console.log(`  workers: pids ${pids()}`),
        (error: Error) => {
          youngDeaths++
          console.error(`  ${error.message}; trying again`)
          replace()
        },
      )
    }, delay)
  }
  /** A worker, once it listens. One that dies later is replaced; one that cannot start rejects. */
  const fork = (): Promise<Ready> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork()
      let upAt = 0
      worker.once('message', (ready: Ready) => {
        upAt = Date.now()
        resolve(ready)
      })
      worker.once('exit', (code, signal) => {
        const how = signal ?? `code ${code}`
        if (upAt === 0) return reject(new Error(`a worker exited while starting (${how})`))
        if (stopping) return
        youngDeaths = Date.now() - upAt < 10_000 ? youngDeaths + 1 : 0
        console.error(`  worker ${worker.process.pid} exited (${how}); starting another`)
        replace()
      })
    })
  // The schema before any worker starts, once; the first platform token once every worker listens, so a start
  // that failed (its port taken) made none it never showed, as with one process (server.ts). The first start
  // fails as a whole if any worker cannot start (the others go with the primary).
  const store = await openStore(databaseOf(config))
  let ready: Ready[]
  let bootstrapToken: string | null = null
  try {
    await migrate(store.db)
    ready = await Promise.all(Array.from({ length: config.workers }, fork))
    if ((await tokens.countPlatformTokens(store.db)) === 0)
      bootstrapToken = (await tokens.createPlatformToken(store.db, 'bootstrap')).secret
  } finally {
    await store.close()
  }
  printBanner(config, ready[0]!, bootstrapToken)
  console.log(`  ${config.workers} workers share the port: pids ${pids()}`)
  stopOnSignal(async () => {
    stopping = true
    const alive = (Object.values(cluster.workers ?? {}) as Worker[]).filter((worker) => !worker.isDead())
    await Promise.all(
      alive.map((worker) => {
        const exited = once(worker, 'exit')
        worker.process.kill('SIGTERM')
        return exited
      }),
    )
  })
}

function printBanner(config: Config, server: Ready, bootstrapToken: string | null): void {
  const where = config.databaseUrl ? 'PostgreSQL server' : `embedded database in ${config.dataDir}`
  const base = config.publicUrl ?? server.url
  console.log(`\nOrgkit is running at ${base}  (model "${config.model}", ${where})`)
  if (server.consoleServed) console.log(`  Console: ${base}/  (sign up there; docs/console.md)`)
  console.log(`  API reference: ${server.url}/v1/docs   OpenAPI: ${server.url}/v1/openapi.json`)
  console.log(
    config.smtpUrl
      ? '  Mail goes out over SMTP.'
      : `  No SMTP configured: mail waits in the local outbox (${base}/outbox in the console, GET /v1/outbox).`,
  )
  if (bootstrapToken) {
    console.log('\n  First start: a platform token was created. It is shown once; keep it:')
    console.log(`    ${bootstrapToken}`)
    console.log('  Use it as  Authorization: Bearer <token>  (see README "Try it with curl").')
  } else {
    console.log('  Need a platform token? npx orgkit tokens create <name>')
  }
}

/**
 * Stops once, on the first SIGINT or SIGTERM, and exits when done; later signals wait for that. (A
 * terminal's Ctrl-C reaches the primary and every worker, and the primary then sends its workers SIGTERM:
 * a second stop must not exit before the first has flushed usage counts and closed connections.)
 */
function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false
  const exit = () => {
    if (stopping) return
    stopping = true
    void stop().finally(() => process.exit(0))
  }
  process.on('SIGINT', exit)
  process.on('SIGTERM', exit)
}
