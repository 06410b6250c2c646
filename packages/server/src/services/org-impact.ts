import { ORG, OrgkitError } from '@orgkit/core'
import { apiKeys, bindings, invitations, members, orgs, resources } from '@orgkit/store'
import { type Actor, authorize, type Ctx, can, requireOrg } from './context.ts'

/** What deleting an organization takes with it, counted, for the confirmation that names it. */
export interface OrgImpact {
  org: { id: string; name: string }
  /** Its active members, and the people outside it holding a role on one of its resources. */
  members: number
  externals: number
  /** Live API keys that reach it (their owner belongs, their org limits include it). */
  apiKeys: number
  resources: { type: string; count: number }[]
  /** Sub-organizations: a delete is refused while there are any. */
  subOrgs: number
  invitations: number
}

/** For those who may delete, transfer or change the org: what a delete would end. */
export async function orgImpact(ctx: Ctx, actor: Actor, orgId: string): Promise<OrgImpact> {
  requireOrg(ctx, actor, orgId)
  const target = { type: ORG, id: orgId }
  const may = ['org.delete', 'org.transfer', 'org.update_settings']
  if (!may.some((p) => can(ctx, actor, p, target))) authorize(ctx, actor, may[0]!, target)
  const row = await orgs.findOrg(ctx.db, orgId)
  if (!row) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  const memberIds = (await members.listMemberships(ctx.db, [orgId]))
    .filter((m) => m.status === 'active')
    .map((m) => m.user_id)
  const inside = new Set(memberIds)
  const externals = (await bindings.userIdsBoundBelowOrg(ctx.db, orgId)).filter((u) => !inside.has(u))
  const authz = ctx.engine.authorizer
  const keys = (await apiKeys.listLiveKeysOf(ctx.db, [...memberIds, ...externals])).filter(
    (k) => authz.belonging({ type: 'apiKey', id: k.id }, orgId) !== null,
  )
  return {
    org: { id: row.id, name: row.name },
    members: memberIds.length,
    externals: externals.length,
    apiKeys: keys.length,
    resources: await resources.countByType(ctx.db, orgId),
    subOrgs: (await orgs.childOrgIds(ctx.db, orgId)).length,
    invitations: (await invitations.listOpen(ctx.db, orgId)).length,
  }
}
