import type { Change } from '@orgkit/core'
import { type Changed, changed } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { toApiKeyRecord } from './snapshot.ts'

/**
 * Users' API keys. The engine mirrors each key (owner, limits, expiry, revocation): every write returns
 * the `apiKey.put` it implies. A key's secret is stored as its SHA-256 (the server hashes it).
 */

export type ApiKeyRow = Awaited<ReturnType<typeof listApiKeys>>[number]

/** The user's keys, revoked and expired ones too, newest first. */
export function listApiKeys(db: Executor, userId: string) {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .execute()
}

/** The key with this secret hash, whatever its state (the engine says whether it may authenticate). */
export function findKeyBySecretHash(db: Executor, secretHash: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'user_id'])
    .where('secret_hash', '=', secretHash)
    .executeTakeFirst()
}

/** The orgs a key with no org limit reaches, before the orgs above them: its owner's active memberships. */
export async function ownerOrgIds(db: Executor, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('memberships')
    .select('org_id')
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .execute()
  return rows.map((m) => m.org_id)
}

export async function insertApiKey(
  tx: Tx,
  key: {
    id: string
    userId: string
    name: string
    prefix: string
    secretHash: string
    orgIds: string[] | null
    resourceIds: string[] | null
    permissions: string[] | null
    expiresAt: Date | null
  },
): Promise<Changed<ApiKeyRow>> {
  const row = await tx
    .insertInto('api_keys')
    .values({
      id: key.id,
      user_id: key.userId,
      name: key.name,
      prefix: key.prefix,
      secret_hash: key.secretHash,
      org_ids: key.orgIds,
      resource_ids: key.resourceIds,
      permissions: key.permissions,
      expires_at: key.expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return changed(row, [{ op: 'apiKey.put', apiKey: toApiKeyRecord(row) }])
}

/** Revokes the user's key at `now`; undefined (and no change) when they have no such key unrevoked. */
export async function revokeApiKey(
  tx: Tx,
  id: string,
  userId: string,
  now: Date,
): Promise<Changed<ApiKeyRow | undefined>> {
  const row = await tx
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst()
  return changed(row, row ? [{ op: 'apiKey.put', apiKey: toApiKeyRecord(row) }] : [])
}

/**
 * The user's unrevoked keys lose these orgs (SPEC 2: a member removed from an org and its sub-orgs takes
 * their keys' access with them). A key limited to these orgs alone is revoked at `now`; one limited to
 * others as well keeps only those, so a later re-invitation doesn't bring it back to life. Keys with no
 * org limit follow their owner's memberships and are left as they are. Answers the keys it changed.
 */
export async function withdrawOrgsFromKeys(
  tx: Tx,
  userId: string,
  orgIds: readonly string[],
  now: Date,
): Promise<Changed<ApiKeyRow[]>> {
  const withdrawn = new Set(orgIds)
  const live = await tx
    .selectFrom('api_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute()
  const rows: ApiKeyRow[] = []
  for (const key of live.filter((k) => k.org_ids?.some((id) => withdrawn.has(id)))) {
    const remaining = key.org_ids!.filter((id) => !withdrawn.has(id))
    const row = await tx
      .updateTable('api_keys')
      .set(remaining.length ? { org_ids: remaining } : { revoked_at: now })
      .where('id', '=', key.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    rows.push(row)
  }
  return changed(
    rows,
    rows.map((row): Change => ({ op: 'apiKey.put', apiKey: toApiKeyRecord(row) })),
  )
}

/** One key by id (revoked ones too), or undefined. */
export function findApiKey(db: Executor, id: string) {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * The unrevoked keys of these users, each with its owner's email and name, newest first: the org's API Keys
 * tab (the server keeps those whose limits reach the org). Never the secret's hash.
 */
export function listLiveKeysOf(db: Executor, userIds: readonly string[]) {
  if (userIds.length === 0) return Promise.resolve([])
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id',
      'api_keys.user_id',
      'users.email as owner_email',
      'users.name as owner_name',
      'api_keys.name',
      'api_keys.prefix',
      'api_keys.org_ids',
      'api_keys.resource_ids',
      'api_keys.permissions',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
      'api_keys.created_at',
    ])
    .where('api_keys.user_id', 'in', userIds)
    .where('api_keys.revoked_at', 'is', null)
    .orderBy('api_keys.created_at', 'desc')
    .orderBy('api_keys.id')
    .execute()
}
