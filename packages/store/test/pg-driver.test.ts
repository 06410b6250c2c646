import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { openStore, type Store } from '../src/index.ts'
import { copyOut } from '../src/pg-driver.ts'
import { TARGETS, useStore } from './support/targets.ts'
import { adminQuery, type PostgresTestDatabase, postgresTestDatabase } from './support/test-databases.ts'

/** Every byte value, so a copy decoded as text anywhere on the way would not come back equal. */
const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

/** What `copyOut` handed over, in one buffer. */
async function copied(db: Parameters<typeof copyOut>[0], statement: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  await copyOut(db, statement, (bytes) => chunks.push(Buffer.from(bytes))) // copied: the client's memory
  return Buffer.concat(chunks)
}

/**
 * The store's driver (pg-driver.ts): Kysely's, on connections that keep their client, so that `COPY … TO
 * STDOUT` can hand its bytes over as they came (the engine's stored state, engine-state-parts.ts) — in the
 * transaction it is run in, on both databases.
 */
describe.each(TARGETS)('the store driver (%s)', (kind) => {
  const handle = useStore(kind)

  it('hands a COPY’s bytes over as the database sent them, binary format untouched', async () => {
    const db = handle.store.db
    await sql`create table copy_bytes (n int, b bytea)`.execute(db)
    await sql`insert into copy_bytes values (1, ${EVERY_BYTE}), (2, ${EVERY_BYTE.subarray(0, 3)})`.execute(db)
    const out = await copied(db, 'copy (select b from copy_bytes order by n) to stdout (format binary)')
    const row = (data: Buffer) => Buffer.concat([Buffer.from([0, 1]), u32(data.length), data])
    expect(out).toEqual(
      Buffer.concat([
        Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
        u32(0), // flags
        u32(0), // header extension
        row(EVERY_BYTE),
        row(EVERY_BYTE.subarray(0, 3)),
        Buffer.from([0xff, 0xff]), // the end
      ]),
    )
  })

  it('fails with the database’s error, and the connection answers after it', async () => {
    const db = handle.store.db
    const error = await copied(db, 'copy (select * from no_such_table) to stdout').catch((e: unknown) => e)
    expect((error as { code?: string }).code).toBe('42P01')
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }])
  })

  it('ends with the error its consumer threw, once the database is done, and the connection answers after', async () => {
    const db = handle.store.db
    const thrown = new Error('consumer refused')
    let calls = 0
    const error = await copyOut(db, 'copy (select g from generate_series(1, 3) g) to stdout', () => {
      calls++
      throw thrown
    }).catch((e: unknown) => e)
    expect(error).toBe(thrown)
    expect(calls).toBe(1) // nothing more once it threw
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }])
  })

  it('refuses a statement that is not a COPY … TO, and the connection answers after it', async () => {
    const db = handle.store.db
    await expect(copied(db, 'select 1')).rejects.toThrow(/COPY … TO STDOUT only/)
    // The embedded database ends its process on a COPY FROM STDIN that fails (node-postgres' own query too).
    if (kind === 'postgres')
      await expect(copied(db, 'copy copy_bytes from stdin')).rejects.toThrow(/COPY … TO STDOUT only/)
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }])
  })

  // A restart, a failover or an operator's kill while a statement holds the connection (connect.ts handles
  // one idle in the pool: onConnectionError). pg-pool listens for a client's 'error' only while it is idle:
  // unheard, the event would end the process (vitest reports it as an unhandled error).
  it.skipIf(kind === 'pglite')(
    'fails a statement whose connection the database ends, not the process',
    async () => {
      const db = handle.store.db
      const error = await db
        .transaction()
        .execute(async (tx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)
          // Its failure kept from the start: it may come before the kill's answer does.
          const slept = sql`select pg_sleep(5)`.execute(tx).then(
            () => new Error('slept through'),
            (e: unknown) => e,
          )
          await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(db)
          throw await slept
        })
        .catch((e: unknown) => e)
      expect(String(error)).toMatch(/terminat|connection error/)
      // The ended connection left the pool: the next statements run on others.
      for (let i = 0; i < 3; i++)
        expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }])
    },
  )

  it.skipIf(kind === 'pglite')(
    'tells onConnectionError once of a connection ended in use, apart from the idle ones the pool tells',
    async () => {
      await withReportingStore(async (store, postgres, told) => {
        // Two connections idle in the pool, each statement holding one while the other runs.
        const pid = sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.2)`
        const pids = (await Promise.all([pid.execute(store.db), pid.execute(store.db)])).map(
          (r) => r.rows[0]!.pid,
        )
        let inUse = 0
        await expect(
          store.db.transaction().execute(async (tx) => {
            inUse = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid
            const slept = sql`select pg_sleep(5)`.execute(tx).catch((e: unknown) => e)
            await adminQuery(postgres.url, `select pg_terminate_backend(${inUse})`)
            throw await slept
          }),
        ).rejects.toThrow(/terminat|connection/)
        // The other one, idle in the pool: the pool tells it.
        const idle = pids.find((p) => p !== inUse)!
        await adminQuery(postgres.url, `select pg_terminate_backend(${idle})`)
        await expect.poll(() => told.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
        expect(told.filter((t) => t.startsWith('in use:'))).toHaveLength(1)
        expect(told.filter((t) => t.startsWith('idle:'))).toHaveLength(1)
        expect(told.every((t) => /terminat/.test(t))).toBe(true)
      })
    },
  )

  // Killed between two statements (idle in its transaction), a client hears of it twice: the database's
  // FATAL message, with no statement to fail, then the socket's end ("terminated unexpectedly").
  it.skipIf(kind === 'pglite')(
    'tells onConnectionError once of a connection ended while a transaction holds it between statements',
    async () => {
      await withReportingStore(async (store, postgres, told) => {
        await expect(
          store.db.transaction().execute(async (tx) => {
            const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid
            await adminQuery(postgres.url, `select pg_terminate_backend(${pid})`)
            await expect.poll(() => told.length, { timeout: 5000 }).toBeGreaterThan(0)
            await new Promise((resolve) => setTimeout(resolve, 300)) // still held: the socket's end comes
            return sql`select 1`.execute(tx)
          }),
        ).rejects.toThrow(/queryable|terminat|connection/)
        await new Promise((resolve) => setTimeout(resolve, 100))
        expect(told).toHaveLength(1)
        expect(told[0]).toMatch(/^in use: .*terminat/)
      })
    },
  )

  // The embedded database is one session: there is no other connection to write meanwhile.
  it.skipIf(kind === 'pglite')('copies in its transaction’s snapshot, not what committed since', async () => {
    const db = handle.store.db
    await sql`create table copy_snapshot (n int)`.execute(db)
    await sql`insert into copy_snapshot values (1)`.execute(db)
    const inside = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (tx) => {
        await sql`select count(*) from copy_snapshot`.execute(tx) // the snapshot is taken here
        await sql`insert into copy_snapshot values (2)`.execute(db) // another connection, committed
        return copied(tx, 'copy copy_snapshot to stdout')
      })
    expect(inside.toString()).toBe('1\n')
    expect((await copied(db, 'copy copy_snapshot to stdout')).toString()).toBe('1\n2\n')
  })
})

/** A PostgreSQL store of its own whose `onConnectionError` reports go to `told` ("held: message"). */
async function withReportingStore(
  test: (store: Store, postgres: PostgresTestDatabase, told: string[]) => Promise<void>,
): Promise<void> {
  const told: string[] = []
  const postgres = await postgresTestDatabase()
  const store = await openStore({
    url: postgres.url,
    schema: postgres.schema,
    onConnectionError: (error, held) => told.push(`${held}: ${error.message}`),
  })
  try {
    await test(store, postgres, told)
  } finally {
    await store.close()
    await postgres.remove()
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
