import { describe, expect, it } from 'vitest'
import { credits, type Executor, mapPgErrors } from '../src/index.ts'
import { insertOrgRow } from './support/billing-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

const T0 = new Date('2030-03-01T00:00:00Z')
const actor = { actorType: 'platform', actorId: 'tok' }

describe.each(TARGETS)('credits repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  const append = (orgId: string, kind: credits.CreditKind, amount: number, now = T0) =>
    db()
      .transaction()
      .execute((tx) => credits.appendCreditEntry(tx, { orgId, kind, amount, description: '', ...actor }, now))

  /** The ledger's invariant: balance = sum of entries >= 0, and each entry's balance_after chains. */
  async function assertLedger(db: Executor, orgId: string) {
    const entries = await db
      .selectFrom('credit_entries')
      .select(['amount', 'balance_after'])
      .where('org_id', '=', orgId)
      .orderBy('seq')
      .execute()
    let running = 0
    for (const e of entries) {
      running += Number(e.amount)
      expect(Number(e.balance_after)).toBe(running)
      expect(running).toBeGreaterThanOrEqual(0)
    }
    expect(await credits.creditBalance(db, orgId)).toBe(running)
    return running
  }

  it('appends entries that move the balance, and answers the entry', async () => {
    const orgId = await insertOrgRow(db())
    expect(await credits.creditBalance(db(), orgId)).toBe(0)
    const bought = await append(orgId, 'purchase', 100)
    expect(bought).toEqual({
      applied: true,
      entry: expect.objectContaining({
        org_id: orgId,
        kind: 'purchase',
        amount: '100',
        balance_after: '100',
        actor_type: 'platform',
        actor_id: 'tok',
        created_at: T0,
      }),
    })
    const used = await append(orgId, 'consumption', -30)
    expect(used.applied && used.entry.balance_after).toBe('70')
    expect(await assertLedger(db(), orgId)).toBe(70)
  })

  it('refuses an entry that would take the balance below zero, writing nothing', async () => {
    const orgId = await insertOrgRow(db())
    await append(orgId, 'grant', 10)
    expect(await append(orgId, 'consumption', -11)).toEqual({ applied: false, balance: 10 })
    expect(await append(orgId, 'refund', -10)).toMatchObject({ applied: true })
    expect(await append(orgId, 'consumption', -1)).toEqual({ applied: false, balance: 0 })
    expect(await assertLedger(db(), orgId)).toBe(0)
    const rows = await db().selectFrom('credit_entries').select('kind').where('org_id', '=', orgId).execute()
    expect(rows.map((r) => r.kind).sort()).toEqual(['grant', 'refund'])
  })

  it('keeps the balance non-negative in the database, whatever else writes it', async () => {
    const orgId = await insertOrgRow(db())
    const error = await mapPgErrors('credits', () =>
      db().updateTable('orgs').set({ credit_balance: -1 }).where('id', '=', orgId).execute(),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(await credits.creditBalance(db(), orgId)).toBe(0)
  })

  it('keeps the ledger chained and summing to the balance when appends race', async () => {
    const orgId = await insertOrgRow(db())
    await append(orgId, 'grant', 50)
    // Twenty appends at once, on separate connections on PostgreSQL: without the lock they would read the
    // same balance and write balance_after values that don't chain (or take it below zero).
    const amounts = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 7 : -9))
    const results = await Promise.all(
      amounts.map((a) => append(orgId, a > 0 ? 'grant' : 'consumption', a).catch((e: unknown) => e)),
    )
    for (const r of results) expect(r).toHaveProperty('applied')
    const applied = results.filter((r) => (r as credits.AppendResult).applied).length
    expect(applied).toBeGreaterThan(0)
    await assertLedger(db(), orgId)
  })

  it('lists an org’s entries newest first, a page at a time', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    for (const n of [1, 2, 3]) await append(orgId, 'grant', n)
    await append(other, 'grant', 99)
    const all = await credits.listCreditEntries(db(), orgId, { limit: 10 })
    expect(all.map((e) => e.amount)).toEqual(['3', '2', '1'])
    const page1 = await credits.listCreditEntries(db(), orgId, { limit: 2 })
    const page2 = await credits.listCreditEntries(db(), orgId, { beforeSeq: page1.at(-1)!.seq, limit: 2 })
    expect([...page1, ...page2].map((e) => e.id)).toEqual(all.map((e) => e.id))
  })

  it('totals the credits moved in a period by kind, as positive sums', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const inMarch = new Date('2030-03-15T00:00:00Z')
    await append(orgId, 'purchase', 40, new Date('2030-02-28T23:59:59Z')) // before the period
    await append(orgId, 'purchase', 30, T0) // its first instant
    await append(orgId, 'purchase', 5, inMarch)
    await append(orgId, 'consumption', -20, inMarch)
    await append(orgId, 'consumption', -3, inMarch)
    await append(orgId, 'grant', 1, new Date('2030-04-01T00:00:00Z')) // the next period's first instant
    await append(other, 'purchase', 1000, inMarch)
    expect(await credits.creditTotals(db(), orgId, T0, new Date('2030-04-01T00:00:00Z'))).toEqual({
      purchase: 35,
      consumption: 23,
    })
    expect(await credits.creditTotals(db(), orgId, new Date('2031-01-01'), new Date('2031-02-01'))).toEqual(
      {},
    )
  })
})
