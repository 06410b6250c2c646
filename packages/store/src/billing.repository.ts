import type { Executor, Tx } from './database.ts'

/**
 * Billing on the org row (its plan and billing email) and the usage counts plan limits are checked
 * against. Counts read inside `write()` come after the org row lock, so no concurrent write to the org can
 * change them before commit.
 */

/** The org's plan (null: the deployment's default), billing email and credit balance. */
export function findBilling(
  db: Executor,
  orgId: string,
): Promise<{ plan: string | null; billing_email: string | null; credit_balance: string } | undefined> {
  return db
    .selectFrom('orgs')
    .select(['plan', 'billing_email', 'credit_balance'])
    .where('id', '=', orgId)
    .executeTakeFirst()
}

/** The org's plan key: null for the default plan, and for an org that doesn't exist. */
export async function planKeyOf(db: Executor, orgId: string): Promise<string | null> {
  const row = await db.selectFrom('orgs').select('plan').where('id', '=', orgId).executeTakeFirst()
  return row?.plan ?? null
}

export async function setPlan(tx: Tx, orgId: string, plan: string, now: Date): Promise<void> {
  await tx.updateTable('orgs').set({ plan, updated_at: now }).where('id', '=', orgId).execute()
}

export async function setBillingEmail(
  tx: Tx,
  orgId: string,
  billingEmail: string | null,
  now: Date,
): Promise<void> {
  await tx
    .updateTable('orgs')
    .set({ billing_email: billingEmail, updated_at: now })
    .where('id', '=', orgId)
    .execute()
}

/** Memberships of the org, pending ones included. */
export async function countMembers(db: Executor, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Invitations neither accepted nor revoked and not expired at `now`: each holds a seat (SPEC 3). */
export async function countPendingInvitations(db: Executor, orgId: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('invitations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Resources of each type in the org (types with none are absent). */
export async function countResourcesByType(db: Executor, orgId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('resources')
    .select(['type', (eb) => eb.fn.countAll<string>().as('n')])
    .where('org_id', '=', orgId)
    .groupBy('type')
    .execute()
  return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]))
}

export async function countCustomRoles(db: Executor, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('custom_roles')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Orgs directly below this one. */
export async function countChildOrgs(db: Executor, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('orgs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('parent_id', '=', orgId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
