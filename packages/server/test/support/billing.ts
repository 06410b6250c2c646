import { previousPeriod } from '../../src/services/invoices.ts'
import type { TestServer } from './harness.ts'

/**
 * Issues last month's invoice for an org (platform token): on the `team` plan for the moment of issue,
 * so there is something to charge, then back on the plan it had.
 */
export async function issueLastMonthInvoice(s: TestServer, orgId: string): Promise<string> {
  const before = (await s.platform.get(`/v1/orgs/${orgId}/billing`)).body.plan.key as string
  const moved = await s.platform.put(`/v1/orgs/${orgId}/billing/plan`, { plan: 'team' })
  if (moved.status !== 200) throw new Error(`plan: ${JSON.stringify(moved.body)}`)
  const issued = await s.platform.post(`/v1/orgs/${orgId}/billing/invoices`, {
    period: previousPeriod(Date.now()),
  })
  if (issued.status !== 201) throw new Error(`invoice: ${JSON.stringify(issued.body)}`)
  await s.platform.put(`/v1/orgs/${orgId}/billing/plan`, { plan: before })
  return issued.body.id as string
}
