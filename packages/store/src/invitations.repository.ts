import type { Executor, Tx } from './database.ts'

export type InvitationRow = NonNullable<Awaited<ReturnType<typeof findOpenByTokenHash>>>

/** An invitation whose link still works at `now`: not accepted, not revoked, not expired. */
export function findOpenByTokenHash(db: Executor, tokenHash: string, now: Date) {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
}

/** The org's invitations neither accepted nor revoked, oldest first. */
const openOf = (db: Executor, orgId: string) =>
  db
    .selectFrom('invitations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    // Two made in one millisecond (PGlite's clock) list in one order every time, not the heap's of the moment.
    .orderBy('created_at')
    .orderBy('id')

/** The org's open invitations (expired ones included: they can be resent), oldest first. */
export function listOpen(db: Executor, orgId: string) {
  return openOf(db, orgId).execute()
}

/** The org's invitations still pending at `now` (each holds a seat). */
export function listPending(db: Executor, orgId: string, now: Date) {
  return openOf(db, orgId).where('expires_at', '>', now).execute()
}

/**
 * The open invitation of this email (any case) to the org, if any: to the org itself (`resourceId` null), or
 * to that one resource (seed 002). One email may hold one open invitation per target.
 */
export function findOpenForEmail(db: Executor, orgId: string, email: string, resourceId: string | null) {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .where('resource_id', resourceId === null ? 'is' : '=', resourceId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
}

/** Is there an open invitation with this id that had expired by `now`? */
export async function isExpired(db: Executor, orgId: string, id: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('invitations')
    .select('id')
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '<=', now)
    .executeTakeFirst()
  return row !== undefined
}

export function insertInvitation(
  tx: Tx,
  i: {
    id: string
    orgId: string
    email: string
    role: string
    firstName: string | null
    lastName: string | null
    tokenHash: string
    invitedBy: string | null
    expiresAt: Date
    /** More org roles given on accepting (seed 004's module roles). */
    extraRoles?: readonly string[]
    /** Access to this resource only, `role` bound there, no membership (seed 002's external accounts). */
    resourceId?: string | null
  },
) {
  return tx
    .insertInto('invitations')
    .values({
      id: i.id,
      org_id: i.orgId,
      email: i.email,
      role: i.role,
      first_name: i.firstName,
      last_name: i.lastName,
      token_hash: i.tokenHash,
      invited_by: i.invitedBy,
      expires_at: i.expiresAt,
      accepted_at: null,
      accepted_by: null,
      revoked_at: null,
      extra_roles: JSON.stringify(i.extraRoles ?? []),
      resource_id: i.resourceId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** A new link for an open invitation; the old one dies. Undefined when it isn't open. */
export function renew(tx: Tx, orgId: string, id: string, tokenHash: string, expiresAt: Date) {
  return tx
    .updateTable('invitations')
    .set({ token_hash: tokenHash, expires_at: expiresAt })
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst()
}

/** Revokes an open invitation. Undefined when it isn't open. */
export function revoke(tx: Tx, orgId: string, id: string, now: Date) {
  return tx
    .updateTable('invitations')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst()
}

/**
 * Claims the invitation for the user: one conditional UPDATE, so of many concurrent accepts exactly one
 * gets the row back.
 */
export function claim(tx: Tx, tokenHash: string, userId: string, now: Date) {
  return tx
    .updateTable('invitations')
    .set({ accepted_at: now, accepted_by: userId })
    .where('token_hash', '=', tokenHash)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst()
}
