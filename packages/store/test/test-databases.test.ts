import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { openStore, tokens } from '../src/index.ts'
import { borrowEmbeddedDatabase, embeddedTestDatabase } from './support/test-databases.ts'

/** Every table's row count, the sequences' next values, and what the session holds. */
async function state(pglite: PGlite) {
  const tables = (
    await pglite.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables where schemaname = 'public' order by 1`,
    )
  ).rows.map((row) => row.name)
  const counts: Record<string, number> = {}
  for (const table of tables)
    counts[table] = (await pglite.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n
  const sequences = (
    await pglite.query<{ name: string; last: string | null }>(
      `select sequencename as name, last_value::text as last from pg_sequences order by 1`,
    )
  ).rows
  const [session] = (
    await pglite.query<{ prepared: number; locks: number; role: string }>(
      `select (select count(*)::int from pg_prepared_statements) as prepared,
        (select count(*)::int from pg_locks where locktype = 'advisory') as locks,
        current_setting('session_replication_role') as role`,
    )
  ).rows
  return { counts, sequences, session }
}

describe("the tests' embedded databases, reused from file to file", () => {
  it('come back as a new copy of the template would be: rows, sequences, session and key file', async () => {
    const copy = embeddedTestDatabase()
    const { openPglite } = await import('../src/index.ts')
    const pristine = await openPglite({ dataDir: copy.dataDir })
    const expected = await state(pristine)
    await pristine.close()
    copy.remove()

    const first = await borrowEmbeddedDatabase()
    const store = await openStore({ dataDir: first.dataDir, pglite: first.pglite })
    // Rows in a table with a delete trigger, the one row the migrations put in, an identity advanced; a
    // prepared statement (the store prepares its own), a lock and a setting left on the session.
    await tokens.createPlatformToken(store.db, 'left behind')
    await sql`update revision set value = 41`.execute(store.db)
    await sql`insert into change_log (revision, changes) values (41, '[]')`.execute(store.db)
    await sql`select nextval('audit_log_id_seq')`.execute(store.db)
    await sql`select pg_advisory_lock(7)`.execute(store.db)
    await sql`set session_replication_role = replica`.execute(store.db)
    await store.close()
    writeFileSync(join(first.dataDir, 'secret.key'), 'a key\n')
    expect((await state(first.pglite)).counts.platform_tokens).toBe(1)
    await first.release()

    const second = await borrowEmbeddedDatabase()
    try {
      expect(second.pglite).toBe(first.pglite)
      expect(await state(second.pglite)).toEqual(expected)
      expect(existsSync(join(second.dataDir, 'secret.key'))).toBe(false)
      const reopened = await openStore({ dataDir: second.dataDir, pglite: second.pglite })
      expect(await tokens.countPlatformTokens(reopened.db)).toBe(0)
      await reopened.close()
      // The store left it open: the borrower's to give back.
      expect(second.pglite.closed).toBe(false)
    } finally {
      await second.release()
    }
  })

  it('are closed, not reused, when a test changed their schema', async () => {
    const changed = await borrowEmbeddedDatabase()
    await changed.pglite.exec('create table left_over (id int)')
    await changed.release()
    expect(changed.pglite.closed).toBe(true)
    expect(existsSync(changed.dataDir)).toBe(false)
    const next = await borrowEmbeddedDatabase()
    try {
      expect(next.pglite).not.toBe(changed.pglite)
      expect((await next.pglite.query(`select to_regclass('left_over') as t`)).rows).toEqual([{ t: null }])
    } finally {
      await next.release()
    }
  })
})
