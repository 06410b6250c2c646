import { sql } from 'kysely'
import type { Executor } from './database.ts'

/** Something an audit entry names by id: its actor (`user`, `api_key`, …) or its target (`group`, `app`, …). */
export interface NamedRef {
  type: string
  id: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** `type:id`, the key `namesOf` answers under. */
export const refKey = (ref: NamedRef) => `${ref.type}:${ref.id}`

type Lookup = (db: Executor, orgId: string, ids: string[]) => Promise<{ id: string; name: string }[]>

/**
 * How each kind of id is named, from the row it is the id of. Rows of the org only, except people, orgs
 * (a transfer names the other parent) and platform tokens, which belong to no org.
 */
const LOOKUPS: Record<string, Lookup> = {
  user: (db, _org, ids) =>
    db
      .selectFrom('users')
      .select(['id', sql<string>`coalesce(nullif(name, ''), email)`.as('name')])
      .where('id', 'in', ids)
      .execute(),
  org: (db, _org, ids) => db.selectFrom('orgs').select(['id', 'name']).where('id', 'in', ids).execute(),
  platform: (db, _org, ids) =>
    db.selectFrom('platform_tokens').select(['id', 'name']).where('id', 'in', ids).execute(),
  api_key: (db, _org, ids) =>
    db.selectFrom('api_keys').select(['id', 'name']).where('id', 'in', ids).execute(),
  directory: (db, orgId, ids) =>
    db
      .selectFrom('scim_tokens')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
  group: (db, orgId, ids) =>
    db
      .selectFrom('groups')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
  invitation: (db, orgId, ids) =>
    db
      .selectFrom('invitations')
      .select(['id', 'email as name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
  webhook: (db, orgId, ids) =>
    db
      .selectFrom('webhooks')
      .select(['id', sql<string>`coalesce(nullif(description, ''), url)`.as('name')])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
  domain: (db, orgId, ids) =>
    db
      .selectFrom('org_domains')
      .select(['id', 'domain as name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
  sso_connection: (db, orgId, ids) =>
    db
      .selectFrom('sso_connections')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
  scim_user: (db, orgId, ids) =>
    db
      .selectFrom('scim_users')
      .innerJoin('users', 'users.id', 'scim_users.user_id')
      .select(['scim_users.id', sql<string>`coalesce(nullif(users.name, ''), users.email)`.as('name')])
      .where('scim_users.org_id', '=', orgId)
      .where('scim_users.id', 'in', ids)
      .execute(),
  scim_token: (db, orgId, ids) =>
    db
      .selectFrom('scim_tokens')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute(),
}

/** Custom roles are named by key, not uuid (built-in roles are named from the model by the caller). */
const roleNames: Lookup = (db, orgId, keys) =>
  db
    .selectFrom('custom_roles')
    .select(['key as id', 'label as name'])
    .where('org_id', '=', orgId)
    .where('key', 'in', keys)
    .execute()

/**
 * The names of what an org's audit entries refer to, as they are now, keyed `type:id`: one query per kind
 * of id on the page, never one per entry. What no longer exists is simply absent (the caller may fall back
 * on the entry's own before/after).
 */
export async function namesOf(
  db: Executor,
  orgId: string,
  refs: readonly NamedRef[],
): Promise<Map<string, string>> {
  const byType = new Map<string, Set<string>>()
  for (const ref of refs) {
    if (ref.type !== 'role' && !UUID.test(ref.id)) continue // every other kind of id is a uuid column
    const ids = byType.get(ref.type) ?? new Set<string>()
    byType.set(ref.type, ids.add(ref.id))
  }
  const names = new Map<string, string>()
  const resourceIds = new Map<string, string[]>()
  await Promise.all(
    [...byType].map(async ([type, ids]) => {
      const lookup = type === 'role' ? roleNames : LOOKUPS[type]
      if (!lookup) return resourceIds.set(type, [...ids])
      for (const row of await lookup(db, orgId, [...ids])) names.set(`${type}:${row.id}`, row.name)
    }),
  )
  // Any other type is one of the model's resource types (an app, a channel, a repository): one query for all.
  const all = [...resourceIds.values()].flat()
  if (all.length > 0) {
    const rows = await db
      .selectFrom('resources')
      .select(['id', 'type', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', all)
      .execute()
    for (const row of rows) names.set(`${row.type}:${row.id}`, row.name)
  }
  return names
}
