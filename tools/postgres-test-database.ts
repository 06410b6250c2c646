import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
// By path: global setup resolves packages without the "@orgkit/source" condition.
import { migrate, openStore } from '../packages/store/src/connect.ts'
import { migrations } from '../packages/store/src/migrations/index.ts'
import { templateKey } from '../packages/store/src/pglite-template.ts'
import { TEST_DATABASE_PREFIX } from '../packages/store/test/support/test-databases.ts'

/** A test database left by a run that was killed is dropped once it is this old (runs may overlap). */
const LEFTOVER_MS = 6 * 3600_000
const TEMPLATE_PREFIX = 'orgkit_template_'

/**
 * Vitest global setup for the test PostgreSQL (ORGKIT_TEST_DATABASE_URL):
 *
 * - It commits without waiting for its write-ahead log to reach the disk (`synchronous_commit = off` for
 *   the test database's new sessions, and each test database's). A commit that waits for fdatasync took
 *   4–6 ms on one VM here against 0.35–0.5 ms; every write a test makes on PostgreSQL paid it, while the
 *   embedded database (fsync off) did not. A commit is still atomic and visible to every session at once;
 *   only a crash of the PostgreSQL server itself could lose the last commits, and no test crashes it. The
 *   run's end resets it.
 * - It makes the migrated template database that each test's database is made from
 *   (`postgresTestDatabase` in packages/store/test/support/test-databases.ts): `orgkit_template_<key>`, the
 *   key naming the migrations as the embedded template's does, so a changed migration makes a new one.
 *   Migrating a new schema cost ~1.5 s of the server's time per test server (over a hundred a run); a copy
 *   of the template ~0.15 s. A role that may not create databases gets a schema per test, as before.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.ORGKIT_TEST_DATABASE_URL
  project.provide('postgresTemplateDatabase', '')
  if (!url) return async () => {}
  await withClient(url, (client) => setSynchronousCommit(client, 'off'))
  project.provide('postgresTemplateDatabase', await templateDatabase(url))
  // Given back when the run ends, so a benchmark or anything else on that database commits durably again.
  return () => withClient(url, (client) => setSynchronousCommit(client, null))
}

/** The migrated template database's name, made now when missing; '' when this role may not make one. */
async function templateDatabase(url: string): Promise<string> {
  const sources = fileURLToPath(new URL('../packages/store/src/migrations/', import.meta.url))
  const name = `${TEMPLATE_PREFIX}${templateKey(migrations, sources)}`
  try {
    await withClient(url, (client) => dropLeftovers(client, name))
    if (await withClient(url, (client) => exists(client, name))) return name
    // Made under another name (with the time it was begun) and renamed: a run starting at the same moment
    // never copies half of one, and one killed half-way is dropped as a leftover.
    const partial = `${name}_${Date.now().toString(36)}`
    await withClient(url, async (client) => {
      await client.query(`create database "${partial}"`)
      await client.query(`comment on database "${partial}" is '${new Date().toISOString()}'`)
    })
    const target = new URL(url)
    target.pathname = `/${partial}`
    const store = await openStore({ url: target.href, poolSize: 2 })
    try {
      await migrate(store.db)
    } finally {
      await store.close()
    }
    await withClient(url, async (client) => {
      if (await exists(client, name)) return void (await client.query(`drop database "${partial}"`))
      await client.query(`alter database "${partial}" rename to "${name}"`)
    })
    return name
  } catch (error) {
    console.warn(`test PostgreSQL: a schema per test (${(error as Error).message})`)
    return ''
  }
}

/** When a database of ours was made, by its name or (a template) its comment; null: not one of ours. */
function madeAt(name: string, comment: string | null, current: string): number | null {
  const test = new RegExp(`^${TEST_DATABASE_PREFIX}([0-9a-z]+)_[0-9a-f]{10}$`).exec(name)
  if (test) return Number.parseInt(test[1]!, 36)
  const partial = new RegExp(`^${TEMPLATE_PREFIX}[0-9a-f]{16}_([0-9a-z]+)$`).exec(name)
  if (partial) return Number.parseInt(partial[1]!, 36)
  if (name === current || !new RegExp(`^${TEMPLATE_PREFIX}[0-9a-f]{16}$`).test(name)) return null
  return Date.parse(comment ?? '') || null
}

/**
 * Drops what killed runs left, once older than LEFTOVER_MS: test databases and half-made templates, and the
 * templates of other migrations (a run on another checkout may still be using its own). Never `current`.
 */
async function dropLeftovers(client: pg.Client, current: string): Promise<void> {
  const { rows } = await client.query<{ name: string; comment: string | null }>(
    `select datname as name, shobj_description(oid, 'pg_database') as comment from pg_database
      where starts_with(datname, 'orgkit_')`,
  )
  for (const { name, comment } of rows) {
    const at = madeAt(name, comment, current)
    if (at !== null && Date.now() - at > LEFTOVER_MS)
      await client.query(`drop database if exists "${name}" with (force)`)
  }
}

async function exists(client: pg.Client, name: string): Promise<boolean> {
  const { rows } = await client.query('select 1 from pg_database where datname = $1', [name])
  return rows.length > 0
}

async function setSynchronousCommit(client: pg.Client, value: 'off' | null): Promise<void> {
  try {
    const { rows } = await client.query<{ name: string }>('select current_database() as name')
    const database = `"${rows[0]!.name.replaceAll('"', '""')}"`
    await client.query(
      value === null
        ? `alter database ${database} reset synchronous_commit`
        : `alter database ${database} set synchronous_commit = ${value}`,
    )
  } catch (error) {
    console.warn(`test PostgreSQL: synchronous_commit left as it is (${(error as Error).message})`)
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}
