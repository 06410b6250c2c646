import { type Kysely, sql } from 'kysely'

/**
 * Issue 25.4, an instance with a million bindings starting in seconds: the engine's state as bytes
 * (core engine-state.ts), written beside the change-feed revision it reflects, so that an instance restores
 * it and applies the feed after it instead of reading every row. In the database, not a file: every
 * instance and both PostgreSQL and PGlite share it. One snapshot is kept; its bytes in parts of a few MB
 * (a row each, brotli-compressed), so neither database nor driver holds one value of a hundred MB.
 *
 * `feed_mark` is the md5 of the change-feed row at `revision`, `migration` the last migration applied when
 * it was written: a snapshot that does not match the database it is read from is refused (engine-snapshots
 * repository).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table engine_snapshots (
      id bigint generated always as identity primary key,
      revision bigint not null,
      format integer not null,
      model text not null,
      migration text not null,
      feed_mark text not null,
      digest text not null,
      size bigint not null,
      parts integer not null,
      created_at timestamptz not null default now()
    )
  `.execute(db)
  await sql`
    create table engine_snapshot_parts (
      snapshot_id bigint not null references engine_snapshots (id) on delete cascade,
      part integer not null,
      data bytea not null,
      primary key (snapshot_id, part)
    )
  `.execute(db)
  // Stored as written: the bytes are compressed already (brotli), PostgreSQL's own pass would only cost time.
  await sql`alter table engine_snapshot_parts alter column data set storage external`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table engine_snapshot_parts, engine_snapshots`.execute(db)
}
