import { domainToASCII } from 'node:url'
import { OrgkitError } from '@orgkit/core'
import type { Selectable } from 'kysely'
import type { Executor, OrgDomainsTable, Tx } from './database.ts'
import { fromPgError } from './pg-errors.ts'

/**
 * An org's domains (issue 21.2, migration 0016): claimed, proved by a DNS TXT record, then used to let people
 * of that domain join. At most one org holds a domain verified at a time; unverified claims may be many.
 * Not mirrored by the engine: membership made through a domain goes through `joinOrg` like any other.
 */

export type JoinMode = 'off' | 'suggest' | 'auto'
export type OrgDomainRow = Selectable<OrgDomainsTable>

/** A verified domain as sign-in (SSO routing, the "SSO required" policy) and joining read it. */
export interface VerifiedDomain {
  id: string
  orgId: string
  domain: string
  joinMode: JoinMode
  /** The org role joiners get; null: the model's default role. */
  defaultRole: string | null
  verifiedAt: Date
}

/**
 * A domain name as stored and compared: trimmed, one trailing dot dropped, lower case, IDNA labels as
 * punycode (`domainToASCII`, UTS #46), so `Bücher.Example.` is `xn--bcher-kva.example`. Null when it is no
 * host name: empty, an IP address, a single label, a label out of `[a-z0-9-]` or over 63 octets, or over
 * 253 in all. Public suffixes and mail providers are the service's to refuse.
 */
export function normalizeDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '')
  // Any ASCII but letters, digits, '-' and '.' is no host name (and `domainToASCII` would cut `acme.com/x`
  // to `acme.com`); letters beyond ASCII are IDNA's to map.
  if (trimmed === '' || trimmed.length > 253 * 4 || /[^a-z0-9.\-\u0080-\u{10ffff}]/iu.test(trimmed))
    return null
  const ascii = domainToASCII(trimmed)
  if (ascii === '' || ascii.length > 253) return null
  const labels = ascii.split('.')
  if (labels.length < 2) return null
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
  if (!labels.every((l) => label.test(l))) return null
  // The last label is a TLD: never all digits (so no IPv4 address passes as a name).
  if (/^[0-9]+$/.test(labels.at(-1)!)) return null
  return ascii
}

/** The domain part of an email, normalised, or null. */
export function domainOfEmail(email: string): string | null {
  const at = email.lastIndexOf('@')
  return at < 1 ? null : normalizeDomain(email.slice(at + 1))
}

const toVerified = (row: OrgDomainRow): VerifiedDomain => ({
  id: row.id,
  orgId: row.org_id,
  domain: row.domain,
  joinMode: row.join_mode,
  defaultRole: row.default_role,
  verifiedAt: row.verified_at!,
})

/**
 * The org that holds this domain verified, if any. Takes a name as typed or an email's domain part: it is
 * normalised here, so `Acme.COM` finds `acme.com`. Exact match only: `eng.acme.com` is its own domain.
 */
export async function findVerifiedByDomain(
  db: Executor,
  domain: string,
): Promise<VerifiedDomain | undefined> {
  const name = normalizeDomain(domain)
  if (name === null) return undefined
  const row = await db
    .selectFrom('org_domains')
    .selectAll()
    .where('domain', '=', name)
    .where('verified_at', 'is not', null)
    .executeTakeFirst()
  return row && toVerified(row)
}

/** The org's verified domains (for scoping an org policy to its people), by name. */
export async function listVerifiedForOrg(db: Executor, orgId: string): Promise<VerifiedDomain[]> {
  const rows = await db
    .selectFrom('org_domains')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('verified_at', 'is not', null)
    .orderBy('domain')
    .execute()
  return rows.map(toVerified)
}

/** Every claim of the org, verified or not, by name. */
export function listForOrg(db: Executor, orgId: string): Promise<OrgDomainRow[]> {
  return db.selectFrom('org_domains').selectAll().where('org_id', '=', orgId).orderBy('domain').execute()
}

/** One claim of this org (another org's id finds nothing). */
export function findInOrg(db: Executor, orgId: string, id: string): Promise<OrgDomainRow | undefined> {
  return db
    .selectFrom('org_domains')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
}

/** The org's claim of this (normalised) domain, if it made one. */
export function findByName(db: Executor, orgId: string, domain: string): Promise<OrgDomainRow | undefined> {
  return db
    .selectFrom('org_domains')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('domain', '=', domain)
    .executeTakeFirst()
}

/** A new, unverified claim. The domain must be normalised; a second claim by the org is ALREADY_EXISTS. */
export async function insertClaim(
  tx: Tx,
  claim: { id: string; orgId: string; domain: string; token: string; createdBy: string | null },
  now: Date,
): Promise<OrgDomainRow> {
  try {
    return await tx
      .insertInto('org_domains')
      .values({
        id: claim.id,
        org_id: claim.orgId,
        domain: claim.domain,
        token: claim.token,
        created_by: claim.createdBy,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
  } catch (error) {
    return fromPgError(error, 'this domain claim')
  }
}

/**
 * Marks the claim verified. Throws DOMAIN_TAKEN when another org holds the domain verified — including one
 * whose verification commits while this one waits on the unique index: of two orgs verifying at once, one
 * wins. The violation aborts the transaction, so the caller's write ends there.
 */
export async function markVerified(tx: Tx, orgId: string, id: string, now: Date): Promise<OrgDomainRow> {
  try {
    return await tx
      .updateTable('org_domains')
      .set({ verified_at: now, updated_at: now })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'org_domains_verified_key')
      throw new OrgkitError('DOMAIN_TAKEN', 'another organization has verified this domain', { domainId: id })
    return fromPgError(error, 'this domain')
  }
}

/** Sets who may join through a verified domain, and with which role. Undefined when there is no such claim. */
export function updateJoining(
  tx: Tx,
  orgId: string,
  id: string,
  joining: { joinMode: JoinMode; defaultRole: string | null },
  now: Date,
): Promise<OrgDomainRow | undefined> {
  return tx
    .updateTable('org_domains')
    .set({ join_mode: joining.joinMode, default_role: joining.defaultRole, updated_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/** Removes the claim (verified or not), freeing the domain for another org; the removed row, if any. */
export function deleteClaim(tx: Tx, orgId: string, id: string): Promise<OrgDomainRow | undefined> {
  return tx
    .deleteFrom('org_domains')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/**
 * The verified domain a person may join through, with its org's name: their email is verified, its domain
 * part is held verified by an org, and that org lets its people join (`suggest` or `auto`). Undefined
 * otherwise: an unverified email never counts, whatever its domain.
 */
export async function joinableFor(
  db: Executor,
  userId: string,
): Promise<(VerifiedDomain & { orgName: string; email: string }) | undefined> {
  const user = await db
    .selectFrom('users')
    .select(['email', 'email_verified_at'])
    .where('id', '=', userId)
    .executeTakeFirst()
  if (!user?.email_verified_at) return undefined
  const domain = domainOfEmail(user.email)
  if (domain === null) return undefined
  const row = await db
    .selectFrom('org_domains')
    .innerJoin('orgs', 'orgs.id', 'org_domains.org_id')
    .selectAll('org_domains')
    .select('orgs.name as org_name')
    .where('org_domains.domain', '=', domain)
    .where('org_domains.verified_at', 'is not', null)
    .where('org_domains.join_mode', 'in', ['suggest', 'auto'])
    .executeTakeFirst()
  return row && { ...toVerified(row), orgName: row.org_name, email: user.email }
}
