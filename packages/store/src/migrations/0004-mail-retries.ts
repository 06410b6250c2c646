import { type Kysely, sql } from 'kysely'

/** Mail is claimed and sent outside any transaction, with retries: one bad recipient no longer blocks the queue. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table mail_outbox
      add column attempts integer not null default 0,
      add column next_attempt_at timestamptz not null default now(),
      add column locked_until timestamptz;
    create index mail_outbox_due on mail_outbox (next_attempt_at) where sent_at is null;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index mail_outbox_due;
    alter table mail_outbox drop column attempts, drop column next_attempt_at, drop column locked_until;
  `.execute(db)
}
