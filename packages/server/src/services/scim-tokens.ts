import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError } from '@orgkit/core'
import { scim } from '@orgkit/store'
import { newSecret, sha256 } from '../security/tokens.ts'
import {
  type Actor,
  actorUserId,
  assertNotApiKey,
  authorize,
  type Ctx,
  type DirectoryActor,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

/**
 * An org's SCIM directory tokens (issue 21.3). Making, listing and revoking one is a Super Admin's act:
 * `org.manage_security`, the permission of the org's top role in every preset (capgo's Super Admin, the
 * owner roles elsewhere), the same one that sets the org's 2FA and password policies and its SSO — a token
 * lets a directory add people to the org and take them out, so it is held as tightly as those. API keys
 * can't make one (a key would mint a credential outliving its own limits).
 */
export interface ScimTokenView {
  id: string
  name: string
  /** The secret's first characters, to recognise it (`okd_` + 8). */
  prefix: string
  createdBy: string | null
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

const toView = (row: scim.ScimTokenRow): ScimTokenView => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null,
})

/** The SCIM base URL a directory is given for this org. */
export const scimBaseUrl = (ctx: Ctx, orgId: string) =>
  `${ctx.settings.publicUrl.replace(/\/$/, '')}/scim/v2/orgs/${orgId}`

export async function createScimToken(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { name: string },
) {
  assertNotApiKey(actor, 'make directory tokens')
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_security', { type: ORG, id: orgId })
    // 256 random bits: its SHA-256 is all that is kept, and all a lookup needs.
    const token = newSecret('okd')
    const row = await scim.insertToken(work.tx, {
      id: randomUUID(),
      orgId,
      name: input.name,
      prefix: token.slice(0, 12),
      secretHash: sha256(token),
      createdBy: actorUserId(actor),
      now: new Date(ctx.clock()),
    })
    const view = toView(row)
    work.audit({
      orgId,
      action: 'scim.token.created',
      targetType: 'scim_token',
      targetId: row.id,
      after: view,
    })
    return { ...view, token, scimBaseUrl: scimBaseUrl(ctx, orgId) }
  })
}

export async function listScimTokens(ctx: Ctx, actor: Actor, orgId: string): Promise<ScimTokenView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.manage_security', { type: ORG, id: orgId })
  return (await scim.listTokens(ctx.db, orgId)).map(toView)
}

/**
 * Revokes a token for good. Every SCIM request looks its token up in the database (no instance keeps it),
 * so the revocation holds on every instance from its commit on: the next request answers 401.
 */
export async function revokeScimToken(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.manage_security', { type: ORG, id: orgId })
    const row = await scim.revokeToken(work.tx, orgId, id, new Date(ctx.clock()))
    if (!row) throw new OrgkitError('SCIM_TOKEN_NOT_FOUND', 'no such live directory token', { id })
    const view = toView(row)
    work.audit({ orgId, action: 'scim.token.revoked', targetType: 'scim_token', targetId: id, after: view })
    return null
  })
}

/**
 * The directory a SCIM request comes from: its bearer token, live, and of the org in the path. A token of
 * another org gets the same 404 as an org that doesn't exist, so it learns nothing of this one. A lookup
 * per request (an indexed read): a directory's requests are writes anyway, and it makes a revocation final
 * at once, everywhere.
 */
export async function authenticateDirectory(
  ctx: Ctx,
  authorization: string | undefined,
  orgId: string,
): Promise<DirectoryActor> {
  const secret = /^Bearer\s+(okd_[A-Za-z0-9_-]{20,100})$/i.exec(authorization ?? '')?.[1]
  if (!secret) throw new OrgkitError('UNAUTHENTICATED', 'send Authorization: Bearer <directory token>')
  const token = await scim.findLiveTokenByHash(ctx.db, sha256(secret))
  if (!token) throw new OrgkitError('UNAUTHENTICATED', 'unknown or revoked directory token')
  if (token.org_id !== orgId) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  const now = ctx.clock()
  if (token.last_used_at === null || token.last_used_at.getTime() < now - 60_000)
    await scim.touchToken(ctx.db, token.id, new Date(now))
  return { kind: 'directory', tokenId: token.id, orgId }
}
