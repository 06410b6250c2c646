import { hash, randomBytes, randomUUID } from 'node:crypto'
import type { Executor } from './database.ts'

/**
 * Where a platform token's revocation or deletion is announced, with its id, as it commits (migration
 * 0010's triggers), however it was made: instances drop it from their caches at once.
 */
export const TOKENS_CHANNEL = 'orgkit_tokens'

/** A platform token's secret is 256 random bits: a fast hash is enough (no password to stretch). */
export const hashSecret = (secret: string) => hash('sha256', secret, 'hex')

/** Creates a platform token; the secret is returned once and only its hash is kept. */
export async function createPlatformToken(
  db: Executor,
  name: string,
): Promise<{ id: string; secret: string; prefix: string }> {
  const secret = `okp_${randomBytes(32).toString('base64url')}`
  const prefix = secret.slice(0, 12)
  const id = randomUUID()
  await db
    .insertInto('platform_tokens')
    .values({ id, name, prefix, secret_hash: hashSecret(secret), revoked_at: null })
    .execute()
  return { id, secret, prefix }
}

export function findActivePlatformToken(db: Executor, secret: string) {
  return db
    .selectFrom('platform_tokens')
    .select(['id', 'name', 'prefix'])
    .where('secret_hash', '=', hashSecret(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
}

export async function countPlatformTokens(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('platform_tokens')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Every platform token, oldest first (never a secret: only its prefix). */
export function listPlatformTokens(db: Executor) {
  return db
    .selectFrom('platform_tokens')
    .select(['id', 'name', 'prefix', 'created_at', 'revoked_at'])
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

/**
 * Revokes the live platform token with this id or prefix (`okp_` and the next 8 characters, as listed):
 * answers it, or undefined when none matches. A prefix two live tokens share revokes neither.
 */
export async function revokePlatformToken(db: Executor, idOrPrefix: string, now: Date) {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix)
  const matches = await db
    .selectFrom('platform_tokens')
    .select(['id', 'name', 'prefix'])
    .where(isId ? 'id' : 'prefix', '=', idOrPrefix)
    .where('revoked_at', 'is', null)
    .execute()
  if (matches.length !== 1) return undefined
  await db
    .updateTable('platform_tokens')
    .set({ revoked_at: now })
    .where('id', '=', matches[0]!.id)
    .where('revoked_at', 'is', null)
    .execute()
  return matches[0]
}
