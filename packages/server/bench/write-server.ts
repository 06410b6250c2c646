/**
 * One Orgkit instance for the write-latency bench, in a process of its own (the clients must not share
 * its event loop). `WRITE_BENCH_SERVER` names the `server.ts` to start — this tree's by default, a baseline
 * worktree's when the bench compares. PostgreSQL when `WRITE_BENCH_URL` is set (in `WRITE_BENCH_SCHEMA`),
 * else the embedded database in memory. Prints `{url, token}` on one line when ready. With
 * `WRITE_BENCH_SLICES=<file>` it records where each request's time went (write-slices.ts) and writes it
 * there when it stops.
 */
const url = process.env.WRITE_BENCH_URL
const slices = process.env.WRITE_BENCH_SLICES
  ? (await import('./write-slices.ts')).recordSlices(
      process.env.WRITE_BENCH_SLICES,
      Number(url ? new URL(url).port || 5432 : 0),
    )
  : null
const module = process.env.WRITE_BENCH_SERVER ?? new URL('../src/server.ts', import.meta.url).pathname
const { startServer } = (await import(module)) as typeof import('../src/server.ts')
const server = await startServer({
  database: url ? { url, schema: process.env.WRITE_BENCH_SCHEMA!, poolSize: 10 } : { dataDir: 'memory://' },
  secretKey: `bench:${'be'.repeat(32)}`,
  port: 0,
  webhookIntervalMs: 0,
  logger: (await import('pino')).default({ level: 'silent' }),
})
process.stdout.write(`${JSON.stringify({ url: server.url, token: server.bootstrapToken })}\n`)
process.on(
  'SIGTERM',
  () =>
    void server.close().finally(() => {
      slices?.flush()
      process.exit(0)
    }),
)
