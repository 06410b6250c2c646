import { once } from 'node:events'
import { PGlite } from '@electric-sql/pglite'
import { describe, expect, it } from 'vitest'
import { openPglite, openStore, tokens } from '../src/index.ts'
import { PgliteConnection } from '../src/pglite-connection.ts'
import { embeddedTestDatabase } from './support/test-databases.ts'

describe('the embedded database connection', () => {
  it('answers a statement, and after a call that fails with nobody listening, still ends', async () => {
    // On a copy of the migrated template, as every test database (a new PGlite() runs initdb: ~4 s of CPU).
    const embedded = embeddedTestDatabase()
    const pglite = new PGlite(embedded.dataDir)
    const connection = new PgliteConnection(pglite)
    await connection.connect()
    const answered = once(connection, 'dataRow')
    connection.query('select 1')
    expect(String((await answered)[0].fields[0])).toBe('1')
    connection.removeAllListeners('dataRow')
    await pglite.close()
    // PGlite is closed: this call is refused, and no client listens for the error any more.
    connection.query('select 2')
    connection.end() // as node-postgres' client ends: then waits for 'end'
    const ended = new Promise((resolve) => connection.once('end', resolve))
    // A refused call once left the queue rejected: every later call, and 'end', never ran (a pool's
    // destroy() waited for ever).
    await expect(Promise.race([ended, new Promise((r) => setTimeout(r, 2000, 'hung'))])).resolves.not.toBe(
      'hung',
    )
    embedded.remove()
  })
})

describe("a store on its caller's PGlite", () => {
  it('leaves it open and as it found it for the next store, and refuses a second store at once', async () => {
    const embedded = embeddedTestDatabase()
    const pglite = await openPglite({ dataDir: embedded.dataDir })
    try {
      for (const name of ['first', 'second']) {
        const store = await openStore({ dataDir: embedded.dataDir, pglite })
        // One open store a PGlite: a second would interleave its transactions with the first's.
        await expect(openStore({ dataDir: embedded.dataDir, pglite })).rejects.toThrow(
          /already has an open store/,
        )
        // A statement with parameters runs prepared under a name the next store gives it too.
        await tokens.createPlatformToken(store.db, name)
        expect(await tokens.countPlatformTokens(store.db)).toBe(name === 'first' ? 1 : 2)
        await store.close()
        expect(pglite.closed).toBe(false)
        expect((await pglite.query('select count(*)::int as n from pg_prepared_statements')).rows).toEqual([
          { n: 0 },
        ])
      }
    } finally {
      await pglite.close()
      embedded.remove()
    }
  })
})
