import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { errorResponses, json, OrgParams, Uuid } from '../schemas.ts'
import * as usage from '../services/usage.ts'

const Usage = z
  .object({
    orgId: Uuid,
    plan: z.string(),
    seats: z.object({
      used: z.number().int(),
      max: z.number().int().nullable(),
      members: z.number().int(),
      pendingInvitations: z.number().int(),
    }),
    resources: z.record(z.string(), z.object({ used: z.number().int(), max: z.number().int().nullable() })),
    checks: z.object({
      today: z.number().int(),
      daily: z.array(z.object({ day: z.string(), count: z.number().int() })),
    }),
  })
  .openapi('Usage')

/** An org's usage against its plan: seats, resources by type, checks per day. */
export const usageRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/usage',
      tags: ['Billing'],
      operationId: 'getUsage',
      summary: 'Get usage',
      description: 'Seats, resources and checks per day against the plan (org.read_billing)',
      request: {
        params: OrgParams,
        query: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }),
      },
      responses: { 200: json(Usage), ...errorResponses },
    }),
    async (c) =>
      c.json(
        await usage.getUsage(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
}
