import { type Kysely, sql } from 'kysely'

/**
 * `orgkit_feed_head()`: the change feed's newest revision, read with a snapshot of its own. A write locks its
 * org's row and reads the head in one statement (orgs repository's `lockOrgAtHead`), so its engine reads the
 * feed only when another instance committed meanwhile (issue 25.3: a round trip less for nearly every
 * write). A plain subquery could not: it reads the statement's snapshot, taken before the statement waited
 * for the lock, and would miss the write it waited for. A VOLATILE function takes a fresh snapshot for
 * each query it runs (READ COMMITTED), here after the lock is held.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function orgkit_feed_head() returns bigint language plpgsql volatile as $$
    begin
      return (select value from revision where id = 1);
    end
    $$
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function orgkit_feed_head()`.execute(db)
}
