import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'

export type UserRow = Awaited<ReturnType<typeof findUser>> & {}

export function findUser(db: Executor, id: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'mfa_enabled', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst()
}

/** The user with this email, compared case-insensitively: pass it lower-cased. */
export async function findUserIdByEmail(db: Executor, email: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .executeTakeFirst()
  return row?.id
}

export function listUsersByIds(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return Promise.resolve([])
  return db.selectFrom('users').select(['id', 'email', 'name']).where('id', 'in', ids).execute()
}

/**
 * A new user: provisioned by a platform token (no password) or signed up (a password, verified at once
 * when an invitation proved the email). The engine learns of the user with their 2FA state.
 */
export async function insertUser(
  tx: Tx,
  user: {
    id: string
    email: string
    name: string
    passwordHash?: string | null
    emailVerifiedAt?: Date | null
    passwordChangedAt?: Date | null
  },
): Promise<Changed<UserRow>> {
  const row = await tx
    .insertInto('users')
    .values({
      id: user.id,
      email: user.email,
      name: user.name,
      password_hash: user.passwordHash ?? null,
      email_verified_at: user.emailVerifiedAt ?? null,
      password_changed_at: user.passwordChangedAt ?? null,
    })
    .returning(['id', 'email', 'name', 'mfa_enabled', 'created_at'])
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'user.put', user: { id: row.id, mfaEnabled: row.mfa_enabled } }])
}

/**
 * Records which orgs' password policies (their ids) the user's password meets. Only a service that sees
 * the password can tell, so it records this at every sign-in and password change; the engine denies in
 * orgs whose policy is not among them.
 */
export async function setCompliantPolicies(
  tx: Tx,
  userId: string,
  policyIds: readonly string[],
): Promise<Changed<void>> {
  const row = await tx
    .updateTable('users')
    .set({ compliant_password_policies: [...policyIds] })
    .where('id', '=', userId)
    .returning(['mfa_enabled'])
    .executeTakeFirstOrThrow()
  return changes({
    op: 'user.put',
    user: { id: userId, mfaEnabled: row.mfa_enabled, compliantPasswordPolicies: [...policyIds] },
  })
}
