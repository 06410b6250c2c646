import type { Executor, Tx } from './database.ts'

export function findUser(db: Executor, id: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'mfa_enabled', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst()
}

export function listUsersByIds(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return Promise.resolve([])
  return db.selectFrom('users').select(['id', 'email', 'name']).where('id', 'in', ids).execute()
}

export async function insertUser(
  tx: Tx,
  user: { id: string; email: string; name: string; passwordHash?: string | null },
) {
  return tx
    .insertInto('users')
    .values({ id: user.id, email: user.email, name: user.name, password_hash: user.passwordHash ?? null })
    .returning(['id', 'email', 'name', 'mfa_enabled', 'created_at'])
    .executeTakeFirstOrThrow()
}
