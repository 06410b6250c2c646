import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  json,
  Name,
  OrgParams,
  PlatformPermission,
  Revised,
  Role,
  RoleKey,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as roles from '../services/roles.ts'

const tags = ['Roles']
const KeyParams = OrgParams.extend({ key: RoleKey.openapi({ param: { name: 'key', in: 'path' } }) })
const RoleInput = z.object({
  key: RoleKey,
  scope: z.string().min(1),
  slot: z.string().min(1),
  label: Name,
  description: z.string().max(1000).optional(),
  permissions: z.array(z.string().min(1)).max(500),
  priority: z.number().int().min(0).max(1_000_000),
})

/** The model in force, and each org's built-in and custom roles. */
export const roleRoutes: RouteModule = (app, ctx) => {
  // Not in any request or answer (a permission is any key of the model in force), but typed for clients:
  // every model declares these, so the console and SDK users may name them in any deployment.
  app.openAPIRegistry.register('PlatformPermission', PlatformPermission)
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/model',
      tags,
      operationId: 'getModel',
      summary: 'Get the authorization model',
      description: 'The authorization model in force: resource types, permissions, roles',
      responses: { 200: json(z.record(z.string(), z.unknown())), ...errorResponses },
    }),
    (c) => c.json(ctx.model as unknown as Record<string, unknown>, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/roles',
      tags,
      operationId: 'listRoles',
      summary: 'List roles',
      description: 'Built-in and custom roles; with grantable=true, whether you may give each one',
      request: {
        params: OrgParams,
        query: z.object({
          grantable: z
            .enum(['true', 'false'])
            .optional()
            .openapi({ description: 'Say of each role whether you may give it (at resourceId, or the org)' }),
          resourceId: Uuid.optional(),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(Role) })), ...errorResponses },
    }),
    async (c) => {
      const { grantable, resourceId } = c.req.valid('query')
      const items = await roles.listRoles(ctx, c.get('actor'), c.req.valid('param').orgId, {
        grantable: grantable === 'true',
        resourceId,
      })
      return c.json({ items }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/roles',
      tags,
      operationId: 'createRole',
      summary: 'Create a role',
      description: 'Create a custom role',
      request: { params: OrgParams, ...body(RoleInput.strict()) },
      responses: { 201: json(withRevision(Role.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await roles.createRole(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/roles/{key}',
      tags,
      operationId: 'updateRole',
      summary: 'Edit a role',
      description: 'Edit a custom role: label, description, permissions, slot or priority',
      request: { params: KeyParams, ...body(RoleInput.omit({ key: true, scope: true }).partial().strict()) },
      responses: { 200: json(withRevision(Role.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, key } = c.req.valid('param')
      return c.json(
        written(await roles.updateRole(ctx, c.get('actor'), c.get('meta'), orgId, key, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/roles/{key}',
      tags,
      operationId: 'deleteRole',
      summary: 'Delete a role',
      description: 'Delete a custom role; in use, say what happens to its bindings',
      request: {
        params: KeyParams,
        query: z.object({ bindings: z.enum(['delete', 'reassign']).optional(), to: RoleKey.optional() }),
      },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, key } = c.req.valid('param')
      const query = c.req.valid('query')
      const { revision } = await roles.deleteRole(ctx, c.get('actor'), c.get('meta'), orgId, key, query)
      return c.json({ revision }, 200)
    },
  )
}
