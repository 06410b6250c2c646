import { type Kysely, sql } from 'kysely'

/**
 * The engine's stored state, authenticated (issue 25.4's security finding): a SHA-256 beside the bytes only
 * catches accidents, and whoever can write the database could plant a state granting access that no binding
 * row shows (invisible to SQL, the audit log and the SQL evaluator). So a state carries an HMAC-SHA-256 under
 * a key derived from the server's keyring (ORGKIT_SECRET_KEY, which never enters the database), over its
 * metadata and the digest of its bytes, and the id of the key (`mac_kid`), so a rotated keyring still
 * verifies it with an older key it holds. `lineage_at` is when the state's lineage was last built from rows:
 * past a maximum age, a start reads rows again rather than restore a state that may carry a derived-data
 * bug from save to save (engine-snapshots repository, server engine-replica.ts).
 *
 * States written before have none of it and are dropped: a migration refuses them anyway (their
 * `migration` mark), and the next save writes one under the keyring.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`delete from engine_snapshots`.execute(db)
  await sql`
    alter table engine_snapshots
      add column lineage_at timestamptz not null,
      add column mac_kid text not null,
      add column mac text not null
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from engine_snapshots`.execute(db)
  await sql`
    alter table engine_snapshots drop column lineage_at, drop column mac_kid, drop column mac
  `.execute(db)
}
