import { type Kysely, sql } from 'kysely'

/**
 * Issue 26.3, rotating an endpoint's signing secret: the secret it replaced keeps signing beside the new one
 * (Standard Webhooks sends both signatures) until `previous_secret_expires_at`, so a receiver can switch to
 * the new secret without refusing a delivery meanwhile.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table webhooks
      add column previous_secret text,
      add column previous_secret_expires_at timestamptz
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table webhooks
      drop column previous_secret,
      drop column previous_secret_expires_at
  `.execute(db)
}
