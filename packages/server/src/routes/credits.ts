import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, OrgParams, Uuid, written } from '../schemas.ts'
import * as credits from '../services/credits.ts'

const tags = ['Billing']
const Kind = z.enum(['purchase', 'grant', 'consumption', 'refund'])
const CreditEntry = z
  .object({
    id: Uuid,
    kind: Kind,
    amount: z.number().int(),
    balanceAfter: z.number().int(),
    description: z.string(),
    actor: z.object({ type: z.string(), id: z.string().nullable() }),
    createdAt: z.string(),
  })
  .openapi('CreditEntry')

/** An org's credit balance and its ledger (docs/billing.md). */
export const creditRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing/credits',
      tags,
      operationId: 'listCredits',
      summary: 'List credits',
      description: 'The credit balance and ledger, newest first (org.read_billing)',
      request: {
        params: OrgParams,
        query: z.object({
          cursor: z
            .string()
            .regex(/^\d{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: {
        200: json(
          z.object({
            balance: z.number().int(),
            items: z.array(CreditEntry),
            nextCursor: z.string().nullable(),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await credits.listCredits(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/billing/credits',
      tags,
      operationId: 'addCredits',
      summary: 'Add credits',
      description:
        'Add a ledger entry: a purchase (org.update_billing), or a grant, consumption or refund (platform token)',
      request: {
        params: OrgParams,
        ...body(
          z
            .object({
              kind: Kind,
              amount: z.number().int().positive().max(1_000_000_000),
              description: z.string().max(500).optional(),
            })
            .strict(),
        ),
      },
      responses: { 201: json(CreditEntry.extend({ revision: z.number() }), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await credits.addCredits(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        201,
      )
    },
  )
}
