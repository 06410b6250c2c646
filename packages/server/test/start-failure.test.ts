import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { postgresTestDatabase } from '../../store/test/support/test-databases.ts'
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
      await expect(started).rejects.toThrow(/EADDRINUSE/)
      // pg's pool would drop its idle connections after 10 s by itself; the listening ones never.
      await expect.poll(() => connectionsTo(database.url), { timeout: 3000 }).toBe(0)
    } finally {
      taken.close()
      await database.remove()
    }
  })
})
