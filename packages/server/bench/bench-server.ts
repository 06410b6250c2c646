import { startServer } from '../src/server.ts'

/**
 * One Orgkit instance for the HTTP benchmark, in a process of its own (the load generator must not share
 * its event loop). `ORGKIT_BENCH_MODE=sql` makes every check, batch and list with an `atLeastRevision`
 * answer from the database, through the SQL evaluator, as if the engine were always behind: the
 * per-request-database baseline, behind the very same route. Prints `{url}` on one line when ready.
 */
const url = process.env.ORGKIT_BENCH_DATABASE_URL!
const schema = process.env.ORGKIT_BENCH_SCHEMA!
const server = await startServer({
  database: { url, schema, poolSize: Number(process.env.ORGKIT_BENCH_POOL ?? 10) },
  port: 0,
  webhookIntervalMs: 0,
  pollMs: 1000,
  logger: (await import('pino')).default({ level: 'silent' }),
})
if (process.env.ORGKIT_BENCH_MODE === 'sql') server.ctx.engine.reached = async () => false
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`)
process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)))
