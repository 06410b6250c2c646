import { randomUUID } from 'node:crypto'
import { isOrgkitError } from '@orgkit/core'
import { describe, expect, it } from 'vitest'
import { credits, invoices, mapPgErrors } from '../src/index.ts'
import { insertOrgRow } from './support/billing-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

const ISSUED = new Date('2030-02-01T01:00:00Z')
const lines = [{ description: 'Pro plan, 2030-01', quantity: 1, unitAmount: 2900, amount: 2900 }]

describe.each(TARGETS)('invoices repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  const issue = (orgId: string, period: string, id = randomUUID()) =>
    db()
      .transaction()
      .execute((tx) =>
        invoices.insertInvoice(
          tx,
          {
            id,
            orgId,
            number: invoices.invoiceNumber(orgId, period),
            period,
            plan: 'pro',
            currency: 'EUR',
            lines,
            total: 2900,
            provider: 'manual',
            providerReference: null,
            paymentUrl: null,
            billingEmail: 'billing@example.com',
          },
          ISSUED,
        ),
      )

  it('numbers an invoice by its period and org, the same whoever issues it', () => {
    const orgId = '1a2b3c4d-0000-4000-8000-000000000000'
    expect(invoices.invoiceNumber(orgId, '2030-01')).toBe('INV-203001-1A2B3C4D')
    expect(invoices.invoiceNumber(orgId, '2030-01')).toBe(invoices.invoiceNumber(orgId, '2030-01'))
    expect(invoices.invoiceNumber(orgId, '2030-02')).not.toBe(invoices.invoiceNumber(orgId, '2030-01'))
  })

  it('inserts an open invoice, and finds it in its org only', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const row = await issue(orgId, '2030-01')
    expect(row).toMatchObject({
      org_id: orgId,
      number: invoices.invoiceNumber(orgId, '2030-01'),
      period: '2030-01',
      plan: 'pro',
      currency: 'EUR',
      lines,
      total: '2900',
      status: 'open',
      provider: 'manual',
      billing_email: 'billing@example.com',
      issued_at: ISSUED,
      paid_at: null,
    })
    expect(await invoices.findInvoice(db(), orgId, row.id)).toEqual(row)
    expect(await invoices.findInvoice(db(), other, row.id)).toBeUndefined()
    expect(await invoices.findInvoiceForPeriod(db(), orgId, '2030-01')).toEqual({ id: row.id })
    expect(await invoices.findInvoiceForPeriod(db(), orgId, '2030-02')).toBeUndefined()
    expect(await invoices.findInvoiceForPeriod(db(), other, '2030-01')).toBeUndefined()
  })

  it('takes one invoice per org and period: a second is ALREADY_EXISTS', async () => {
    const orgId = await insertOrgRow(db())
    await issue(orgId, '2030-01')
    const error = await mapPgErrors('invoice', () => issue(orgId, '2030-01')).catch((e: unknown) => e)
    expect(isOrgkitError(error, 'ALREADY_EXISTS')).toBe(true)
    expect(await invoices.listInvoices(db(), orgId)).toHaveLength(1)
  })

  it('lists an org’s invoices, newest period first', async () => {
    const orgId = await insertOrgRow(db())
    await issue(await insertOrgRow(db()), '2030-01')
    for (const period of ['2029-11', '2030-01', '2029-12']) await issue(orgId, period)
    expect((await invoices.listInvoices(db(), orgId)).map((i) => i.period)).toEqual([
      '2030-01',
      '2029-12',
      '2029-11',
    ])
  })

  it('marks an invoice paid, with its time and reference', async () => {
    const orgId = await insertOrgRow(db())
    const row = await issue(orgId, '2030-01')
    const paidAt = new Date('2030-02-03T00:00:00Z')
    const paid = await db()
      .transaction()
      .execute((tx) => invoices.markInvoicePaid(tx, row.id, 'wire-42', paidAt))
    expect(paid).toEqual({ ...row, status: 'paid', paid_at: paidAt, provider_reference: 'wire-42' })
    expect(await invoices.findInvoice(db(), orgId, row.id)).toEqual(paid)
  })

  it('finds the orgs that owe an invoice for a period and have none yet', async () => {
    const period = '2031-05'
    const start = new Date('2031-05-01T00:00:00Z')
    const end = new Date('2031-06-01T00:00:00Z')
    const purchase = (orgId: string, at: Date, kind: credits.CreditKind = 'purchase') =>
      db()
        .transaction()
        .execute((tx) =>
          credits.appendCreditEntry(
            tx,
            { orgId, kind, amount: 5, description: '', actorType: 'platform', actorId: null },
            at,
          ),
        )
    const org = {
      paidPlan: await insertOrgRow(db(), { plan: 'pro' }),
      freePlan: await insertOrgRow(db(), { plan: 'free' }),
      defaultPlan: await insertOrgRow(db(), { plan: null }),
      bought: await insertOrgRow(db(), { plan: 'free' }),
      boughtBefore: await insertOrgRow(db(), { plan: 'free' }),
      boughtAtEnd: await insertOrgRow(db(), { plan: 'free' }),
      granted: await insertOrgRow(db(), { plan: 'free' }),
      invoiced: await insertOrgRow(db(), { plan: 'pro' }),
    }
    await purchase(org.bought, new Date('2031-05-31T23:59:59Z'))
    await purchase(org.boughtBefore, new Date('2031-04-30T23:59:59Z'))
    await purchase(org.boughtAtEnd, end)
    await purchase(org.granted, new Date('2031-05-10T00:00:00Z'), 'grant')
    await issue(org.invoiced, period)
    const ours = new Set(Object.values(org))
    const due = async (paidPlans: string[], defaultIsPaid: boolean) =>
      (await invoices.orgsWithInvoiceDue(db(), { period, start, end, paidPlans, defaultIsPaid }))
        .filter((id) => ours.has(id))
        .sort()
    expect(await due(['pro'], false)).toEqual([org.paidPlan, org.bought].sort())
    expect(await due(['pro'], true)).toEqual([org.paidPlan, org.defaultPlan, org.bought].sort())
    expect(await due([], false)).toEqual([org.bought])
  })
})
