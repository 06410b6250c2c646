import { randomUUID } from 'node:crypto'
import { isOrgkitError, ORG, OrgkitError } from '@orgkit/core'
import { billing, credits, type Executor, invoices, orgs } from '@orgkit/store'
import { type InvoiceDocument, invoiceHtml } from '../billing/invoice-html.ts'
import { planFor } from '../billing/plans.ts'
import {
  type Actor,
  authorize,
  type Ctx,
  isPlatform,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

/**
 * Invoices, one per org and calendar month (UTC): the plan's price plus the credits bought in the period
 * (at the catalogue's credit price), with the credits consumed listed for the record (prepaid, so at no
 * charge). Issued by the host product (platform token) or by the hourly job for the month just ended;
 * collected through the payment provider.
 */
export interface InvoiceLine {
  description: string
  quantity: number
  unitAmount: number
  amount: number
}

const toView = (r: invoices.InvoiceRow) => ({
  id: r.id,
  orgId: r.org_id,
  number: r.number,
  period: r.period,
  plan: r.plan,
  currency: r.currency,
  lines: r.lines as InvoiceLine[],
  total: Number(r.total),
  status: r.status,
  provider: r.provider,
  providerReference: r.provider_reference,
  paymentUrl: r.payment_url,
  billingEmail: r.billing_email,
  issuedAt: r.issued_at.toISOString(),
  paidAt: r.paid_at?.toISOString() ?? null,
})
export type InvoiceView = ReturnType<typeof toView>

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/
export function periodBounds(period: string): { start: Date; end: Date } {
  const m = PERIOD.exec(period)
  if (!m) throw new OrgkitError('VALIDATION_FAILED', 'a period is YYYY-MM', { field: 'period' })
  const year = Number(m[1])
  const month = Number(m[2])
  return { start: new Date(Date.UTC(year, month - 1, 1)), end: new Date(Date.UTC(year, month, 1)) }
}
/** The calendar month before the one `now` falls in. */
export const previousPeriod = (now: number) => {
  const d = new Date(now)
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7)
}

async function computeLines(ctx: Ctx, tx: Executor, orgId: string, planKey: string | null, period: string) {
  const { start, end } = periodBounds(period)
  const plan = planFor(ctx.billing.plans, planKey)
  const sums = await credits.creditTotals(tx, orgId, start, end)
  const sum = (kind: credits.CreditKind) => sums[kind] ?? 0
  const price = ctx.billing.plans.creditPrice
  const lines: InvoiceLine[] = []
  if (plan.price > 0)
    lines.push({
      description: `${plan.name} plan, ${period}`,
      quantity: 1,
      unitAmount: plan.price,
      amount: plan.price,
    })
  const bought = sum('purchase')
  if (bought > 0)
    lines.push({
      description: 'Credits purchased',
      quantity: bought,
      unitAmount: price,
      amount: bought * price,
    })
  const consumed = sum('consumption')
  if (consumed > 0)
    lines.push({ description: 'Credits consumed (prepaid)', quantity: consumed, unitAmount: 0, amount: 0 })
  return { plan, lines, total: lines.reduce((t, l) => t + l.amount, 0) }
}

/** Issues the org's invoice for a month that has ended (platform token). */
export async function issueInvoice(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { period?: string | undefined },
) {
  if (!isPlatform(actor))
    throw new OrgkitError('PLATFORM_ONLY', 'invoices are issued by the platform (or its hourly job)')
  const period = input.period ?? previousPeriod(ctx.clock())
  if (periodBounds(period).end.getTime() > ctx.clock())
    throw new OrgkitError('VALIDATION_FAILED', `${period} has not ended yet`, { field: 'period' })
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    const org = await billing.findBilling(work.tx, orgId)
    if (!org) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
    const existing = await invoices.findInvoiceForPeriod(work.tx, orgId, period)
    if (existing)
      throw new OrgkitError('ALREADY_EXISTS', `${period} is already invoiced`, { invoiceId: existing.id })
    const { plan, lines, total } = await computeLines(ctx, work.tx, orgId, org.plan, period)
    if (total === 0)
      throw new OrgkitError('NOTHING_TO_INVOICE', `nothing to charge for ${period}`, { period })
    const id = randomUUID()
    const number = invoices.invoiceNumber(orgId, period)
    const payment = await ctx.billing.payments.open({
      id,
      number,
      orgId,
      currency: ctx.billing.plans.currency,
      total,
      billingEmail: org.billing_email,
    })
    const row = await invoices.insertInvoice(
      work.tx,
      {
        id,
        orgId,
        number,
        period,
        plan: plan.key,
        currency: ctx.billing.plans.currency,
        lines,
        total,
        provider: ctx.billing.payments.name,
        providerReference: payment.reference,
        paymentUrl: payment.paymentUrl,
        billingEmail: org.billing_email,
      },
      new Date(ctx.clock()),
    )
    const view = toView(row)
    work.audit({ orgId, action: 'billing.invoice_issued', targetType: 'invoice', targetId: id, after: view })
    return view
  })
}

