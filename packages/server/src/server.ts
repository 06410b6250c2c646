import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { CompiledModel, type Model, presets } from '@orgkit/core'
import { type DatabaseConfig, migrate, openStore, type Store, tokens } from '@orgkit/store'
import pino, { type Logger } from 'pino'
import { createApp } from './app.ts'
import { EngineReplica } from './engine-replica.ts'
import type { Ctx } from './services/context.ts'

export interface ServerOptions {
  database: DatabaseConfig
  model?: Model | undefined
  port?: number | undefined
  host?: string | undefined
  logger?: Logger | undefined
  clock?: (() => number) | undefined
}

export interface RunningServer {
  url: string
  ctx: Ctx
  store: Store
  /** Set on the first start of an empty database: the secret is shown this once. */
  bootstrapToken: string | null
  close(): Promise<void>
}

/** Opens the database, migrates, loads the engine, and listens. Used by `orgkit start` and the tests. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'info' })
  const store = await openStore(options.database)
  await migrate(store.db)
  const model = options.model ?? presets.capgo!
  const compiled = new CompiledModel(model)
  const clock = options.clock ?? Date.now
  const engine = new EngineReplica(store.db, compiled, clock, (err, revision) =>
    logger.error({ err, revision }, 'the engine refused a committed change; reloaded from a snapshot'),
  )
  await engine.load()
  const ctx: Ctx = { db: store.db, engine, compiled, model: compiled.model, clock }
  let bootstrapToken: string | null = null
  if ((await tokens.countPlatformTokens(store.db)) === 0) {
    bootstrapToken = (await tokens.createPlatformToken(store.db, 'bootstrap')).secret
  }
  const app = createApp({ ctx, logger })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: app.fetch, port: options.port ?? 0, hostname: options.host ?? '127.0.0.1' },
      () => resolve(s),
    )
  })
  const { port, address } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}`,
    ctx,
    store,
    bootstrapToken,
    close: async () => {
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())))
      await store.close()
    },
  }
}
