import { randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import pg from 'pg'
import { startServer } from '../src/server.ts'

/**
 * A directory's first import (issue 21's bar): USERS people (default 10,000) POSTed to /scim/v2/orgs/{id}/Users
 * as Okta sends them, IN_FLIGHT at a time (default 8), into one org, through the whole API — token lookup,
 * the org's write lock, the user, the SCIM record, joinOrg (membership, default role), the audit chain,
 * the webhook outbox and the change feed, then the engine catching up. On the embedded database, and on
 * PostgreSQL when ORGKIT_BENCH_DATABASE_URL is set (a schema of its own, dropped after). The load generator
 * runs in the server's process (its share of the CPU is counted against the import).
 *
 *   npx tsx --conditions=@orgkit/source packages/server/bench/scim-import.bench.ts
 *   ORGKIT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test SCIM_BENCH_USERS=10000 npx tsx …
 *
 * Not part of `npm test`.
 */
const USERS = Number(process.env.SCIM_BENCH_USERS ?? 10_000)
const IN_FLIGHT = Number(process.env.SCIM_BENCH_IN_FLIGHT ?? 8)
const PG_URL = process.env.ORGKIT_BENCH_DATABASE_URL

async function run(kind: 'pglite' | 'postgres') {
  const schema = `orgkit_scim_bench_${randomUUID().replaceAll('-', '').slice(0, 8)}`
  const server = await startServer({
    database: kind === 'pglite' ? { dataDir: 'memory://' } : { url: PG_URL!, schema, poolSize: 10 },
    secretKey: `bench:${'be'.repeat(32)}`,
    port: 0,
    webhookIntervalMs: 0,
    logger: (await import('pino')).default({ level: 'silent' }),
  })
  try {
    const platform = { authorization: `Bearer ${server.bootstrapToken}`, 'content-type': 'application/json' }
    const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(server.url + path, {
        method: 'POST',
        headers: { ...platform, ...headers },
        body: JSON.stringify(body),
      })
      return (await response.json()) as Record<string, string>
    }
    const admin = (await call('/v1/users', { email: 'admin@bench.test', name: 'Admin' })).id!
    const org = (await call('/v1/orgs', { name: 'Bench' }, { 'x-orgkit-user': admin })).id!
    const token = (await call(`/v1/orgs/${org}/scim-tokens`, { name: 'bench' }, { 'x-orgkit-user': admin }))
      .token!
    const scim = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }
    const base = `${server.url}/scim/v2/orgs/${org}`

    const latencies: number[] = []
    let next = 0
    let failed = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < USERS; i = next++) {
          const email = `person${i}@bench.test`
          const t = performance.now()
          const response = await fetch(`${base}/Users`, {
            method: 'POST',
            headers: scim,
            body: JSON.stringify({
              schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
              userName: email,
              name: { givenName: 'Person', familyName: String(i) },
              emails: [{ primary: true, value: email, type: 'work' }],
              displayName: `Person ${i}`,
              externalId: `00u${i}`,
              active: true,
            }),
          })
          await response.arrayBuffer()
          latencies.push(performance.now() - t)
          if (response.status !== 201) failed++
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const listed = (await (await fetch(`${base}/Users?count=0`, { headers: scim })).json()) as {
      totalResults: number
    }
    latencies.sort((a, b) => a - b)
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1)
    console.log(
      `${kind}: ${USERS} users, ${IN_FLIGHT} in flight: ${seconds.toFixed(1)} s, ${(USERS / seconds).toFixed(0)} users/s, ` +
        `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; ${failed} failed; the directory lists ${listed.totalResults}`,
    )
    if (failed > 0 || listed.totalResults !== USERS) process.exitCode = 1
  } finally {
    await server.close()
    if (kind === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL })
      await client.connect()
      await client.query(`drop schema if exists "${schema}" cascade`)
      await client.end()
    }
  }
}

/** `SCIM_BENCH_DATABASES=postgres` (or `pglite`) runs one of the two. */
const only = process.env.SCIM_BENCH_DATABASES
console.log(`SCIM import benchmark on ${availableParallelism()} cores, node ${process.version}`)
if (only !== 'postgres') await run('pglite')
if (PG_URL && only !== 'pglite') await run('postgres')
