import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError } from '@orgkit/core'
import { apiKeys, orgSecurity, orgs } from '@orgkit/store'
import { newSecret, sha256 } from '../security/tokens.ts'
import { type Actor, type Ctx, can, type RequestMeta, write } from './context.ts'

export interface ApiKeyView {
  id: string
  name: string
  prefix: string
  orgIds: string[] | null
  resourceIds: string[] | null
  permissions: string[] | null
  expiresAt: string | null
  revokedAt: string | null
  lastUsedAt: string | null
  createdAt: string
}

type Row = {
  id: string
  name: string
  prefix: string
  org_ids: string[] | null
  resource_ids: string[] | null
  permissions: string[] | null
  expires_at: Date | null
  revoked_at: Date | null
  last_used_at: Date | null
  created_at: Date
}
const toView = (r: Row): ApiKeyView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  orgIds: r.org_ids,
  resourceIds: r.resource_ids,
  permissions: r.permissions,
  expiresAt: r.expires_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
})

function ownerOf(actor: Actor): string {
  if (actor.kind !== 'user' || actor.keyId)
    throw new OrgkitError('FORBIDDEN', 'API keys are managed by their signed-in owner')
  return actor.userId
}

export async function listApiKeys(ctx: Ctx, actor: Actor): Promise<ApiKeyView[]> {
  const rows = await apiKeys.listApiKeys(ctx.db, ownerOf(actor))
  return rows.map(toView)
}

/**
 * Creates a key for the signed-in user. The secret is answered once; the database keeps its SHA-256 and a
 * prefix for recognition. It never does more than its owner can do at the moment of each check; its
 * limits narrow it further. Each org it is limited to may require an expiry and cap its length.
 */
export async function createApiKey(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  input: {
    name: string
    orgIds?: string[] | undefined
    resourceIds?: string[] | undefined
    role?: string | undefined
    permissions?: string[] | undefined
    expiresAt?: string | null | undefined
  },
) {
  const userId = ownerOf(actor)
  assertNoEmptyLimit(input)
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null
  if (expiresAt && expiresAt.getTime() <= ctx.clock())
    throw new OrgkitError('VALIDATION_FAILED', 'expiresAt must be in the future', { field: 'expiresAt' })
  for (const orgId of input.orgIds ?? []) {
    if (!can(ctx, actor, 'org.read', { type: ORG, id: orgId }))
      throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  }
  // A role ceiling is stored as the role's permissions: later edits of the role don't widen the key.
  let permissions = input.permissions ?? null
  if (input.role !== undefined) {
    const role = ctx.compiled.roles.get(input.role)
    if (!role) throw new OrgkitError('UNKNOWN_ROLE', `unknown role "${input.role}"`, { field: 'role' })
    permissions = [...role.permissions]
  }
  for (const p of permissions ?? []) {
    if (!ctx.compiled.permissions.has(p))
      throw new OrgkitError('UNKNOWN_PERMISSION', `unknown permission "${p}"`, { field: 'permissions' })
  }
  const secret = newSecret('okk')
  const { result, revision } = await write(ctx, actor, meta, null, async (work) => {
    // Every org the key can reach: the ones it names, else every org of its owner, and the orgs above them.
    const named = input.orgIds?.length ? input.orgIds : await apiKeys.ownerOrgIds(work.tx, userId)
    const reach = new Set<string>()
    for (const orgId of named) for (const id of await orgs.chainIds(work.tx, orgId)) reach.add(id)
    const policies = await orgSecurity.apiKeyPolicies(work.tx, [...reach])
    for (const org of policies) {
      const policy = org.api_key_policy as { requireExpiry?: boolean; maxDays?: number | null } | null
      if (policy?.requireExpiry && !expiresAt)
        throw new OrgkitError('API_KEY_POLICY', 'this organization requires API keys to expire', {
          field: 'expiresAt',
          orgId: org.id,
        })
      if (policy?.maxDays && expiresAt && expiresAt.getTime() > ctx.clock() + policy.maxDays * 86_400_000) {
        throw new OrgkitError('API_KEY_POLICY', `this organization caps API keys at ${policy.maxDays} days`, {
          field: 'expiresAt',
          orgId: org.id,
        })
      }
    }
    const row = work.apply(
      await apiKeys.insertApiKey(work.tx, {
        id: randomUUID(),
        userId,
        name: input.name,
        prefix: secret.slice(0, 12),
        secretHash: sha256(secret),
        orgIds: input.orgIds ?? null,
        resourceIds: input.resourceIds ?? null,
        permissions,
        expiresAt,
      }),
    )
    work.audit({
      orgId: null,
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: row.id,
      after: toView(row),
    })
    return { ...toView(row), secret }
  })
  return { ...result, revision }
}

/**
 * A limit that is given but empty would read as "no limit" somewhere (`if (role)`, `orgIds?.length`):
 * refused, so nothing empty ever widens a key (issue 22.6). The route's schema says the same.
 */
function assertNoEmptyLimit(input: {
  orgIds?: string[] | undefined
  resourceIds?: string[] | undefined
  role?: string | undefined
  permissions?: string[] | undefined
}): void {
  for (const field of ['orgIds', 'resourceIds', 'permissions'] as const) {
    const list = input[field]
    if (list !== undefined && (list.length === 0 || list.some((item) => item.trim() === '')))
      throw new OrgkitError('VALIDATION_FAILED', `${field} is empty: leave it out for no limit`, { field })
  }
  if (input.role !== undefined && input.role.trim() === '')
    throw new OrgkitError('VALIDATION_FAILED', 'role is empty: leave it out for no limit', { field: 'role' })
}

export async function revokeApiKey(ctx: Ctx, actor: Actor, meta: RequestMeta, id: string) {
  const userId = ownerOf(actor)
  return write(ctx, actor, meta, null, async (work) => {
    const row = work.apply(await apiKeys.revokeApiKey(work.tx, id, userId, new Date(ctx.clock())))
    if (!row) throw new OrgkitError('NOT_FOUND', 'no such API key', { id })
    work.audit({ orgId: null, action: 'api_key.revoked', targetType: 'api_key', targetId: id })
    return null
  })
}

/**
 * The key a bearer secret names, if any (revoked and expired keys too: the engine says why it refuses).
 * Which key a secret is never changes, so a found key is remembered (by the secret's SHA-256, never the
 * secret) and a request with it needs no database round trip; whether the key may still authenticate is
 * the engine's answer on every request (`keyState`).
 */
export async function findApiKey(
  ctx: Ctx,
  secret: string,
): Promise<{ id: string; user_id: string } | undefined> {
  const known = ctx.caches.apiKeys
  const hash = sha256(secret)
  const hit = known.get(hash)
  if (hit !== undefined) return hit
  const key = await apiKeys.findKeyBySecretHash(ctx.db, hash)
  if (key !== undefined) {
    if (known.size >= 10_000) known.clear() // bounded; the next request of each key asks again
    known.set(hash, key)
  }
  return key
}
