import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '@orgkit/store'
import pg from 'pg'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { TEMPLATE_DIR } from '../../store/test/support/targets.ts'
import { platformTokensIn, postgresTestDatabase } from '../../store/test/support/test-databases.ts'
import { startServer } from '../src/server.ts'
import { DATABASES, TEST_SECRET_KEY } from './support/harness.ts'

/** Connections to `url`'s database, seen from the server's own `postgres` database. */
async function connectionsTo(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1)
  const admin = new pg.Client({ connectionString: process.env.ORGKIT_TEST_DATABASE_URL })
  await admin.connect()
  try {
    const { rows } = await admin.query<{ n: string }>(
      'select count(*) as n from pg_stat_activity where datname = $1',
      [name],
    )
    return Number(rows[0]!.n)
  } finally {
    await admin.end()
  }
}

/**
 * A start that fails after the store opened (here: its port is taken, the last step) closes all it opened —
 * the store's pool, the engine's and token revocations' listening connections — so a process embedding the
 * server and retrying does not keep a dead server's connections and timers.
 */
describe.runIf(DATABASES.includes('postgres'))('a start that fails (postgres)', () => {
  it('closes every connection it opened to its database', async () => {
    const taken = createServer().listen(0, '127.0.0.1')
    await once(taken, 'listening')
    const database = await postgresTestDatabase()
    try {
      const started = startServer({
        database: { url: database.url, schema: database.schema },
        port: (taken.address() as AddressInfo).port,
        secretKey: TEST_SECRET_KEY,
        logger: pino({ level: 'silent' }),
        consoleDir: null,
      })
      await expect(started).rejects.toMatchObject({ code: 'PORT_IN_USE' })
      // pg's pool would drop its idle connections after 10 s by itself; the listening ones never.
      await expect.poll(() => connectionsTo(database.url), { timeout: 3000 }).toBe(0)
    } finally {
      taken.close()
      await database.remove()
    }
  })
})

/**
 * A port another process holds: said so, with what to do (a new user saw only `EADDRINUSE`), and the start
 * leaves nothing behind — no platform token it would never have shown (the next start makes one, and shows
 * it), and the data folder free for the next start.
 */
describe('a start on a port in use', () => {
  it('says which address is taken and what to do, and makes no token it never shows', async () => {
    const taken = createServer().listen(0, '127.0.0.1')
    await once(taken, 'listening')
    const port = (taken.address() as AddressInfo).port
    const root = await mkdtemp(join(tmpdir(), 'orgkit-port-in-use-'))
    const dataDir = join(root, 'data')
    const start = (listen: { port: number; metricsAddress?: string }) =>
      startServer({
        database: { dataDir, templateDir: TEMPLATE_DIR || undefined },
        ...listen,
        secretKey: TEST_SECRET_KEY,
        logger: pino({ level: 'silent' }),
        consoleDir: null,
      })
    try {
      await expect(start({ port })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: `127.0.0.1:${port} is in use by another process: stop it, or start Orgkit on another port (PORT)`,
      })
      // The metrics listener's address taken (the start's last listen, after the public port's): said the
      // same way, and still no token.
      await expect(start({ port: 0, metricsAddress: `127.0.0.1:${port}` })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: `127.0.0.1:${port} is in use by another process: stop it, or start Orgkit on another port (ORGKIT_METRICS_ADDRESS)`,
      })
      expect(await platformTokensIn({ dataDir })).toBe(0)
    } finally {
      taken.close()
      await rm(root, { recursive: true, force: true })
    }
  })
})

/**
 * A close with a step that fails (here the webhook worker's stop) still closes the rest — the port, the
 * database, the embedded data folder's lock — and then says what failed: before, the first failure ended
 * the close, and the process kept a port and a data folder it could never release.
 */
describe('a close that fails part way', () => {
  it('still releases the port and the data folder, and throws what failed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'orgkit-close-fails-'))
    const dataDir = join(root, 'data')
    try {
      const running = await startServer({
        database: { dataDir, templateDir: TEMPLATE_DIR || undefined },
        port: 0,
        secretKey: TEST_SECRET_KEY,
        logger: pino({ level: 'silent' }),
        consoleDir: null,
      })
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200)
      const stuck = new Error('a delivery would not stop')
      running.ctx.webhooks.stop = () => Promise.reject(stuck)
      await expect(running.close()).rejects.toBe(stuck)
      await expect(fetch(`${running.url}/healthz`)).rejects.toThrow()
      // The data folder is free: another open takes it (a held one is refused with DATA_FOLDER_IN_USE).
      const store = await openStore({ dataDir })
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
