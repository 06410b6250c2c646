import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import { describe, expect, inject, it } from 'vitest'
import { openStore, tokens } from '../src/index.ts'
import { borrowEmbeddedDatabase, embeddedTestDatabase } from './support/test-databases.ts'

/** Every table's rows (a digest), the sequences' next values, and what the session holds. */
async function state(pglite: PGlite) {
  const tables = (
    await pglite.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables where schemaname = 'public' order by 1`,
    )
  ).rows.map((row) => row.name)
  const rows: Record<string, string> = {}
  for (const table of tables)
    rows[table] = (
      await pglite.query<{ digest: string }>(
        `select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as digest from ${table} t`,
      )
    ).rows[0]!.digest
  const sequences = (
    await pglite.query<{ name: string; last: string | null }>(
      `select sequencename as name, last_value::text as last from pg_sequences order by 1`,
    )
  ).rows
  const [session] = (
    await pglite.query<{ prepared: number; locks: number; role: string; listening: number }>(
      `select (select count(*)::int from pg_prepared_statements) as prepared,
        (select count(*)::int from pg_locks where locktype = 'advisory') as locks,
        current_setting('session_replication_role') as role,
        (select count(*)::int from pg_listening_channels()) as listening`,
    )
  ).rows
  return { rows, sequences, session }
}

/** Reuse is on, and there is a template to be fresh as (ORGKIT_TEST_REUSE=0 and ORGKIT_TEST_TEMPLATES= turn them off). */
const reusing = process.env.ORGKIT_TEST_REUSE !== '0' && Boolean(inject('pgliteFolderTemplate'))

describe.runIf(reusing)("the tests' embedded databases, reused from file to file", () => {
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
    // A transaction left open, with a row in it.
    await first.pglite.exec(`begin; insert into change_log (revision, changes) values (42, '[]')`)
    expect((await state(first.pglite)).rows).not.toEqual(expected.rows)
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
    // A column's default, a trigger turned off: the names all stay.
    for (const change of [
      `alter table users alter column name set default 'x'`,
      'alter table platform_tokens disable trigger platform_token_deleted',
    ]) {
      const altered = await borrowEmbeddedDatabase()
      await altered.pglite.exec(change)
      await altered.release()
      expect(altered.pglite.closed, change).toBe(true)
    }
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

describe.runIf(reusing)("the tests' embedded databases, given back still listened to", () => {
  it("are closed, not reused: PGlite would call the callback on the next test's notifications", async () => {
    const listened = await borrowEmbeddedDatabase()
    const heard: string[] = []
    await listened.pglite.listen('left_listening', (payload) => heard.push(payload))
    await listened.release()
    expect(listened.pglite.closed).toBe(true)
    const next = await borrowEmbeddedDatabase()
    try {
      expect(next.pglite).not.toBe(listened.pglite)
    } finally {
      await next.release()
    }
  })
})
