import { readFileSync } from 'node:fs'
import { z } from '@hono/zod-openapi'
import { OrgkitError } from '@orgkit/core'

/** What a plan may switch on beyond its limits. */
export const PLAN_FEATURES = ['subOrgs', 'customRoles'] as const
export type PlanFeature = (typeof PLAN_FEATURES)[number]

/** Limits are maxima; null means unlimited. Prices are in the catalogue's currency's minor unit (cents). */
const PlanSchema = z
  .object({
    name: z.string().min(1).max(100),
    /** Flat price per monthly period. */
    price: z.number().int().nonnegative(),
    /** Members plus pending invitations. */
    seats: z.number().int().positive().nullable(),
    /** Per resource type of the model (`app`, `project` …); a type not named is unlimited. */
    resources: z.record(z.string(), z.number().int().nonnegative().nullable()).default({}),
    features: z.array(z.enum(PLAN_FEATURES)).default([]),
  })
  .strict()

const CatalogSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[a-z]{3}$/)
      .default('usd'),
    /** Price of one credit, in minor units, charged on the invoice of the period it was bought in. */
    creditPrice: z.number().int().nonnegative().default(1),
    /** The plan of an org nobody has moved to another one. */
    defaultPlan: z.string(),
    plans: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), PlanSchema),
  })
  .strict()

export type Plan = z.infer<typeof PlanSchema> & { key: string }
export interface PlanCatalog {
  currency: string
  creditPrice: number
  defaultPlan: string
  plans: Record<string, Plan>
}

/**
 * The built-in set. A SaaS picks `free` as its default (ORGKIT_DEFAULT_PLAN=free); out of the box orgs
 * are on `unlimited`, so a self-hosted deployment — or one upgrading to this release — is never
 * limited by plans it did not choose.
 */
export const BUILT_IN_PLANS = {
  currency: 'usd',
  creditPrice: 1,
  defaultPlan: 'unlimited',
  plans: {
    free: { name: 'Free', price: 0, seats: 3, resources: { app: 2 }, features: [] },
    team: { name: 'Team', price: 4900, seats: 25, resources: { app: 25 }, features: ['customRoles'] },
    enterprise: {
      name: 'Enterprise',
      price: 49900,
      seats: null,
      resources: {},
      features: ['subOrgs', 'customRoles'],
    },
    unlimited: {
      name: 'Unlimited (self-hosted)',
      price: 0,
      seats: null,
      resources: {},
      features: ['subOrgs', 'customRoles'],
    },
  },
} as const

/** Validates a catalogue (the built-in one or a deployment's file); a mistake fails at start-up. */
export function parsePlans(input: unknown, source: string): PlanCatalog {
  const parsed = CatalogSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new OrgkitError('VALIDATION_FAILED', `${source}: ${issue.path.join('.')}: ${issue.message}`, {
      field: 'ORGKIT_PLANS',
    })
  }
  const { plans, ...rest } = parsed.data
  if (!plans[rest.defaultPlan]) {
    throw new OrgkitError('VALIDATION_FAILED', `${source}: defaultPlan "${rest.defaultPlan}" is not a plan`, {
      field: 'ORGKIT_PLANS',
    })
  }
  return {
    ...rest,
    plans: Object.fromEntries(Object.entries(plans).map(([key, plan]) => [key, { ...plan, key }])),
  }
}

/**
 * ORGKIT_PLANS names a JSON file replacing the built-in catalogue (same shape as BUILT_IN_PLANS);
 * ORGKIT_DEFAULT_PLAN picks the default plan of either.
 */
export function loadPlans(file: string | undefined, defaultPlan: string | undefined): PlanCatalog {
  let raw: unknown = BUILT_IN_PLANS
  let source = 'built-in plans'
  if (file) {
    source = file
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new OrgkitError(
        'VALIDATION_FAILED',
        `ORGKIT_PLANS: can't read ${file}: ${(error as Error).message}`,
        {
          field: 'ORGKIT_PLANS',
        },
      )
    }
  }
  if (defaultPlan) raw = { ...(raw as object), defaultPlan }
  return parsePlans(raw, source)
}

/** An org's plan: the one it chose, else the default (a plan removed from the file also falls back). */
export function planFor(catalog: PlanCatalog, key: string | null): Plan {
  return (key !== null && catalog.plans[key]) || catalog.plans[catalog.defaultPlan]!
}
