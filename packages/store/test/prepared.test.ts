import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Executor, isStalePlan, migrate, openStore, type Store } from '../src/index.ts'
import { copyOut } from '../src/pg-driver.ts'
import { COMMITS, DEFERRED, prepareStatements } from '../src/prepared.ts'
import { insertOrgRow, insertUserRow } from './support/billing-rows.ts'
import { TARGETS } from './support/targets.ts'
import {
  adminQuery,
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

  // A transaction's last statement (`COMMITS`) rides with its commit on PostgreSQL (below); here, where it
  // doesn't, the transaction commits or rolls back as any other.
  it('commits a transaction that ends with a statement marked as its last, and keeps nothing when it fails', async () => {
    const user = () => insertUserRow(store.db)
    const named = (tx: Executor, id: string) =>
      sql`${sql.raw(COMMITS)}update users set name = ${'Last'} where id = ${id}`.execute(tx)
    const nameOf = async (id: string) =>
      (await store.db.selectFrom('users').select('name').where('id', '=', id).executeTakeFirstOrThrow()).name
    const [a, b] = [await user(), await user()]
    await store.db.transaction().execute(async (tx) => {
      await tx.updateTable('users').set({ name: 'First' }).where('id', '=', b).execute()
      await named(tx, a)
    })
    expect([await nameOf(a), await nameOf(b)]).toEqual(['Last', 'First'])
    await expect(
      store.db.transaction().execute(async (tx) => {
        await tx.updateTable('users').set({ name: 'Kept?' }).where('id', '=', b).execute()
        await sql`${sql.raw(COMMITS)}select 1 / ${0}::int as x`.execute(tx)
      }),
    ).rejects.toThrow(/division by zero/)
    expect(await nameOf(b)).toBe('First')
  })
})

/**
 * On PostgreSQL a transaction's `begin` is answered at once and sent with its first statement, and its
 * `commit` behind a statement marked as its last (prepared.ts, `Pipelined`): a round trip less a write for
 * each. Counted here by the messages that end a round trip (a Sync, a simple query), on the store's one
 * connection.
 */
