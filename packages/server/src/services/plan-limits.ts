import { OrgkitError } from '@orgkit/core'
import { billing, type Executor } from '@orgkit/store'
import { type Plan, type PlanFeature, planFor } from '../billing/plans.ts'
import type { Ctx, Work } from './context.ts'

/**
 * Plan limits, checked where they bite. Every assertion runs inside `write()` on its transaction, after
 * the org row lock: two writes to one org can't both see the last free seat (race-free by the lock, not
 * by luck).
 */
export async function planOf(ctx: Ctx, db: Executor, orgId: string): Promise<Plan> {
  return planFor(ctx.billing.plans, await billing.planKeyOf(db, orgId))
}

/** The org's plan inside a write: read from the row the write locked when it is this org's. */
const planIn = (ctx: Ctx, work: Work, orgId: string) =>
  work.org?.id === orgId ? planFor(ctx.billing.plans, work.org.plan) : planOf(ctx, work.tx, orgId)

export interface SeatCount {
  /** Members plus pending invitations (SPEC 3: pending invitations count as seats). */
  seats: number
  members: number
  pendingInvitations: number
}

export async function countSeats(ctx: Ctx, db: Executor, orgId: string): Promise<SeatCount> {
  const m = await billing.countMembers(db, orgId)
  const p = await billing.countPendingInvitations(db, orgId, new Date(ctx.clock()))
  return { seats: m + p, members: m, pendingInvitations: p }
}

/** Resources of each type in the org (types with none are absent). */
export function countResources(db: Executor, orgId: string): Promise<Record<string, number>> {
  return billing.countResourcesByType(db, orgId)
}

const limitReached = (plan: Plan, limit: string, max: number, current: number) =>
  new OrgkitError(
    'PLAN_LIMIT_REACHED',
    `the ${plan.name} plan allows ${max} ${limit === 'seats' ? 'seats' : `${limit} resources`}; upgrade to add more`,
    { limit, max, current, plan: plan.key },
  )

/** One more seat (a member or a pending invitation) must fit the org's plan. */
export async function assertSeatAvailable(ctx: Ctx, work: Work, orgId: string): Promise<void> {
  const plan = await planIn(ctx, work, orgId)
  if (plan.seats === null) return
  const { seats } = await countSeats(ctx, work.tx, orgId)
  if (seats + 1 > plan.seats) throw limitReached(plan, 'seats', plan.seats, seats)
}

/** One more resource of this type must fit the org's plan. */
export async function assertResourceAvailable(
  ctx: Ctx,
  work: Work,
  orgId: string,
  type: string,
): Promise<void> {
  const plan = await planIn(ctx, work, orgId)
  const max = plan.resources[type] ?? null
  if (max === null) return
  const current = (await countResources(work.tx, orgId))[type] ?? 0
  if (current + 1 > max) throw limitReached(plan, type, max, current)
}

/** The org's plan must include the feature (sub-organizations, custom roles). */
export async function assertFeature(ctx: Ctx, work: Work, orgId: string, feature: PlanFeature) {
  const plan = await planIn(ctx, work, orgId)
  if (!plan.features.includes(feature)) {
    throw new OrgkitError('PLAN_FEATURE_UNAVAILABLE', `the ${plan.name} plan does not include ${feature}`, {
      feature,
      plan: plan.key,
    })
  }
}

/**
 * What stops a move to `plan`: each limit the org's current usage exceeds (and each feature it uses
 * that the plan lacks). Empty when the move is allowed.
 */
export async function excessOver(ctx: Ctx, tx: Executor, orgId: string, plan: Plan) {
  const excess: { limit: string; max: number; current: number }[] = []
  const { seats } = await countSeats(ctx, tx, orgId)
  if (plan.seats !== null && seats > plan.seats)
    excess.push({ limit: 'seats', max: plan.seats, current: seats })
  const resources = await countResources(tx, orgId)
  for (const [type, max] of Object.entries(plan.resources)) {
    if (max !== null && (resources[type] ?? 0) > max)
      excess.push({ limit: type, max, current: resources[type] ?? 0 })
  }
  if (!plan.features.includes('customRoles')) {
    const roles = await billing.countCustomRoles(tx, orgId)
    if (roles > 0) excess.push({ limit: 'customRoles', max: 0, current: roles })
  }
  if (!plan.features.includes('subOrgs')) {
    const children = await billing.countChildOrgs(tx, orgId)
    if (children > 0) excess.push({ limit: 'subOrgs', max: 0, current: children })
  }
  return excess
}
