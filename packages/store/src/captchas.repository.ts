import type { Executor } from './database.ts'

/**
 * Spends a solved captcha: its signature is kept until the challenge would have expired anyway. True the
 * first time a signature is spent, false after (a replayed solution); one insert, so of two concurrent
 * requests with one solution only one gets true.
 */
export async function spendCaptcha(db: Executor, signature: string, expiresAt: Date): Promise<boolean> {
  const inserted = await db
    .insertInto('used_captchas')
    .values({ signature, expires_at: expiresAt })
    .onConflict((oc) => oc.column('signature').doNothing())
    .executeTakeFirst()
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0
}