describe.runIf(TARGETS.includes('postgres' as never))(
  'begin and commit sent with statements (postgres)',
  () => {
    let store: Store
    let postgres: PostgresTestDatabase
    beforeAll(async () => {
      postgres = await postgresTestDatabase()
      store = await openStore({ url: postgres.url, schema: postgres.schema, poolSize: 1 })
      await migrate(store.db)
    })
    afterAll(async () => {
      await store?.close()
      await postgres?.remove()
    })

    /** What `run` sends: the round trips (Syncs and simple queries) and the simple queries' text. */
    async function roundTrips(run: () => Promise<unknown>): Promise<{ trips: number; simple: string[] }> {
      const proto = pg.Connection.prototype as unknown as Record<
        'sync' | 'query',
        (...a: unknown[]) => unknown
      >
      const { sync, query } = proto
      const seen = { trips: 0, simple: [] as string[] }
      proto.sync = function (this: unknown, ...a: unknown[]) {
        seen.trips++
        return sync.apply(this, a)
      }
      proto.query = function (this: unknown, text: unknown) {
        seen.trips++
        seen.simple.push(String(text))
        return query.call(this, text)
      }
      try {
        await run()
      } finally {
        Object.assign(proto, { sync, query })
      }
      return seen
    }
    /** Whether another connection sees the user: written and committed. */
    async function visibleElsewhere(id: string): Promise<boolean> {
      const other = new pg.Client({
        connectionString: postgres.url,
        ...(postgres.schema && { options: `-c search_path="${postgres.schema}"` }),
      })
      await other.connect()
      try {
        return (await other.query('select id from users where id = $1', [id])).rowCount === 1
      } finally {
        await other.end()
      }
    }
    const txid = (db: Executor) =>
      sql<{ id: string }>`select txid_current()::text as id, ${1}::int as one`.execute(db)

    it('runs the first statement inside the transaction, one round trip with its begin', async () => {
      await store.db.transaction().execute((tx) => txid(tx)) // the connection's first begin prepares it
      let ids: string[] = []
      const seen = await roundTrips(() =>
        store.db.transaction().execute(async (tx) => {
          ids = [(await txid(tx)).rows[0]!.id, (await txid(tx)).rows[0]!.id]
        }),
      )
      expect(ids[0]).toBe(ids[1]) // one transaction: begin went before the first statement
      expect(seen).toEqual({ trips: 3, simple: ['commit'] }) // before: begin, two statements, commit
    })

    it('undoes the first statement when the transaction rolls back', async () => {
      let id = ''
      await expect(
        store.db.transaction().execute(async (tx) => {
          id = await insertUserRow(tx)
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      expect(
        await store.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst(),
      ).toBeUndefined()
    })

    it('sends nothing for a transaction that ran no statement, and leaves the connection out of one', async () => {
      const seen = await roundTrips(() => store.db.transaction().execute(async () => {}))
      expect(seen).toEqual({ trips: 0, simple: [] })
      await expect(
        store.db.transaction().execute(async () => Promise.reject(new Error('no'))),
      ).rejects.toThrow('no')
      // Written outside a transaction on the store's one connection: another connection sees it at once.
      expect(await visibleElsewhere(await insertUserRow(store.db))).toBe(true)
    })

    it('fails the transaction when its first statement fails, and the connection goes on', async () => {
      await expect(
        store.db.transaction().execute((tx) => sql`select 1 / ${0}::int as x`.execute(tx)),
      ).rejects.toThrow(/division by zero/)
      const id = await store.db.transaction().execute((tx) => insertUserRow(tx))
      expect(await visibleElsewhere(id)).toBe(true)
    })

    it('sends the begin alone before a first statement without parameters (a savepoint, say)', async () => {
      const plain = sql<{ id: string }>`select txid_current()::text as id`
      let ids: string[] = []
      const seen = await roundTrips(() =>
        store.db.transaction().execute(async (tx) => {
          ids = [(await plain.execute(tx)).rows[0]!.id, (await plain.execute(tx)).rows[0]!.id]
        }),
      )
      expect(ids[0]).toBe(ids[1])
      expect(seen.trips).toBe(4)
      expect(seen.simple).toEqual([
        'select txid_current()::text as id',
        'select txid_current()::text as id',
        'commit',
      ])
    })

    it('runs a COPY first in a transaction inside it, its begin sent first', async () => {
      await store.db.transaction().execute((tx) => txid(tx)) // the connection's first begin prepares it
      const ids = await store.db.transaction().execute(async (tx) => {
        const chunks: Buffer[] = []
        await copyOut(tx, 'copy (select txid_current()) to stdout', (bytes) =>
          chunks.push(Buffer.from(bytes)),
        )
        return [Buffer.concat(chunks).toString().trim(), (await txid(tx)).rows[0]!.id]
      })
      expect(ids[0]).toBe(ids[1])
    })

    // A query object (copyOut's COPY) answers through itself, not a promise: when the begin sent ahead of it
    // fails (the connection lost), the copy must fail with it, not wait for ever (no one awaits the begin).
    it('fails a COPY first in a transaction when its connection is lost before the begin went', async () => {
      const told: string[] = []
      const own = await openStore({
        url: postgres.url,
        schema: postgres.schema,
        poolSize: 1,
        onConnectionError: (error, held) => told.push(`${held}: ${error.message}`),
      })
      try {
        await own.db.transaction().execute((tx) => txid(tx)) // the connection's first begin prepares it
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(own.db)).rows[0]!.pid
        const copied = own.db.transaction().execute(async (tx) => {
          await adminQuery(postgres.url, `select pg_terminate_backend(${pid})`)
          await expect.poll(() => told.length, { timeout: 5000 }).toBeGreaterThan(0)
          return copyOut(tx, 'copy (select 1) to stdout', () => {})
        })
        const outcome = await Promise.race([
          copied.then(
            () => 'copied',
            (error: Error) => `failed: ${error.message}`,
          ),
          new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
        ])
        expect(outcome).toMatch(/^failed: .*(not queryable|terminat)/)
      } finally {
        await own.close()
      }
    })

    /** Inserts a user in a statement marked as its transaction's last; its id. */
    const insertLast = async (tx: Executor, id = randomUUID()) => {
      await sql`${sql.raw(COMMITS)}insert into users (id, email, name, password_hash)
        values (${id}, ${`${id}@example.com`}, ${'U'}, null)`.execute(tx)
      return id
    }
    /** A store of its own on the test database, one connection, telling the connections it loses. */
    const ownStore = (told: string[], prepare = true) =>
      openStore({
        url: postgres.url,
        schema: postgres.schema,
        poolSize: 1,
        prepare,
        onConnectionError: (error, held) => told.push(`${held}: ${error.message}`),
      })

    it('sends the commit with a last statement: no round trip of its own, begin included when it is the first', async () => {
      await store.db.transaction().execute((tx) => txid(tx)) // the connection's first begin prepares it
      let ids: string[] = []
      const seen = await roundTrips(() =>
        store.db.transaction().execute(async (tx) => {
          ids = [(await txid(tx)).rows[0]!.id, await insertLast(tx)]
        }),
      )
      expect(seen).toEqual({ trips: 2, simple: [] }) // before: begin and the first, the last, commit
      expect(await visibleElsewhere(ids[1]!)).toBe(true)
      let alone = ''
      const once = await roundTrips(() =>
        store.db.transaction().execute(async (tx) => {
          alone = await insertLast(tx)
        }),
      )
      expect(once).toEqual({ trips: 1, simple: [] })
      expect(await visibleElsewhere(alone)).toBe(true)
    })

    it('commits nothing when the last statement fails, and the connection goes on', async () => {
      let first = ''
      await expect(
        store.db.transaction().execute(async (tx) => {
          first = await insertUserRow(tx)
          await sql`${sql.raw(COMMITS)}select 1 / ${0}::int as x`.execute(tx)
        }),
      ).rejects.toThrow(/division by zero/)
      expect(await visibleElsewhere(first)).toBe(false)
      // The failed transaction was rolled back, not left open on the connection: the next one commits.
      expect(await visibleElsewhere(await store.db.transaction().execute((tx) => insertLast(tx)))).toBe(true)
    })

    it("fails with the commit's own error when the commit fails, keeping nothing of the transaction", async () => {
      await sql`create table pipelined_deferred (id int unique deferrable initially deferred)`.execute(
        store.db,
      )
      const insert = (tx: Executor, marked: boolean) =>
        sql`${sql.raw(marked ? COMMITS : '')}insert into pipelined_deferred values (${1}::int)`.execute(tx)
      let user = ''
      const failed = store.db.transaction().execute(async (tx) => {
        user = await insertUserRow(tx)
        await insert(tx, false)
        await insert(tx, true) // goes in; the unique check, deferred, fails the commit
      })
      // The caller's rollback goes to the database (a warning there, after a failed commit): where the commit
      // never ran, its Parse or Bind cancelled, it is what ends the transaction.
      const sent = await roundTrips(() => expect(failed).rejects.toMatchObject({ code: '23505' }))
      expect(sent.simple).toEqual(['rollback'])
      expect(await visibleElsewhere(user)).toBe(false)
      const rows = await sql<{ n: number }>`select count(*)::int as n from pipelined_deferred`.execute(
        store.db,
      )
      expect(rows.rows).toEqual([{ n: 0 }])
      expect(await visibleElsewhere(await store.db.transaction().execute((tx) => insertLast(tx)))).toBe(true)
    })

    it('refuses a statement after the last (it would run outside the transaction), and its rollback', async () => {
      let id = ''
      await expect(
        store.db.transaction().execute(async (tx) => {
          id = await insertLast(tx)
          await txid(tx)
        }),
      ).rejects.toThrow(/committed with its last statement/)
      expect(await visibleElsewhere(id)).toBe(true) // committed with the last: nothing can undo it
      expect(await visibleElsewhere(await store.db.transaction().execute((tx) => insertLast(tx)))).toBe(true)
    })

    it('refuses a statement sent while the last is still being answered (it would run after the commit)', async () => {
      // Kysely sends a transaction's statements one after another; a client used directly need not.
      const client = new pg.Client({
        connectionString: postgres.url,
        ...(postgres.schema && { options: `-c search_path="${postgres.schema}"` }),
      })
      await client.connect()
      try {
        prepareStatements(client, { deferBegin: true })
        await client.query('begin') // a connection's first begin goes alone, and prepares it
        await client.query('commit')
        await client.query('begin')
        const id = randomUUID()
        const last = client.query(
          `${COMMITS}insert into users (id, email, name, password_hash)
            select $1, $2, 'U', null from pg_sleep($3::float8)`,
          [id, `${id}@example.com`, 0.3],
        )
        await expect(client.query('select $1::int as one', [1])).rejects.toThrow(/still being answered/)
        await last
        await client.query('commit')
        expect(await visibleElsewhere(id)).toBe(true)
        const txid = async () => (await client.query('select txid_current()::text as id')).rows[0].id
        expect(await txid()).not.toBe(await txid()) // the connection is out of any transaction
      } finally {
        await client.end()
      }
    })

    it("says the transaction committed when only reading the last statement's rows failed, after its commit", async () => {
      await sql`create type pipelined_mood as enum ('calm')`.execute(store.db)
      const oid = (
        await sql<{ oid: number }>`select 'pipelined_mood'::regtype::oid::int as oid`.execute(store.db)
      ).rows[0]!.oid
      pg.types.setTypeParser(oid, () => {
        throw new Error('unreadable')
      })
      try {
        let id = ''
        await expect(
          store.db.transaction().execute(async (tx) => {
            id = randomUUID()
            await sql`${sql.raw(COMMITS)}insert into users (id, email, name, password_hash)
              values (${id}, ${`${id}@example.com`}, ${'U'}, null) returning 'calm'::pipelined_mood as mood`.execute(
              tx,
            )
          }),
        ).rejects.toThrow(/committed with its last statement/)
        expect(await visibleElsewhere(id)).toBe(true)
      } finally {
        pg.types.setTypeParser(oid, (text: string) => text)
      }
    })

    it('fails, committing nothing, when the connection is lost while the last statement runs', async () => {
      const told: string[] = []
      const own = await ownStore(told)
      const admin = new pg.Client({ connectionString: postgres.url })
      await admin.connect()
      try {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(own.db)).rows[0]!.pid
        let user = ''
        const ran = own.db.transaction().execute(async (tx) => {
          user = await insertUserRow(tx)
          await sql`${sql.raw(COMMITS)}select pg_sleep(${30}::int)`.execute(tx)
        })
        const outcome = ran.then(
          () => 'committed',
          (error: Error) => `failed: ${error.message}`,
        )
        const sleeping = async () =>
          (
            await admin.query("select 1 from pg_stat_activity where pid = $1 and query like '%pg_sleep%'", [
              pid,
            ])
          ).rowCount
        await expect.poll(sleeping, { timeout: 5000 }).toBe(1)
        await admin.query('select pg_terminate_backend($1)', [pid])
        expect(await outcome).toMatch(/^failed: .*(not queryable|terminat)/)
        expect(await visibleElsewhere(user)).toBe(false)
        expect(told).toEqual([expect.stringMatching(/^in use: /)])
        // The pool drops the lost connection: the next transaction runs on a new one.
        expect(await visibleElsewhere(await own.db.transaction().execute((tx) => insertLast(tx)))).toBe(true)
      } finally {
        await admin.end()
        await own.close()
      }
    })

    /** A user inserted by a statement marked DEFERRED (answered at once: nothing is read back). */
    const insertDeferred = async (tx: Executor, id = randomUUID()) => {
      const answer = await sql`${sql.raw(DEFERRED)}insert into users (id, email, name, password_hash)
        values (${id}, ${`${id}@example.com`}, ${'D'}, null)`.execute(tx)
      expect(answer.rows).toEqual([])
      return id
    }

    it('sends a deferred statement with the last one and its commit: no round trip of its own', async () => {
      let ids: string[] = []
      const write = () =>
        roundTrips(() =>
          store.db.transaction().execute(async (tx) => {
            await txid(tx)
            const deferred = [await insertDeferred(tx), await insertDeferred(tx)]
            ids = [...deferred, await insertLast(tx)]
          }),
        )
      // The first time on the connection, the deferred inserts go alone, prepared there (pg records it).
      expect(await write()).toEqual({ trips: 4, simple: [] })
      for (const id of ids) expect(await visibleElsewhere(id)).toBe(true)
      // Begin with the first statement; both deferred inserts, the last and its commit in one round trip.
      expect(await write()).toEqual({ trips: 2, simple: [] })
      for (const id of ids) expect(await visibleElsewhere(id)).toBe(true)
    })

    it('runs a deferred statement where it was: ahead of the last, which sees it', async () => {
      let seen: { n: number }[] = []
      await store.db.transaction().execute(async (tx) => {
        await txid(tx)
        const id = await insertDeferred(tx)
        // Ahead, so the last statement's locks (the change feed's revision row) come after the insert's.
        seen = (
          await sql<{
            n: number
          }>`${sql.raw(COMMITS)}select count(*)::int as n from users where id = ${id}`.execute(tx)
        ).rows
      })
      expect(seen).toEqual([{ n: 1 }])
    })

    it('sends a deferred statement alone when the last is not yet parsed on the connection', async () => {
      // pg records the last parsed at the first ParseComplete of the round trip: a deferred one's.
      const tag = randomUUID().slice(0, 8)
      let ids: string[] = []
      const seen = await roundTrips(() =>
        store.db.transaction().execute(async (tx) => {
          await txid(tx)
          const id = await insertDeferred(tx)
          const last = randomUUID()
          await sql`${sql.raw(COMMITS)}insert into users (id, email, name, password_hash)
            values (${last}, ${`${last}@example.com`}, ${`new ${tag}`}, null)`.execute(tx)
          ids = [id, last]
        }),
      )
      expect(seen).toEqual({ trips: 3, simple: [] })
      for (const id of ids) expect(await visibleElsewhere(id)).toBe(true)
    })

    it('fails a deferred statement whose value cannot be sent at once, and the transaction goes on', async () => {
      const bad = {
        toPostgres: () => {
          throw new Error('no text for this value')
        },
      }
      const ids = await store.db.transaction().execute(async (tx) => {
        await txid(tx)
        await expect(
          sql`${sql.raw(DEFERRED)}insert into users (id, email, name) values (${randomUUID()}, ${'x@example.com'}, ${bad})`.execute(
            tx,
          ),
        ).rejects.toThrow('no text for this value')
        return [await insertDeferred(tx), await insertLast(tx)]
      })
      for (const id of ids) expect(await visibleElsewhere(id)).toBe(true)
    })

    it('commits nothing when a deferred statement fails ahead of the last, and the connection goes on', async () => {
      const taken = await store.db.transaction().execute((tx) => insertLast(tx))
      const last = randomUUID()
      const failed = store.db.transaction().execute(async (tx) => {
        await txid(tx)
        await insertDeferred(tx, taken) // a duplicate: refused only once sent, with the last statement
        await insertLast(tx, last)
      })
      // Its error is the transaction's; the rollback goes to the database, which had the transaction open.
      const sent = await roundTrips(() => expect(failed).rejects.toMatchObject({ code: '23505' }))
      expect(sent.simple).toEqual(['rollback'])
      expect(await visibleElsewhere(last)).toBe(false)
      expect(await visibleElsewhere(await store.db.transaction().execute((tx) => insertLast(tx)))).toBe(true)
    })

    it('sends a deferred statement first, alone, before any statement but the last, and drops it on rollback', async () => {
      // A read after it sees it: it went first, in order.
      const seen = await store.db.transaction().execute(async (tx) => {
        const id = await insertDeferred(tx)
        const rows = await sql<{ id: string }>`select id from users where id = ${id}`.execute(tx)
        return { id, rows: rows.rows }
      })
      expect(seen.rows).toEqual([{ id: seen.id }])
      expect(await visibleElsewhere(seen.id)).toBe(true)
      // A commit with no last statement sends it before the commit.
      const committed = await store.db.transaction().execute(async (tx) => {
        await txid(tx)
        return insertDeferred(tx)
      })
      expect(await visibleElsewhere(committed)).toBe(true)
      // A rollback: never sent, nothing kept, and the next transaction does not carry it.
      let dropped = ''
      const trips = await roundTrips(() =>
        expect(
          store.db.transaction().execute(async (tx) => {
            await txid(tx)
            dropped = await insertDeferred(tx)
            throw new Error('changed my mind')
          }),
        ).rejects.toThrow('changed my mind'),
      )
      expect(trips.simple).toEqual(['rollback'])
      const next = await store.db.transaction().execute(async (tx) => {
        await txid(tx)
        return insertLast(tx)
      })
      expect(await visibleElsewhere(next)).toBe(true)
      expect(await visibleElsewhere(dropped)).toBe(false)
    })

    it('with statements unprepared (prepare: false), sends the commit alone after a last statement', async () => {
      const own = await ownStore([], false)
      try {
        let id = ''
        const seen = await roundTrips(() =>
          own.db.transaction().execute(async (tx) => {
            id = await insertLast(tx)
          }),
        )
        expect(seen).toEqual({ trips: 3, simple: ['begin', 'commit'] })
        expect(await visibleElsewhere(id)).toBe(true)
      } finally {
        await own.close()
      }
    })
  },
)
