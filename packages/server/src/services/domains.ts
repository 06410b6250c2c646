import { randomBytes, randomUUID } from 'node:crypto'
import { domainToUnicode } from 'node:url'
import { ORG, OrgkitError, rules } from '@orgkit/core'
import { type Executor, orgDomains } from '@orgkit/store'
import { isPublicMailDomain } from '../domains/public-mail.ts'
import { hit } from '../security/rate-limit.ts'
import {
  type Actor,
  actorFacts,
  actorUserId,
  authorize,
  type Ctx,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'
import { orgRole } from './members.ts'

/**
 * An org's verified domains (issue 21.2). Claiming, verifying and setting who may join through one is
 * `org.manage_security`: the top role's permission in every preset, as SSO and directory tokens are — a
 * verified domain decides who may walk into the org. Reading them too: the list shows the challenges.
 */
const PERMISSION = 'org.manage_security'
/** Where the challenge goes: under the domain, so only whoever runs its DNS can put it there. */
export const CHALLENGE_LABEL = '_orgkit-challenge'
const CHALLENGE_PREFIX = 'orgkit-verification='

export interface DomainView {
  id: string
  /** As stored: lower case, IDNA labels as punycode. */
  domain: string
  /** The same name as people read it (`bücher.example`). */
  unicode: string
  status: 'pending' | 'verified'
  verifiedAt: string | null
  /** The record to publish: TXT `value` at `name`. */
  txtRecord: { name: string; value: string }
  joinMode: orgDomains.JoinMode
  /** The org role joiners get; null: the model's default role. */
  defaultRole: string | null
  createdAt: string
}

const toView = (row: orgDomains.OrgDomainRow): DomainView => ({
  id: row.id,
  domain: row.domain,
  unicode: domainToUnicode(row.domain),
  status: row.verified_at ? 'verified' : 'pending',
  verifiedAt: row.verified_at?.toISOString() ?? null,
  txtRecord: { name: `${CHALLENGE_LABEL}.${row.domain}`, value: `${CHALLENGE_PREFIX}${row.token}` },
  joinMode: row.join_mode,
  defaultRole: row.default_role,
  createdAt: row.created_at.toISOString(),
})

const notFound = (id: string) =>
  new OrgkitError('DOMAIN_NOT_FOUND', 'no such domain in this organization', { id })

/** A name as typed, normalised, or a clear refusal: not a host name, or a public mail provider's. */
function claimableName(input: string): string {
  const domain = orgDomains.normalizeDomain(input)
  if (domain === null)
    throw new OrgkitError('DOMAIN_INVALID', `"${input}" is not a domain name`, {
      field: 'domain',
      domain: input,
    })
  if (isPublicMailDomain(domain))
    throw new OrgkitError(
      'DOMAIN_PUBLIC',
      `${domain} is a public mail provider's: its people are no one organization's`,
      { field: 'domain', domain },
    )
  return domain
}

/** The other org that holds this domain verified, as DOMAIN_TAKEN. */
async function assertNotTaken(db: Executor, orgId: string, domain: string) {
  const holder = await orgDomains.findVerifiedByDomain(db, domain)
  if (holder && holder.orgId !== orgId)
    throw new OrgkitError('DOMAIN_TAKEN', `another organization has verified ${domain}`, { domain })
}

export async function addDomain(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { domain: string },
) {
  const domain = claimableName(input.domain)
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, PERMISSION, { type: ORG, id: orgId })
    const mine = await orgDomains.findByName(work.tx, orgId, domain)
    if (mine)
      throw new OrgkitError('ALREADY_EXISTS', `this organization has added ${domain} already`, {
        domain,
        id: mine.id,
      })
    await assertNotTaken(work.tx, orgId, domain)
    const row = await orgDomains.insertClaim(
      work.tx,
      {
        id: randomUUID(),
        orgId,
        domain,
        // 256 random bits: nobody can guess another claim's record, nor reuse one across orgs.
        token: randomBytes(32).toString('base64url'),
        createdBy: actorUserId(actor),
      },
      new Date(ctx.clock()),
    )
    const view = toView(row)
    work.audit({ orgId, action: 'domain.added', targetType: 'domain', targetId: row.id, after: view })
    return view
  })
}

export async function listDomains(ctx: Ctx, actor: Actor, orgId: string): Promise<DomainView[]> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, PERMISSION, { type: ORG, id: orgId })
  return (await orgDomains.listForOrg(ctx.db, orgId)).map(toView)
}

