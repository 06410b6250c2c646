import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  Binding,
  body,
  errorResponses,
  IdParams,
  json,
  OrgParams,
  Principal,
  Revised,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as bindings from '../services/bindings.ts'

const tags = ['Bindings']
const BindingInput = z
  .object({
    principal: Principal,
    role: z.string().min(1),
    resourceId: Uuid.nullable().optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
    reason: z.string().max(500).nullable().optional(),
  })
  .strict()

/** Role bindings: who holds which role, at the org or on a resource. */
export const bindingRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/bindings',
      tags,
      operationId: 'listBindings',
      summary: 'List bindings',
      description: 'Role bindings in the organization, by user, group or resource',
      request: {
        params: OrgParams,
        query: z.object({ userId: Uuid.optional(), groupId: Uuid.optional(), resourceId: Uuid.optional() }),
      },
      responses: { 200: json(z.object({ items: z.array(Binding) })), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const items = await bindings.listBindings(ctx, c.get('actor'), orgId, c.req.valid('query'))
      return c.json({ items }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/bindings',
      tags,
      operationId: 'createBinding',
      summary: 'Grant a role',
      description: 'Grant a role to a user or group, at the org or on a resource',
      request: { params: OrgParams, ...body(BindingInput) },
      responses: { 201: json(withRevision(Binding.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await bindings.createBinding(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/bindings/{id}',
      tags,
      operationId: 'updateBinding',
      summary: "Change a binding's role",
      description:
        'Change the role of a binding in place, in one write, under the rules of a revoke and a grant',
      request: { params: IdParams, ...body(z.object({ role: z.string().min(1) }).strict()) },
      responses: { 200: json(withRevision(Binding.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(
          await bindings.updateBindingRole(
            ctx,
            c.get('actor'),
            c.get('meta'),
            orgId,
            id,
            c.req.valid('json'),
          ),
        ),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/bindings/{id}',
      tags,
      operationId: 'deleteBinding',
      summary: 'Revoke a binding',
      description: 'Revoke a role binding',
      request: { params: IdParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await bindings.deleteBinding(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )
}
