import { once } from 'node:events'
import { PGlite } from '@electric-sql/pglite'
import { describe, expect, it } from 'vitest'
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
