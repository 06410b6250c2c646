import { type Kysely, sql } from 'kysely'

/**
 * Issue 19.4: compliance with a password policy is known from the moment the password is set.
 *
 * `users.password_traits` keeps what any password policy asks of a password, measured when it was set
 * (sign-up, change, reset, or a sign-in for passwords set before this migration): its length in characters
 * (capped at 128, the longest minimum a policy may ask), whether it has an upper-case letter, a digit, a
 * special character, and whether it is on the common / breached list. Never the password, nor anything
 * else derived from it. With it, saving a new policy computes every user's compliance at once, in the same
 * transaction, without anyone signing in again. Null: not known yet (a password set before this migration:
 * the next sign-in measures it), or no password at all.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column password_traits jsonb`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column password_traits`.execute(db)
}
