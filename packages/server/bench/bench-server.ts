import cluster from 'node:cluster'
import { loadConfig } from '../src/config.ts'
import { startServer } from '../src/server.ts'

/**
 * One Orgkit instance for the HTTP benchmark, in a process of its own (the load generator must not share
 * its event loop). `ORGKIT_BENCH_MODE=sql` makes every check, batch and list with an `atLeastRevision`
 * answer from the database, through the SQL evaluator, as if the engine were always behind: the
 * per-request-database baseline, behind the very same route. `ORGKIT_BENCH_WORKERS=N` forks N such servers
 * sharing one port (node:cluster), as `ORGKIT_WORKERS` does for `orgkit start`. Prints `{url, pids}` on
 * one line when ready: the processes whose CPU time the bench counts.
 */
const workers = Number(process.env.ORGKIT_BENCH_WORKERS ?? 1)

if (workers > 1 && cluster.isPrimary) {
  const ready = await Promise.all(
    Array.from({ length: workers }, () => {
      const worker = cluster.fork()
      return new Promise<string>((resolve, reject) => {
        worker.once('message', (url: string) => resolve(url))
        worker.once('exit', () => reject(new Error('a bench worker exited')))
      })
    }),
  )
  const pids = Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!)
  process.stdout.write(`${JSON.stringify({ url: ready[0], pids: [process.pid, ...pids] })}\n`)
  // Exits once its workers have (the bench starts the next instance when this process is gone).
  process.on('SIGTERM', () => {
    const workers = Object.values(cluster.workers ?? {}).filter((w) => !w!.isDead())
    let left = workers.length
    for (const worker of workers) {
      worker!.once('exit', () => --left === 0 && process.exit(0))
      worker!.process.kill('SIGTERM')
    }
    if (left === 0) process.exit(0)
  })
} else {
  const url = process.env.ORGKIT_BENCH_DATABASE_URL!
  const schema = process.env.ORGKIT_BENCH_SCHEMA!
  // ORGKIT_ENGINE_STATE (the start bench turns it off for its from-rows half) through the config loader.
  const config = loadConfig()
  const server = await startServer({
    database: { url, schema, poolSize: Number(process.env.ORGKIT_BENCH_POOL ?? 10) },
    // Seals TOTP secrets and mail at rest; the bench has neither worth keeping: one fixed key for every worker.
    secretKey: process.env.ORGKIT_SECRET_KEY ?? `bench:${'be'.repeat(32)}`,
    port: 0,
    webhookIntervalMs: 0,
    pollMs: 1000,
    engineState: config.engineState && { maxAgeMs: config.engineStateMaxAgeMs },
    logger: (await import('pino')).default({ level: 'silent' }),
  })
  if (process.env.ORGKIT_BENCH_MODE === 'sql') server.ctx.engine.reached = async () => false
  if (cluster.isWorker) process.send!(server.url)
  else {
    const engine = { loadedFrom: server.ctx.engine.loadedFrom, loadMs: Math.round(server.ctx.engine.loadMs) }
    process.stdout.write(`${JSON.stringify({ url: server.url, pids: [process.pid], engine })}\n`)
  }
  process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)))
}
