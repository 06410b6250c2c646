import type { ProblemCode } from '@orgkit/sdk'

/**
 * The billing problems in words built from their `details` (docs/billing.md): which limit, the plan's
 * maximum and what is in use, so a person knows what to change. Null for any other problem.
 */
export function billingProblem(code: ProblemCode, details: unknown): string | null {
  const d = (details ?? {}) as Record<string, unknown>
  const what = (limit: unknown) => `${String(limit).replace(/s$/, '')}s`
  switch (code) {
    case 'PLAN_LIMIT_REACHED':
      return `Plan limit reached: the "${String(d.plan)}" plan allows ${String(d.max)} ${what(d.limit)} and ${String(d.current)} are in use. Upgrade the plan (Plans tab) or free one up.`
    case 'PLAN_DOWNGRADE_BLOCKED': {
      const excess = Array.isArray(d.excess)
        ? (d.excess as { limit: string; max: number; current: number }[])
        : []
      const list = excess
        .map((e) => `${what(e.limit)}: ${e.current} in use, the plan allows ${e.max}`)
        .join('; ')
      return `The "${String(d.plan)}" plan is too small for this organization (${list}). Remove the excess first.`
    }
    case 'PLAN_FEATURE_UNAVAILABLE':
      return `The organization's plan does not include ${String(d.feature)}. Upgrade the plan (Plans tab).`
    case 'INSUFFICIENT_CREDITS':
      return 'Not enough credits for this.'
    default:
      return null
  }
}
