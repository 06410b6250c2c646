import { ORG, OrgkitError } from '@orgkit/core'
import { apiKeys, orgSecurity, orgs } from '@orgkit/store'
import {
  type Actor,
  actorFacts,
  authorize,
  type Ctx,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

/** A member's key as the org's API Keys tab shows it: owner, limits, use; never the secret. */
export interface OrgApiKeyView {
  id: string
  owner: { userId: string; email: string; name: string }
  name: string
  prefix: string
  orgIds: string[] | null
  resourceIds: string[] | null
  permissions: string[] | null
  expiresAt: string | null
  lastUsedAt: string | null
  createdAt: string
}

/**
 * The org's API Keys tab (seed 001): every live key that reaches the org — its owner belongs there and its
 * org limits include the org or an org above it (the engine's `belonging` for the key, the same test every
 * request with it passes). Revoked and expired keys reach nothing and aren't listed. `org.manage_apikeys`.
 */
export async function listOrgApiKeys(ctx: Ctx, actor: Actor, orgId: string): Promise<OrgApiKeyView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.manage_apikeys', { type: ORG, id: orgId })
  const people = await orgSecurity.peopleOf(ctx.db, await orgs.chainIds(ctx.db, orgId))
  const rows = await apiKeys.listLiveKeysOf(
    ctx.db,
    people.map((p) => p.id),
  )
  const authz = ctx.engine.authorizer
  return rows
    .filter((k) => authz.belonging({ type: 'apiKey', id: k.id }, orgId) !== null)
    .map((k) => ({
      id: k.id,
      owner: { userId: k.user_id, email: k.owner_email, name: k.owner_name },
      name: k.name,
      prefix: k.prefix,
      orgIds: k.org_ids,
      resourceIds: k.resource_ids,
      permissions: k.permissions,
      expiresAt: k.expires_at?.toISOString() ?? null,
      lastUsedAt: k.last_used_at?.toISOString() ?? null,
      createdAt: k.created_at.toISOString(),
    }))
}

/**
 * Revokes a member's key that reaches the org (`org.manage_apikeys`), for good: a key is one credential,
 * so it stops everywhere, as its owner's own revocation would. A key that doesn't reach this org is not
 * found here (tenancy); a key whose owner ranks above the actor in the org is theirs, not the actor's, to
 * revoke (RANK_TOO_LOW), as with overrides.
 */
export async function revokeOrgApiKey(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  keyId: string,
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_apikeys', { type: ORG, id: orgId })
    const authz = ctx.engine.authorizer
    const key = await apiKeys.findApiKey(work.tx, keyId)
    if (!key || key.revoked_at || authz.belonging({ type: 'apiKey', id: key.id }, orgId) === null)
      throw new OrgkitError('NOT_FOUND', 'no such API key in this organization', { id: keyId })
    const target = { type: ORG, id: orgId }
    const mine = actor.kind === 'user' && actor.userId === key.user_id
    const { rank } = actorFacts(ctx, actor, target)
    const ownerRank = authz.rankAt({ type: 'user', id: key.user_id }, target)
    if (!mine && ownerRank !== null && (rank === null || ownerRank > rank))
      throw new OrgkitError('RANK_TOO_LOW', "this key's owner ranks above you here", { id: keyId })
    const row = work.apply(await apiKeys.revokeApiKey(work.tx, key.id, key.user_id, new Date(ctx.clock())))
    work.audit({
      orgId,
      action: 'api_key.revoked',
      targetType: 'api_key',
      targetId: key.id,
      before: { name: key.name, prefix: key.prefix, ownerId: key.user_id },
      after: { revokedAt: row?.revoked_at?.toISOString() ?? null },
    })
    return null
  })
}
