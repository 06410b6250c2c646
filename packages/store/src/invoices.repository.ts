import type { Selectable } from 'kysely'
import type { Executor, InvoicesTable, Tx } from './database.ts'

/** Invoices: one per org and period (YYYY-MM), kept unique by the database on (org, period) and number. */
export type InvoiceRow = Selectable<InvoicesTable>

/**
 * An invoice's number: the period and the org's id prefix (`INV-202501-1A2B3C4D`). One per org and period,
 * so it is the same whichever instance issues it, and a second issue meets the unique key.
 */
export const invoiceNumber = (orgId: string, period: string) =>
  `INV-${period.replace('-', '')}-${orgId.slice(0, 8).toUpperCase()}`

/** The org's invoices, newest period first. */
export function listInvoices(db: Executor, orgId: string): Promise<InvoiceRow[]> {
  return db.selectFrom('invoices').selectAll().where('org_id', '=', orgId).orderBy('period', 'desc').execute()
}

/** The org's invoice with this id: another org's id finds nothing (tenancy). */
export function findInvoice(db: Executor, orgId: string, id: string): Promise<InvoiceRow | undefined> {
  return db
    .selectFrom('invoices')
    .selectAll()
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .executeTakeFirst()
}

/** The id of the org's invoice for the period, if it has one. */
export function findInvoiceForPeriod(
  db: Executor,
  orgId: string,
  period: string,
): Promise<{ id: string } | undefined> {
  return db
    .selectFrom('invoices')
    .select('id')
    .where('org_id', '=', orgId)
    .where('period', '=', period)
    .executeTakeFirst()
}

export interface NewInvoice {
  id: string
  orgId: string
  number: string
  period: string
  plan: string
  currency: string
  lines: unknown
  total: number
  provider: string
  providerReference: string | null
  paymentUrl: string | null
  billingEmail: string | null
}

/** Inserts an open invoice issued at `now`. */
export function insertInvoice(tx: Tx, invoice: NewInvoice, now: Date): Promise<InvoiceRow> {
  return tx
    .insertInto('invoices')
    .values({
      id: invoice.id,
      org_id: invoice.orgId,
      number: invoice.number,
      period: invoice.period,
      plan: invoice.plan,
      currency: invoice.currency,
      lines: JSON.stringify(invoice.lines),
      total: invoice.total,
      status: 'open',
      provider: invoice.provider,
      provider_reference: invoice.providerReference,
      payment_url: invoice.paymentUrl,
      billing_email: invoice.billingEmail,
      issued_at: now,
      paid_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Marks an invoice the caller has found (in its org) paid at `now`, with the provider's reference. */
export function markInvoicePaid(
  tx: Tx,
  id: string,
  reference: string | null,
  now: Date,
): Promise<InvoiceRow> {
  return tx
    .updateTable('invoices')
    .set({ status: 'paid', paid_at: now, provider_reference: reference })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

/**
 * The orgs that owe an invoice for the period [start, end) and have none yet: those on a paid plan
 * (`defaultIsPaid`: also those on the default plan, stored as null), and those that bought credits in it.
 */
export async function orgsWithInvoiceDue(
  db: Executor,
  due: { period: string; start: Date; end: Date; paidPlans: readonly string[]; defaultIsPaid: boolean },
): Promise<string[]> {
  const rows = await db
    .selectFrom('orgs')
    .select('id')
    .where((eb) =>
      eb.and([
        eb.not(
          eb.exists(
            eb
              .selectFrom('invoices')
              .select('id')
              .whereRef('invoices.org_id', '=', 'orgs.id')
              .where('invoices.period', '=', due.period),
          ),
        ),
        eb.or([
          ...(due.paidPlans.length > 0 ? [eb('orgs.plan', 'in', due.paidPlans)] : []),
          ...(due.defaultIsPaid ? [eb('orgs.plan', 'is', null)] : []),
          eb.exists(
            eb
              .selectFrom('credit_entries')
              .select('id')
              .whereRef('credit_entries.org_id', '=', 'orgs.id')
              .where('credit_entries.kind', '=', 'purchase')
              .where('credit_entries.created_at', '>=', due.start)
              .where('credit_entries.created_at', '<', due.end),
          ),
        ]),
      ]),
    )
    .execute()
  return rows.map((r) => r.id)
}
