import type { Executor, Tx } from './database.ts'

/**
 * Sign-in sessions. A session's id is its cookie's SHA-256 (the server hashes it). A session is live
 * while unexpired and started after its user's `sessions_valid_after` (moved by "log out everywhere" and
 * by a password reset): the service decides that from the row `findSession` answers.
 */

export async function insertSession(
  db: Executor,
  session: {
    id: string
    userId: string
    csrfToken: string
    expiresAt: Date
    ip: string | null
    userAgent: string | null
    /** Handed off from a host token whose `amr` proved a second factor (issue 20). */
    secondFactor?: boolean
  },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id: session.id,
      user_id: session.userId,
      csrf_token: session.csrfToken,
      expires_at: session.expiresAt,
      ip: session.ip,
      user_agent: session.userAgent,
      second_factor: session.secondFactor ?? false,
    })
    .execute()
}

/** The session with this id, and when its user last ended every session. */
export function findSession(db: Executor, id: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.csrf_token',
      'sessions.created_at',
      'sessions.expires_at',
      'sessions.second_factor',
      'users.sessions_valid_after',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst()
}

export async function deleteSession(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

/** Deletes the user's sessions, but the one with id `keep` when given (the device changing its password). */
export async function deleteUserSessions(tx: Tx, userId: string, keep: string | null = null): Promise<void> {
  let query = tx.deleteFrom('sessions').where('user_id', '=', userId)
  if (keep !== null) query = query.where('id', '!=', keep)
  await query.execute()
}

/**
 * Every session of the user started up to `now` is dead, on every instance, even one whose row a
 * concurrent sign-in is still writing.
 */
export async function invalidateUserSessions(tx: Tx, userId: string, now: Date): Promise<void> {
  await tx.updateTable('users').set({ sessions_valid_after: now }).where('id', '=', userId).execute()
}
