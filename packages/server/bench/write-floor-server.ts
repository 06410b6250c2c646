import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import pg from 'pg'

/**
 * The floor for the write bench: what a durable write over HTTP costs on this machine and this PostgreSQL
 * with nothing of Orgkit's in it. Plain `node:http` reads the body and `JSON.parse`s it, then makes the
 * round trips Orgkit's binding create makes — `begin` with the org's row locked; the insert, prepared,
 * `returning *`; an audit row and the revision row's bump with the `commit` behind them — on one connection,
 * and answers a small JSON object. No validation, authorization, engine, hash chain, change feed or outbox:
 * Orgkit's write costs this plus what those take. Its tables live in WRITE_BENCH_SCHEMA (the bench drops it).
 * Prints `{url}` on one line when ready.
 */
const url = process.env.WRITE_BENCH_URL
const schema = process.env.WRITE_BENCH_SCHEMA
if (!url || !schema) throw new Error('write-floor-server.ts needs WRITE_BENCH_URL and WRITE_BENCH_SCHEMA')
// Named as Orgkit's pools are (store/connect.ts), so the bench reads its backend's CPU the same way.
const db = new pg.Client({ connectionString: url, application_name: `orgkit:${schema}` })
await db.connect()
await db.query(`
  create schema "${schema}";
  set search_path to "${schema}";
  create table orgs (id text primary key, name text not null);
  create table bindings (
    id uuid primary key, org_id text not null references orgs, user_id uuid not null, role text not null,
    resource_id text not null, created_at timestamptz not null default now()
  );
  create index on bindings (org_id, user_id);
  create table audit (
    seq bigserial primary key, org_id text not null, action text not null, data jsonb not null,
    at timestamptz not null default now()
  );
  create table revision (id int primary key, value bigint not null);
  insert into revision values (1, 0);
`)
const orgs = new Set<string>()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** One binding create: three round trips, the last carrying the commit, as Orgkit's does on PostgreSQL. */
async function bind(orgId: string, userId: string, role: string, resourceId: string) {
  if (!orgs.has(orgId)) {
    await db.query('insert into orgs values ($1, $2) on conflict do nothing', [orgId, orgId])
    orgs.add(orgId)
  }
  const org = db.escapeLiteral(orgId)
  await db.query(`begin; select * from orgs where id = ${org} for no key update`)
  try {
    const { rows } = await db.query({
      name: 'insert_binding',
      text: 'insert into bindings (id, org_id, user_id, role, resource_id) values ($1, $2, $3, $4, $5) returning *',
      values: [randomUUID(), orgId, userId, role, resourceId],
    })
    const data = db.escapeLiteral(JSON.stringify(rows[0]))
    await db.query(
      `with entry as (insert into audit (org_id, action, data) values (${org}, 'binding.create', ${data}))
       update revision set value = value + 1 where id = 1; commit`,
    )
    return rows[0] as { id: string }
  } catch (error) {
    await db.query('rollback')
    throw error
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const orgId = /^\/v1\/orgs\/([^/]+)\/bindings$/.exec(req.url ?? '')?.[1]
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      principal?: { id?: string }
      role?: string
      resourceId?: string
    }
    const userId = body.principal?.id ?? ''
    if (!orgId || !UUID.test(userId) || !body.role || !body.resourceId) {
      res.writeHead(400).end()
      return
    }
    bind(orgId, userId, body.role, body.resourceId).then(
      (row) => {
        const text = JSON.stringify({ id: row.id, revision: 1 })
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        res.end(text)
      },
      () => res.writeHead(500).end(),
    )
  })
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number }
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, token: 'none' })}\n`)
})
process.on('SIGTERM', () => server.close(() => void db.end().then(() => process.exit(0))))
