import { type Kysely, sql } from 'kysely'

/**
 * `orgkit_not_last()`: fails the statement calling it with SQLSTATE `OKL01` (store's `NOT_LAST`). A write's
 * last audit append may carry its transaction's commit behind it (prepared.ts, `COMMITS`): it calls this when
 * the write would have more to do after it (the entry did not go in at the head the server kept; the org has
 * webhook endpoints, whose outbox rows follow), so the commit behind it is skipped and the write runs again
 * the long way (issue 25.3). VOLATILE: never evaluated ahead of the CASE that guards it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function orgkit_not_last() returns boolean language plpgsql volatile as $$
    begin
      raise exception 'the write has more to do after this statement' using errcode = 'OKL01';
    end
    $$
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function orgkit_not_last()`.execute(db)
}
