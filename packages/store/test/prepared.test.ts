import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isStalePlan, migrate, openStore, type Store } from '../src/index.ts'
import { insertOrgRow, insertUserRow } from './support/billing-rows.ts'
import { TARGETS } from './support/targets.ts'
import {
  embeddedTestDatabase,
  type PostgresTestDatabase,
  postgresTestDatabase,
} from './support/test-databases.ts'

/**
 * Statements run prepared on both databases (prepared.ts). A table that gains a column under a prepared
 * `select *` — another instance's migration during an upgrade — makes PostgreSQL refuse that statement: alone,
 * it is prepared again and answers; in a transaction, the transaction fails with the stale plan (the server's
 * 503 SCHEMA_CHANGED) and the next call prepares it afresh. One connection, so the statement that meets the
 * changed table is the one prepared before the change.
 */
describe.each(TARGETS)('prepared statements (%s)', (kind) => {
  let store: Store
  const embedded = kind === 'pglite' ? embeddedTestDatabase() : null
  let postgres: PostgresTestDatabase | undefined
  beforeAll(async () => {
    if (!embedded) postgres = await postgresTestDatabase()
    store = await openStore(
      embedded
        ? { dataDir: embedded.dataDir }
        : { url: postgres!.url, schema: postgres!.schema, poolSize: 1 },
    )
    await migrate(store.db)
  })
  afterAll(async () => {
    await store?.close()
    embedded?.remove()
    await postgres?.remove()
  })

  const org = (id: string) => store.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst()
  const addColumn = (table: string) =>
    sql
      .raw(`alter table ${table} add column prepared_test_${randomUUID().slice(0, 8)} text`)
      .execute(store.db)

  it('runs a statement alone again when its table gained a column since it was prepared', async () => {
    const id = await insertOrgRow(store.db)
    expect((await org(id))?.id).toBe(id)
    await addColumn('orgs')
    const row = await org(id)
    expect(row?.id).toBe(id)
    expect(Object.keys(row!).some((k) => k.startsWith('prepared_test_'))).toBe(true)
  })

  it('fails a transaction that meets a stale plan, then prepares the statement afresh', async () => {
    const id = await insertUserRow(store.db)
    const user = (db: typeof store.db) =>
      db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    await user(store.db)
    await addColumn('users')
    const failed = await store.db
      .transaction()
      .execute((tx) => user(tx))
      .then(
        () => null,
        (error: unknown) => error,
      )
    expect(isStalePlan(failed)).toBe(true)
    expect((await user(store.db)).id).toBe(id)
    await expect(store.db.transaction().execute((tx) => user(tx))).resolves.toMatchObject({ id })
  })
  it('parses a statement again after a value failed to serialise at bind (pg closed it, yet counted it parsed)', async () => {
    const json = (value: unknown) => sql<{ j: unknown }>`select ${value}::jsonb as j`.execute(store.db)
    expect((await json(JSON.stringify({ a: 1 }))).rows).toEqual([{ j: { a: 1 } }])
    const unserialisable = {
      toPostgres: () => {
        throw new Error('no')
      },
    }
    await expect(json(unserialisable)).rejects.toThrow('no')
    expect((await json(JSON.stringify({ a: 2 }))).rows).toEqual([{ j: { a: 2 } }])
    expect((await json(JSON.stringify({ a: 3 }))).rows).toEqual([{ j: { a: 3 } }])
  })
})
