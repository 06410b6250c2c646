import { type Kysely, sql } from 'kysely'

/**
 * The change feed, authenticated (the finding left open by 0021): whoever can write the database could put
 * back an older stored engine state (valid, MACed) and rewrite a feed entry after it, and a restore catching
 * up applied it. Each entry now carries an HMAC-SHA-256 over its revision and its changes as stored, under a
 * key derived from the server's keyring, and the id of that key (changes.repository.ts).
 *
 * Entries written before stay as they are, with neither: no key is at hand here to MAC them, and a reader
 * refuses an entry without a MAC like one whose MAC fails (a MAC that could be blanked would protect
 * nothing). No server needs them after this migration: every stored state predates it and is refused for
 * that (its migration mark), so each instance's next start reads rows at the head and applies only
 * entries written after.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table change_log add column mac_kid text, add column mac bytea`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table change_log drop column mac_kid, drop column mac`.execute(db)
}
