import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  IdParams,
  json,
  Override,
  Principal,
  withRevision,
  written,
} from '../schemas.ts'
import * as overrides from '../services/overrides.ts'

const tags = ['Resources']
const OverrideInput = z
  .object({
    principal: Principal,
    permission: z.string().min(1),
    effect: z.enum(['allow', 'deny', 'default']),
  })
  .strict()

/** Per-resource overrides: allow or deny one permission to one principal, against its roles. */
export const overrideRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources/{id}/overrides',
      tags,
      operationId: 'listOverrides',
      summary: 'List overrides',
      description: 'Overrides on this resource and the resources directly below it',
      request: { params: IdParams },
      responses: { 200: json(z.object({ items: z.array(Override) })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json({ items: await overrides.listOverrides(ctx, c.get('actor'), orgId, id) }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/orgs/{orgId}/resources/{id}/overrides',
      tags,
      operationId: 'setOverride',
      summary: 'Set an override',
      description: 'Set one override: allow, deny or default',
      request: { params: IdParams, ...body(OverrideInput) },
      responses: { 200: json(withRevision(Override.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(
          await overrides.putOverride(ctx, c.get('actor'), c.get('meta'), orgId, id, c.req.valid('json')),
        ),
        200,
      )
    },
  )
}
