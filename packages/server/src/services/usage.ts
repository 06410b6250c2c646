import { ORG } from '@orgkit/core'
import { usage } from '@orgkit/store'
import { CHECKS, dayOf } from '../billing/usage-meter.ts'
import { type Actor, authorize, type Ctx, requireOrg } from './context.ts'
import { countResources, countSeats, planOf } from './plan-limits.ts'

/**
 * The org's usage against its plan (`org.read_billing`): seats (members + pending invitations), resources
 * per type, and checks answered per day for the last `days` days — counts only, never who or what, so a
 * billing manager sees no member or app here.
 */
export async function getUsage(ctx: Ctx, actor: Actor, orgId: string, q: { days: number }) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_billing', { type: ORG, id: orgId })
  const plan = await planOf(ctx, ctx.db, orgId)
  const seats = await countSeats(ctx, ctx.db, orgId)
  const resources = await countResources(ctx.db, orgId)
  const now = ctx.clock()
  const days = Array.from({ length: q.days }, (_, i) => dayOf(now - (q.days - 1 - i) * 86_400_000))
  const counted = await usage.dailyCounts(ctx.db, orgId, CHECKS, days[0]!)
  // This instance's counts not flushed yet, so a chart is current here (others' arrive within a flush).
  for (const [day, n] of ctx.billing.usage.unflushed(orgId)) counted.set(day, (counted.get(day) ?? 0) + n)
  const types = new Set([...Object.keys(ctx.model.resourceTypes), ...Object.keys(plan.resources)])
  return {
    orgId,
    plan: plan.key,
    seats: {
      used: seats.seats,
      max: plan.seats,
      members: seats.members,
      pendingInvitations: seats.pendingInvitations,
    },
    resources: Object.fromEntries(
      [...types]
        .sort()
        .map((type) => [type, { used: resources[type] ?? 0, max: plan.resources[type] ?? null }]),
    ),
    checks: {
      today: counted.get(days.at(-1)!) ?? 0,
      daily: days.map((day) => ({ day, count: counted.get(day) ?? 0 })),
    },
  }
}
