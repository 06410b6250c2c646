import { type Selectable, sql } from 'kysely'
import type { Executor, MailOutboxTable, Tx } from './database.ts'

/**
 * The mail outbox: mail is queued in the transaction of the write it belongs to, then delivered by
 * whichever instance claims it. Without SMTP it is the local outbox the console shows.
 */

export type MailOutboxRow = Selectable<MailOutboxTable>

export type OutboxMail = {
  id: string
  recipient: string
  subject: string
  text_body: string
  html_body: string | null
  attempts: number
}

export async function insertMail(
  tx: Tx,
  mail: { id: string; recipient: string; subject: string; text: string; html: string | null; now?: Date },
): Promise<void> {
  await tx
    .insertInto('mail_outbox')
    .values({
      id: mail.id,
      recipient: mail.recipient,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html,
      sent_at: null,
      error: null,
      // Queued and due at the caller's clock (the server's), by default the database's.
      ...(mail.now && { created_at: mail.now, next_attempt_at: mail.now }),
    })
    .execute()
}

/**
 * Claims the `limit` oldest unsent mails due at `now` (answered in no particular order), until
 * `lockedUntil`. SKIP LOCKED: instances
 * share the queue, and a mail one of them is claiming is not claimed by another; a claim that outlives
 * `lockedUntil` (an instance died mid-send) can be claimed again.
 */
export async function claimDue(
  db: Executor,
  now: Date,
  lockedUntil: Date,
  limit = 10,
): Promise<OutboxMail[]> {
  const claimed = await sql<OutboxMail>`
    update mail_outbox set locked_until = ${lockedUntil}
    where id in (
      select id from mail_outbox
      where sent_at is null and next_attempt_at <= ${now} and (locked_until is null or locked_until < ${now})
      order by created_at limit ${limit}
      for update skip locked
    )
    returning id, recipient, subject, text_body, html_body, attempts`.execute(db)
  return claimed.rows
}

/** Sent at `now`. Its body is blanked: its links are secrets. */
export async function markSent(db: Executor, id: string, now: Date): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ sent_at: now, error: null, locked_until: null, text_body: '', html_body: null })
    .where('id', '=', id)
    .execute()
}

/** A failed attempt: released, to be tried again at `nextAttemptAt`. */
export async function markFailed(
  db: Executor,
  id: string,
  failure: { attempts: number; error: string; nextAttemptAt: Date },
): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({
      attempts: failure.attempts,
      error: failure.error,
      locked_until: null,
      next_attempt_at: failure.nextAttemptAt,
    })
    .where('id', '=', id)
    .execute()
}

/**
 * The bodies of mail not sent yet (a sent mail's are blanked) whose text body does not start with
 * `exceptPrefix` (sealed under the current key, say), to seal again.
 */
export function listUnsentBodies(
  db: Executor,
  exceptPrefix = '',
): Promise<Pick<MailOutboxRow, 'id' | 'text_body' | 'html_body'>[]> {
  return db
    .selectFrom('mail_outbox')
    .select(['id', 'text_body', 'html_body'])
    .where('sent_at', 'is', null)
    .where('text_body', '<>', '')
    .$if(exceptPrefix !== '', (q) =>
      q.where('text_body', 'not like', `${exceptPrefix.replace(/[\\%_]/g, '\\$&')}%`),
    )
    .orderBy('id')
    .execute()
}

/** A mail's bodies become these if its text body is still `expectedText`: answers whether they did. */
export async function replaceBodies(
  db: Executor,
  id: string,
  expectedText: string,
  bodies: { text: string; html: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({ text_body: bodies.text, html_body: bodies.html })
    .where('id', '=', id)
    .where('text_body', '=', expectedText)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** The latest `limit` mails, newest first (the console's outbox). */
export function listRecent(db: Executor, limit = 200): Promise<MailOutboxRow[]> {
  return db.selectFrom('mail_outbox').selectAll().orderBy('created_at', 'desc').limit(limit).execute()
}
