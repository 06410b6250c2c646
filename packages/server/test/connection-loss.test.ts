import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/** Ends every connection to `url`'s database, as a PostgreSQL restart or an operator's kill would. */
async function terminateConnectionsTo(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: process.env.ORGKIT_TEST_DATABASE_URL })
  await admin.connect()
  try {
    const { rows } = await admin.query<{ n: string }>(
      `select count(*) filter (where pg_terminate_backend(pid)) as n
       from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [new URL(url).pathname.slice(1)],
    )
    return Number(rows[0]!.n)
  } finally {
    await admin.end()
  }
}

/**
 * A connection the database ends while the server holds it idle (a PostgreSQL restart, a failover, an
 * operator's pg_terminate_backend) is an error event on its pool. Unhandled, Node ends the process: the server
 * must drop the connection, say so, and answer the next request on a new one.
 */
describe.runIf(DATABASES.includes('postgres'))('connections the database ends (postgres)', () => {
  let server: TestServer
  /** What the server logged at warn and above. */
  const logged: { msg: string; err?: { message: string } }[] = []
  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) })
    server = await startTestServer('postgres', { server: { logger } })
  })
  afterAll(() => server.stop())

  it('survives its idle pool connections being ended, and answers on new ones', async () => {
    // Several requests at once leave several idle connections in the main pool.
    const users = await Promise.all(['Ada', 'Bo', 'Cy', 'Di'].map((name) => server.user(name)))
    expect(await terminateConnectionsTo(server.postgres!.url)).toBeGreaterThanOrEqual(2)
    // Said in the server's log, once a connection each.
    await expect
      .poll(() => logged.filter((l) => /ended a pooled connection/.test(l.msg)).length, { timeout: 5000 })
      .toBeGreaterThanOrEqual(2)
    expect(logged.find((l) => /ended a pooled connection/.test(l.msg))?.err?.message).toMatch(
      /terminating connection due to administrator command/,
    )
    // A read and a write (org lock, feed, audit) on fresh connections.
    expect((await server.as(users[0]!).get('/v1/me')).status).toBe(200)
    const org = await server.as(users[1]!).post('/v1/orgs', { name: 'After the restart' })
    expect(org.status).toBe(201)
    const member = await server.platform.post(`/v1/orgs/${org.body.id}/members`, {
      userId: users[2],
      roles: ['org_member'],
    })
    expect(member.status).toBe(201)
  })
})
