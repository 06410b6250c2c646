import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILT_IN_PLANS, parsePlans } from '../src/billing/plans.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { raceRounds } from './support/races.ts'

/**
 * Plan limits and the credit ledger under concurrency. On PostgreSQL the requests run on separate
 * connections at once; the org row lock taken by `write()` before the count is what makes the seat
 * limit hold (count-then-insert without it lets several requests see the same last free seat).
 */
describe.each(DATABASES)('billing under concurrency (%s)', (database) => {
  const rounds = raceRounds(database, 6)
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database, {
      plans: parsePlans({ ...BUILT_IN_PLANS, defaultPlan: 'free' }, 'test'),
    })
  }, 60_000)
  afterAll(() => s?.stop())

  const newOrg = async (name: string) => {
    const owner = await s.user('Owner')
    return (await s.as(owner).post('/v1/orgs', { name })).body.id as string
  }

  it(`lets exactly the free seats through when invites race at the limit, ${rounds} times`, async () => {
    for (let round = 0; round < rounds; round++) {
      const orgId = await newOrg(`Seats ${round}`) // free: 3 seats, the owner holds one
      // Invitations and direct additions both take seats: four of each, all at once.
      const users = await Promise.all(Array.from({ length: 4 }, (_, i) => s.user(`R${round}u${i}`)))
      const replies = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) =>
          s.platform.post(`/v1/orgs/${orgId}/invitations`, {
            email: `r${round}i${i}@example.com`,
            role: 'org_member',
          }),
        ),
        ...users.map((userId) => s.platform.post(`/v1/orgs/${orgId}/members`, { userId })),
      ])
      const statuses = replies.map((r) => r.status).sort()
      expect(statuses, `round ${round}`).toEqual([201, 201, 409, 409, 409, 409, 409, 409])
      for (const r of replies.filter((r) => r.status === 409)) expect(r.body.details.limit).toBe('seats')
      expect((await s.platform.get(`/v1/orgs/${orgId}/usage`)).body.seats.used).toBe(3)
    }
  }, 240_000)

  it('keeps the ledger summing to the balance, never negative, through random and concurrent entries', async () => {
    type Op = { kind: 'purchase' | 'grant' | 'consumption' | 'refund'; amount: number }
    const op = fc.record({
      kind: fc.constantFrom('purchase', 'grant', 'consumption', 'consumption', 'refund'),
      amount: fc.integer({ min: 1, max: 60 }),
    }) as fc.Arbitrary<Op>
    // Each step is a batch sent at once: one entry alone, or several racing.
    const steps = fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 })
    let run = 0
    await fc.assert(
      fc.asyncProperty(steps, async (batches) => {
        const orgId = await newOrg(`Ledger ${run++}`)
        const path = `/v1/orgs/${orgId}/billing/credits`
        let expected = 0
        const accepted = new Set<string>()
        for (const batch of batches) {
          const replies = await Promise.all(batch.map((o) => s.platform.post(path, o)))
          for (const [i, reply] of replies.entries()) {
            if (reply.status === 201) {
              accepted.add(reply.body.id)
              expected += reply.body.amount
              expect(reply.body.amount).toBe(
                (batch[i]!.kind === 'purchase' || batch[i]!.kind === 'grant' ? 1 : -1) * batch[i]!.amount,
              )
            } else {
              expect([reply.status, reply.body.code]).toEqual([409, 'INSUFFICIENT_CREDITS'])
              expect(['consumption', 'refund']).toContain(batch[i]!.kind)
            }
          }
        }
        const rows = await s.store.db
          .selectFrom('credit_entries')
          .select(['id', 'amount', 'balance_after'])
          .where('org_id', '=', orgId)
          .orderBy('seq')
          .execute()
        const balance = (await s.platform.get(path)).body.balance as number
        expect(balance).toBe(expected)
        expect(rows.reduce((t, r) => t + Number(r.amount), 0)).toBe(balance)
        expect(rows.every((r) => Number(r.balance_after) >= 0)).toBe(true)
        expect(new Set(rows.map((r) => r.id))).toEqual(accepted)
        // Serialized by the org lock, the entries chain: each balance is the one before plus its amount.
        let running = 0
        for (const r of rows) {
          running += Number(r.amount)
          expect(Number(r.balance_after)).toBe(running)
        }
      }),
      { numRuns: rounds },
    )
  }, 240_000)

  it('lets exactly the affordable consumptions through when they race', async () => {
    for (let round = 0; round < rounds; round++) {
      const orgId = await newOrg(`Race ${round}`)
      const path = `/v1/orgs/${orgId}/billing/credits`
      await s.platform.post(path, { kind: 'grant', amount: 100 })
      const replies = await Promise.all(
        Array.from({ length: 8 }, () => s.platform.post(path, { kind: 'consumption', amount: 30 })),
      )
      expect(replies.map((r) => r.status).sort(), `round ${round}`).toEqual([
        201, 201, 201, 409, 409, 409, 409, 409,
      ])
      expect(
        replies
          .filter((r) => r.status === 201)
          .map((r) => r.body.balanceAfter)
          .sort(),
      ).toEqual([10, 40, 70])
      expect((await s.platform.get(path)).body.balance).toBe(10)
    }
  }, 240_000)

  it('refuses a concurrent overdraw even past the service check: the database constraint holds', async () => {
    const orgId = await newOrg('Constraint')
    await expect(
      s.store.db.updateTable('orgs').set({ credit_balance: -1 }).where('id', '=', orgId).execute(),
    ).rejects.toMatchObject({ code: '23514' })
  })
})
