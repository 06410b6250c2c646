import { ORG, OrgkitError } from '@orgkit/core'
import { billing } from '@orgkit/store'
import type { Plan } from '../billing/plans.ts'
import { type Actor, authorize, type Ctx, type RequestMeta, requireOrg, type Work, write } from './context.ts'
import { excessOver, planOf } from './plan-limits.ts'

/**
 * An org's plan and billing settings (issue #9). Reads need `org.read_billing`, writes
 * `org.update_billing` (seed 001: super admin and billing manager only); every write is audited in the
 * billing category (`billing.*`, readable with `org.read_billing_audit`).
 */
export const toPlanView = (plan: Plan) => ({
  key: plan.key,
  name: plan.name,
  price: plan.price,
  seats: plan.seats,
  resources: plan.resources,
  features: [...plan.features],
})

/** The catalogue, for choosing a plan (any signed-in caller: prices are public). */
export function listPlans(ctx: Ctx) {
  const { currency, creditPrice, defaultPlan, plans } = ctx.billing.plans
  return { currency, creditPrice, defaultPlan, items: Object.values(plans).map(toPlanView) }
}

export async function getBilling(ctx: Ctx, actor: Actor, orgId: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_billing', { type: ORG, id: orgId })
  const row = await billing.findBilling(ctx.db, orgId)
  if (!row) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  return {
    orgId,
    plan: toPlanView(await planOf(ctx, ctx.db, orgId)),
    billingEmail: row.billing_email,
    creditBalance: Number(row.credit_balance),
    currency: ctx.billing.plans.currency,
    provider: ctx.billing.payments.name,
  }
}

/**
 * Moves the org to another plan. A downgrade the org's current usage doesn't fit is refused, naming every
 * limit in the way; the check and the move happen under the org lock, so no invite slips in between.
 */
export async function changePlan(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { plan: string },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    authorize(ctx, actor, 'org.update_billing', { type: ORG, id: orgId })
    const plan = ctx.billing.plans.plans[input.plan]
    if (!plan) throw new OrgkitError('UNKNOWN_PLAN', `no plan "${input.plan}"`, { field: 'plan' })
    const before = await planOf(ctx, work.tx, orgId)
    const excess = await excessOver(ctx, work.tx, orgId, plan)
    if (excess.length > 0) {
      const first = excess[0]!
      throw new OrgkitError(
        'PLAN_DOWNGRADE_BLOCKED',
        `the ${plan.name} plan allows ${first.max} ${first.limit}, the org uses ${first.current}`,
        { plan: plan.key, ...first, excess },
      )
    }
    await billing.setPlan(work.tx, orgId, plan.key, new Date(ctx.clock()))
    work.audit({
      orgId,
      action: 'billing.plan_changed',
      targetType: 'org',
      targetId: orgId,
      before: { plan: before.key },
      after: { plan: plan.key },
    })
    return { plan: toPlanView(plan) }
  })
}

/** The address invoices go to (General settings). */
export async function updateBilling(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { billingEmail: string | null },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    return { billingEmail: await setBillingEmail(ctx, actor, work, orgId, input.billingEmail) }
  })
}

/**
 * Sets the billing email inside a write (here, or with the other General settings in PATCH /orgs/{id}):
 * it needs `org.update_billing` and is audited in the billing category, whatever else the write does.
 */
export async function setBillingEmail(
  ctx: Ctx,
  actor: Actor,
  work: Work,
  orgId: string,
  email: string | null,
): Promise<string | null> {
  authorize(ctx, actor, 'org.update_billing', { type: ORG, id: orgId })
  const before = await billing.findBilling(work.tx, orgId)
  if (!before) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
  const billingEmail = email?.trim().toLowerCase() ?? null
  await billing.setBillingEmail(work.tx, orgId, billingEmail, new Date(ctx.clock()))
  work.audit({
    orgId,
    action: 'billing.email_changed',
    targetType: 'org',
    targetId: orgId,
    before: { billingEmail: before.billing_email },
    after: { billingEmail },
  })
  return billingEmail
}
