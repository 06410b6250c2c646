import { type Changed, changed, changes } from './changed.ts'
import type { Executor, Tx } from './database.ts'

export type UserRow = Awaited<ReturnType<typeof findUser>> & {}

const USER_COLUMNS = ['id', 'email', 'name', 'mfa_enabled', 'external_id', 'created_at'] as const

export function findUser(db: Executor, id: string) {
  return db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst()
}

/** The user the host product knows by `externalId` (a host token's `sub`). */
export async function findUserIdByExternalId(db: Executor, externalId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('external_id', '=', externalId)
    .executeTakeFirst()
  return row?.id
}

/**
 * Users by the host's id and/or by email (case-insensitive: pass it lower-cased); at least one is given.
 * Each is unique, so this is at most one user, as a list.
 */
export function findUsers(db: Executor, by: { externalId?: string | undefined; email?: string | undefined }) {
  let query = db.selectFrom('users').select(USER_COLUMNS)
  if (by.externalId !== undefined) query = query.where('external_id', '=', by.externalId)
  if (by.email !== undefined) query = query.where((eb) => eb(eb.fn('lower', ['email']), '=', by.email!))
  if (by.externalId === undefined && by.email === undefined) throw new Error('findUsers needs a filter')
  return query.orderBy('created_at').execute()
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
export interface NewUser {
  id: string
  email: string
  name: string
  passwordHash?: string | null
  emailVerifiedAt?: Date | null
  passwordChangedAt?: Date | null
  /** The host product's id for the user: given by the platform token, or a host token's `sub`. */
  externalId?: string | null
}

const newUserRow = (user: NewUser) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  password_hash: user.passwordHash ?? null,
  email_verified_at: user.emailVerifiedAt ?? null,
  password_changed_at: user.passwordChangedAt ?? null,
  external_id: user.externalId ?? null,
})

export async function insertUser(tx: Tx, user: NewUser): Promise<Changed<UserRow>> {
  const row = await tx
    .insertInto('users')
    .values(newUserRow(user))
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'user.put', user: { id: row.id, mfaEnabled: row.mfa_enabled } }])
}

/**
 * `insertUser`, unless the email or the external id is taken (a unique index: a concurrent insert of either
 * is waited for): then nothing is written, the value is undefined, and the caller reads which. One
 * statement where a look-up and an insert took two.
 */
export async function insertUserUnlessTaken(tx: Tx, user: NewUser): Promise<Changed<UserRow | undefined>> {
  const row = await tx
    .insertInto('users')
    .values(newUserRow(user))
    .onConflict((oc) => oc.doNothing())
    .returning(USER_COLUMNS)
    .executeTakeFirst()
  if (!row) return changed(undefined, [])
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

/**
 * Gives an existing user the host's id, only if they have none yet (an id, once given, is never moved:
 * callers cache the mapping). Undefined when the user already had one, or does not exist. The engine
 * mirrors none of these columns: no change, but the write goes through `work.apply` as every users write.
 */
export async function linkExternalId(
  tx: Tx,
  userId: string,
  externalId: string,
): Promise<Changed<UserRow | undefined>> {
  const row = await tx
    .updateTable('users')
    .set({ external_id: externalId })
    .where('id', '=', userId)
    .where('external_id', 'is', null)
    .returning(USER_COLUMNS)
    .executeTakeFirst()
  return changed(row, [])
}

/**
 * Sets a user's email and name (the host's upsert); the engine mirrors neither, so no change. A new address
 * is not a proven one: its verification is dropped (issue 21.2: a verified domain lets in only people who
 * proved a mailbox there, never one renamed into it).
 */
export async function updateProfile(
  tx: Tx,
  userId: string,
  profile: { email: string; name: string },
): Promise<Changed<UserRow>> {
  const row = await tx
    .updateTable('users')
    .set((eb) => ({
      email: profile.email,
      name: profile.name,
      email_verified_at: eb
        .case()
        .when('email', '=', profile.email)
        .then(eb.ref('email_verified_at'))
        .else(null)
        .end(),
    }))
    .where('id', '=', userId)
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow()
  return changed(row, [])
}
