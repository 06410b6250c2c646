import { type Kysely, sql } from 'kysely'

/**
 * Issue 21.1, SAML replay: a bearer assertion is accepted once. The ids a connection accepted are kept
 * until the assertion would be refused as expired anyway, in the database so that an assertion posted to
 * one instance can't be posted again to another. No foreign key to the connection: a row outlives a deleted
 * connection by minutes at most, and the table stays independent of how connections are stored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table saml_assertions_used (
      connection_id text not null,
      assertion_id text not null,
      expires_at timestamptz not null,
      primary key (connection_id, assertion_id)
    );
    create index saml_assertions_used_expiry on saml_assertions_used (expires_at);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table saml_assertions_used`.execute(db)
}
