import { type Changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'

/**
 * What proves an account is its owner's: the password hash, the email verification and password reset
 * links, the TOTP secret and the recovery codes. Links and codes arrive hashed (the server hashes them);
 * none of it is mirrored by the engine except `mfa_enabled`, whose writes return their change.
 */

/** What sign-in needs of the account with this email (compared case-insensitively: pass it lower-cased). */
export function findLoginByEmail(db: Executor, email: string) {
  return db
    .selectFrom('users')
    .select(['id', 'password_hash', 'email_verified_at', 'totp_enabled_at'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .executeTakeFirst()
}

/** The user's password hash and 2FA state; throws when there is no such user. */
export function getCredentials(db: Executor, userId: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'password_hash', 'totp_enabled_at'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow()
}

/** A password changed by its owner, who proved the current one. */
export async function setPassword(tx: Tx, userId: string, passwordHash: string, now: Date): Promise<void> {
  await tx
    .updateTable('users')
    .set({ password_hash: passwordHash, password_changed_at: now })
    .where('id', '=', userId)
    .execute()
}

/**
 * A password set from a reset link: the link proves the mailbox, so an unverified account becomes
 * verified, and every session started before `now` ends.
 */
export async function resetPassword(tx: Tx, userId: string, passwordHash: string, now: Date): Promise<void> {
  await tx
    .updateTable('users')
    .set((eb) => ({
      password_hash: passwordHash,
      password_changed_at: now,
      sessions_valid_after: now,
      email_verified_at: eb.fn.coalesce('email_verified_at', eb.val(now)),
    }))
    .where('id', '=', userId)
    .execute()
}

/** Marks the email verified at `now`, unless it already was (the first verification's time stays). */
export async function markEmailVerified(tx: Tx, userId: string, now: Date): Promise<void> {
  await tx
    .updateTable('users')
    .set({ email_verified_at: now })
    .where('id', '=', userId)
    .where('email_verified_at', 'is', null)
    .execute()
}

/** The two tables of single-use mailed links, alike in shape: email verifications and password resets. */
type LinkTable = 'email_verifications' | 'password_resets'

async function insertLink(
  tx: Tx,
  table: LinkTable,
  link: { tokenHash: string; userId: string; expiresAt: Date },
): Promise<void> {
  await tx
    .insertInto(table)
    .values({ token_hash: link.tokenHash, user_id: link.userId, expires_at: link.expiresAt, used_at: null })
    .execute()
}

/**
 * Uses a link: marks it used if it is unused and unexpired at `now`, in one statement, so two requests
 * with one link can't both get through. Answers its user, or undefined.
 */
async function useLink(tx: Tx, table: LinkTable, tokenHash: string, now: Date): Promise<string | undefined> {
  const row = await tx
    .updateTable(table)
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst()
  return row?.user_id
}

async function deleteLinks(tx: Tx, table: LinkTable, userId: string): Promise<void> {
  await tx.deleteFrom(table).where('user_id', '=', userId).execute()
}

export const insertEmailVerification = (
  tx: Tx,
  link: { tokenHash: string; userId: string; expiresAt: Date },
) => insertLink(tx, 'email_verifications', link)

/** Uses a verification link, once, if unexpired at `now`. Answers its user. */
export const useEmailVerification = (tx: Tx, tokenHash: string, now: Date) =>
  useLink(tx, 'email_verifications', tokenHash, now)

export const deleteEmailVerifications = (tx: Tx, userId: string) =>
  deleteLinks(tx, 'email_verifications', userId)

export const insertPasswordReset = (tx: Tx, link: { tokenHash: string; userId: string; expiresAt: Date }) =>
  insertLink(tx, 'password_resets', link)

/** Uses a reset link, once, if unexpired at `now`. Answers its user. */
export const usePasswordReset = (tx: Tx, tokenHash: string, now: Date) =>
  useLink(tx, 'password_resets', tokenHash, now)

/** A new reset link replaces the older ones. */
export const deletePasswordResets = (tx: Tx, userId: string) => deleteLinks(tx, 'password_resets', userId)

/**
 * The user's TOTP state, locked for the rest of the transaction: two sign-ins with one code queue here,
 * and the second sees the step the first used. Throws when there is no such user.
 */
export function lockTotp(tx: Tx, userId: string) {
  return tx
    .selectFrom('users')
    .select(['totp_secret', 'totp_enabled_at', 'totp_last_step'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirstOrThrow()
}

/**
 * The stored TOTP secrets (sealed, or in plain text from before sealing) that do not start with
 * `exceptPrefix` (those sealed under the current key, say), to seal again.
 */
export function listTotpSecrets(
  db: Executor,
  exceptPrefix = '',
): Promise<{ id: string; totp_secret: string }[]> {
  return db
    .selectFrom('users')
    .select(['id', 'totp_secret'])
    .where('totp_secret', 'is not', null)
    .$if(exceptPrefix !== '', (q) => q.where('totp_secret', 'not like', `${likeEscape(exceptPrefix)}%`))
    .orderBy('id')
    .execute() as Promise<{ id: string; totp_secret: string }[]>
}

/** A LIKE pattern matching `text` literally (PostgreSQL's default escape character is the backslash). */
const likeEscape = (text: string) => text.replace(/[\\%_]/g, '\\$&')

/**
 * The user's TOTP secret becomes `next` (the same secret sealed anew) if it is still `expected`: answers
 * whether it did. A concurrent enrolment or disabling wins over a re-seal.
 */
export async function replaceTotpSecret(
  db: Executor,
  userId: string,
  expected: string,
  next: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_secret: next })
    .where('id', '=', userId)
    .where('totp_secret', '=', expected)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** Enrolment started: a new secret, not active until confirmed. */
export async function startTotp(tx: Tx, userId: string, secret: string): Promise<void> {
  await tx
    .updateTable('users')
    .set({ totp_secret: secret, totp_last_step: null })
    .where('id', '=', userId)
    .execute()
}

/** The TOTP step a code was accepted at: a code of this step or an earlier one is refused from now on. */
export async function recordTotpStep(tx: Tx, userId: string, step: number): Promise<void> {
  await tx
    .updateTable('users')
    .set({ totp_last_step: String(step) })
    .where('id', '=', userId)
    .execute()
}

/** Enrolment confirmed at `step`: 2FA is on, which the engine's `mfa_required` gates read. */
export async function enableTotp(tx: Tx, userId: string, step: number, now: Date): Promise<Changed<void>> {
  const row = await tx
    .updateTable('users')
    .set({ totp_enabled_at: now, totp_last_step: String(step), mfa_enabled: true })
    .where('id', '=', userId)
    .returning('compliant_password_policies')
    .executeTakeFirstOrThrow()
  return changes({
    op: 'user.put',
    user: { id: userId, mfaEnabled: true, compliantPasswordPolicies: row.compliant_password_policies },
  })
}

/** 2FA off: the secret goes; the recovery codes go with `deleteRecoveryCodes`. */
export async function disableTotp(tx: Tx, userId: string): Promise<Changed<void>> {
  const row = await tx
    .updateTable('users')
    .set({ totp_secret: null, totp_enabled_at: null, totp_last_step: null, mfa_enabled: false })
    .where('id', '=', userId)
    .returning('compliant_password_policies')
    .executeTakeFirstOrThrow()
  return changes({
    op: 'user.put',
    user: { id: userId, mfaEnabled: false, compliantPasswordPolicies: row.compliant_password_policies },
  })
}

/** The user's recovery codes become these (hashed), and only these. */
export async function replaceRecoveryCodes(tx: Tx, userId: string, codeHashes: readonly string[]) {
  await deleteRecoveryCodes(tx, userId)
  if (codeHashes.length === 0) return
  await tx
    .insertInto('recovery_codes')
    .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null })))
    .execute()
}

export async function deleteRecoveryCodes(tx: Tx, userId: string): Promise<void> {
  await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
}

/** Uses one of the user's recovery codes, once: true when it was there and unused. */
export async function useRecoveryCode(tx: Tx, userId: string, codeHash: string, now: Date): Promise<boolean> {
  const used = await tx
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(used.numUpdatedRows) === 1
}