/** Marks an open invoice paid: the manual provider's admin action (platform token). */
export async function payInvoice(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  input: { reference?: string | undefined },
) {
  if (!isPlatform(actor)) throw new OrgkitError('PLATFORM_ONLY', 'invoices are marked paid by the platform')
  if (!ctx.billing.payments.acceptsManualPayment)
    throw new OrgkitError('FORBIDDEN', `the ${ctx.billing.payments.name} provider settles invoices itself`)
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    const before = await invoices.findInvoice(work.tx, orgId, id)
    if (!before) throw new OrgkitError('INVOICE_NOT_FOUND', 'no such invoice', { id })
    if (before.status !== 'open')
      throw new OrgkitError('INVOICE_NOT_OPEN', `the invoice is ${before.status}`, { status: before.status })
    const row = await invoices.markInvoicePaid(
      work.tx,
      id,
      input.reference ?? before.provider_reference,
      new Date(ctx.clock()),
    )
    const view = toView(row)
    work.audit({
      orgId,
      action: 'billing.invoice_paid',
      targetType: 'invoice',
      targetId: id,
      before: { status: before.status },
      after: { status: 'paid', reference: row.provider_reference },
    })
    return view
  })
}

function readable(ctx: Ctx, actor: Actor, orgId: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_invoices', { type: ORG, id: orgId })
}

export async function listInvoices(ctx: Ctx, actor: Actor, orgId: string) {
  readable(ctx, actor, orgId)
  return (await invoices.listInvoices(ctx.db, orgId)).map(toView)
}

export async function getInvoice(ctx: Ctx, actor: Actor, orgId: string, id: string): Promise<InvoiceView> {
  readable(ctx, actor, orgId)
  const row = await invoices.findInvoice(ctx.db, orgId, id)
  if (!row) throw new OrgkitError('INVOICE_NOT_FOUND', 'no such invoice', { id })
  return toView(row)
}

/** The invoice as a printable HTML page. */
export async function invoicePage(ctx: Ctx, actor: Actor, orgId: string, id: string): Promise<string> {
  const inv = await getInvoice(ctx, actor, orgId, id)
  const org = await orgs.findOrg(ctx.db, orgId)
  if (!org) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  const doc: InvoiceDocument = {
    ...inv,
    plan: ctx.billing.plans.plans[inv.plan]?.name ?? inv.plan,
    org: { id: orgId, name: org.name },
  }
  return invoiceHtml(doc)
}

/**
 * The hourly job: invoices the month just ended for every org that owes something (a paid plan, or
 * credits bought). Instances racing on one org meet on the (org, period) key; the loser's ALREADY_EXISTS
 * is expected.
 */
export async function issueDueInvoices(ctx: Ctx): Promise<number> {
  const period = previousPeriod(ctx.clock())
  const { start, end } = periodBounds(period)
  const paid = Object.values(ctx.billing.plans.plans)
    .filter((p) => p.price > 0)
    .map((p) => p.key)
  const defaultPaid = paid.includes(ctx.billing.plans.defaultPlan)
  const due = await invoices.orgsWithInvoiceDue(ctx.db, {
    period,
    start,
    end,
    paidPlans: paid,
    defaultIsPaid: defaultPaid,
  })
  const job: Actor = { kind: 'platform', tokenId: 'billing-job' }
  const meta = { ip: null, userAgent: null, requestId: null }
  let issued = 0
  for (const id of due) {
    try {
      await issueInvoice(ctx, job, meta, id, { period })
      issued++
    } catch (error) {
      if (!isOrgkitError(error, 'ALREADY_EXISTS') && !isOrgkitError(error, 'NOTHING_TO_INVOICE')) throw error
    }
  }
  return issued
}
