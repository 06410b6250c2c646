import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, OrgParams, Uuid, withRevision, written } from '../schemas.ts'
import * as billing from '../services/billing.ts'

const tags = ['Billing']
const Plan = z
  .object({
    key: z.string(),
    name: z.string(),
    price: z.number().int(),
    seats: z.number().int().nullable(),
    resources: z.record(z.string(), z.number().int().nullable()),
    features: z.array(z.string()),
  })
  .openapi('Plan')
const Billing = z
  .object({
    orgId: Uuid,
    plan: Plan,
    billingEmail: z.string().nullable(),
    creditBalance: z.number().int(),
    currency: z.string(),
    provider: z.string(),
  })
  .openapi('Billing')

/** The plan catalogue and an org's plan and billing settings (issue #9, docs/billing.md). */
export const billingRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/plans',
      tags,
      operationId: 'listPlans',
      summary: 'List plans',
      description: 'The plan catalogue, with its currency and credit price',
      responses: {
        200: json(
          z.object({
            currency: z.string(),
            creditPrice: z.number().int(),
            defaultPlan: z.string(),
            items: z.array(Plan),
          }),
        ),
        ...errorResponses,
      },
    }),
    (c) => c.json(billing.listPlans(ctx), 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing',
      tags,
      operationId: 'getBilling',
      summary: 'Get billing',
      description: "The org's plan, billing email and credit balance (org.read_billing)",
      request: { params: OrgParams },
      responses: { 200: json(Billing), ...errorResponses },
    }),
    async (c) => c.json(await billing.getBilling(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/billing',
      tags,
      operationId: 'updateBilling',
      summary: 'Change the billing email',
      description: 'Change the billing email (org.update_billing)',
      request: {
        params: OrgParams,
        ...body(z.object({ billingEmail: z.email().max(320).nullable() }).strict()),
      },
      responses: { 200: json(withRevision({ billingEmail: z.string().nullable() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await billing.updateBilling(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/orgs/{orgId}/billing/plan',
      tags,
      operationId: 'changePlan',
      summary: 'Change plan',
      description:
        'Move the org to another plan; a downgrade its usage exceeds is refused (org.update_billing)',
      request: { params: OrgParams, ...body(z.object({ plan: z.string().min(1).max(100) }).strict()) },
      responses: { 200: json(withRevision({ plan: Plan })), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await billing.changePlan(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        200,
      )
    },
  )
}