/**
 * Looks the claim's TXT record up and, when one of the records is exactly its challenge, marks the domain
 * verified. The look-up runs before the write, outside any transaction (nobody waits on the org's lock for
 * DNS); the write then re-reads the claim under the lock and lets the unique index settle a race with another
 * org: exactly one commits, the other answers DOMAIN_TAKEN. Already verified: answered as it is.
 */
export async function verifyDomain(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, PERMISSION, { type: ORG, id: orgId })
  const claim = await orgDomains.findInOrg(ctx.db, orgId, id)
  if (!claim) throw notFound(id)
  if (claim.verified_at) return { result: toView(claim), revision: ctx.engine.revision }
  await assertNotTaken(ctx.db, orgId, claim.domain)
  // Each attempt is a query to the resolver on the org's behalf: plenty for waiting on DNS to spread, not a
  // way to make this server ask DNS on end.
  await hit(ctx.db, `domain-verify:org:${orgId}`, 60, 3600, ctx.clock())
  const { name, value } = toView(claim).txtRecord
  const found = await ctx.dns.txt(name)
  if (!found.includes(value)) {
    if (found.length === 0)
      throw new OrgkitError(
        'DOMAIN_RECORD_MISSING',
        `no TXT record at ${name} yet: publish it, then verify again`,
        {
          name,
          expected: value,
        },
      )
    throw new OrgkitError(
      'DOMAIN_RECORD_MISMATCH',
      `the TXT records at ${name} are not this domain's challenge`,
      {
        name,
        expected: value,
        // What was found, so a typo shows; bounded, whatever the zone holds.
        found: found.slice(0, 10).map((v) => v.slice(0, 255)),
      },
    )
  }
  return write(ctx, actor, meta, orgId, async (work) => {
    authorize(ctx, actor, PERMISSION, { type: ORG, id: orgId })
    const current = await orgDomains.findInOrg(work.tx, orgId, id)
    // Deleted, or deleted and claimed again (a new token), while DNS answered: what was proved is gone.
    if (current?.token !== claim.token) throw notFound(id)
    if (current.verified_at) return toView(current)
    const row = await orgDomains.markVerified(work.tx, orgId, id, new Date(ctx.clock()))
    const view = toView(row)
    work.audit({
      orgId,
      action: 'domain.verified',
      targetType: 'domain',
      targetId: id,
      after: { domain: view.domain, verifiedAt: view.verifiedAt },
    })
    return view
  })
}

/**
 * Who may join through a verified domain (`off`, `suggest`, `auto`) and with which org role (null: the
 * model's default). The role must be an org-scope role of this org that the actor may grant, and no owner
 * role: a domain hands it to everyone with a mailbox there.
 */
export async function updateDomain(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  input: { joinMode?: orgDomains.JoinMode | undefined; defaultRole?: string | null | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, PERMISSION, { type: ORG, id: orgId })
    const before = await orgDomains.findInOrg(work.tx, orgId, id)
    if (!before) throw notFound(id)
    if (!before.verified_at)
      throw new OrgkitError(
        'DOMAIN_NOT_VERIFIED',
        `verify ${before.domain} before letting people join through it`,
        {
          id,
        },
      )
    const defaultRole = input.defaultRole === undefined ? before.default_role : input.defaultRole
    if (defaultRole !== null && defaultRole !== before.default_role) {
      const role = orgRole(ctx, orgId, defaultRole)
      if (rules.isOwnerRole(ctx.model, role.key))
        throw new OrgkitError('VALIDATION_FAILED', 'a domain can’t make people owners: pick another role', {
          field: 'defaultRole',
          role: role.key,
        })
      rules.assertCanChangeRole(ctx.model, actorFacts(ctx, actor, { type: ORG, id: orgId }), null, role)
    }
    const row = await orgDomains.updateJoining(
      work.tx,
      orgId,
      id,
      { joinMode: input.joinMode ?? before.join_mode, defaultRole },
      new Date(ctx.clock()),
    )
    const view = toView(row!)
    work.audit({
      orgId,
      action: 'domain.updated',
      targetType: 'domain',
      targetId: id,
      before: { joinMode: before.join_mode, defaultRole: before.default_role },
      after: { joinMode: view.joinMode, defaultRole: view.defaultRole },
    })
    return view
  })
}

/** Removes the claim, verified or not: the domain is free for another org; members who joined through it stay. */
export async function deleteDomain(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, PERMISSION, { type: ORG, id: orgId })
    const row = await orgDomains.deleteClaim(work.tx, orgId, id)
    if (!row) throw notFound(id)
    work.audit({ orgId, action: 'domain.deleted', targetType: 'domain', targetId: id, before: toView(row) })
    return null
  })
}
