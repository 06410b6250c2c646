import { hash, randomBytes, randomUUID } from 'node:crypto'
import type { Executor } from './database.ts'

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
