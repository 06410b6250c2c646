import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Ends every connection to `url`'s database, as a PostgreSQL restart or an operator's kill would: the ended
 * backends' pids, and whether each was one of the server's pools' (not its listener's).
 */
async function terminateConnectionsTo(url: string): Promise<{ pid: number; pooled: boolean }[]> {
  const { rows } = await admin(
    // Materialized: the planner may not evaluate pg_terminate_backend before the filter sparing this session.
    `with others as materialized (
       select pid, application_name like 'orgkit:%' or application_name like 'orgkit-reload:%' as pooled
       from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()
     )
     select pid, pooled from others where pg_terminate_backend(pid)`,
    [new URL(url).pathname.slice(1)],
  )
  return rows as { pid: number; pooled: boolean }[]
}

/** How many of these backends are still there: pg_terminate_backend only signals, each exits in its turn. */
async function stillRunning(pids: number[]): Promise<number> {
  const { rows } = await admin('select count(*)::int as n from pg_stat_activity where pid = any($1)', [pids])
  return (rows[0] as { n: number }).n
}

async function admin(text: string, values: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: process.env.ORGKIT_TEST_DATABASE_URL })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
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
    const ended = await terminateConnectionsTo(server.postgres!.url)
    const pooled = ended.filter((e) => e.pooled).length
    expect(pooled).toBeGreaterThanOrEqual(2)
    // Each backend exits in its turn (on a busy machine, after this test would send its next request).
    await expect.poll(() => stillRunning(ended.map((e) => e.pid)), { timeout: 10_000 }).toBe(0)
    // Said in the server's log, once a pooled connection each.
    await expect
      .poll(() => logged.filter((l) => /ended a pooled connection/.test(l.msg)).length, { timeout: 5000 })
      .toBe(pooled)
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
