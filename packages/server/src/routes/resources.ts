import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  json,
  Name,
  OrgParams,
  Override,
  Principal,
  Resource,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as overrides from '../services/overrides.ts'
import * as resources from '../services/resources.ts'

const tags = ['Resources']
const ResourceParams = OrgParams.extend({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })

const AccessEntry = z.object({
  bindingId: Uuid,
  principal: z.object({
    type: z.enum(['user', 'group']),
    id: Uuid,
    email: z.string().optional(),
    name: z.string(),
  }),
  role: z.string(),
  scope: z.object({ type: z.string(), id: z.string() }),
  inherited: z.boolean(),
  grantedAt: z.string(),
  expiresAt: z.string().nullable(),
})

export const resourceRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources',
      tags,
      summary: 'Resources you may read, a page at a time',
      request: {
        params: OrgParams,
        query: z.object({
          type: z.string().optional(),
          parentId: Uuid.optional(),
          cursor: Uuid.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(Resource), nextCursor: z.string().nullable() })),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await resources.listResources(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/resources',
      tags,
      summary: 'Create a resource (an app, a channel under an app …)',
      request: {
        params: OrgParams,
        ...body(
          z.object({ type: z.string().min(1), name: Name, parentId: Uuid.nullable().optional() }).strict(),
        ),
      },
      responses: { 201: json(withRevision(Resource.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(
          await resources.createResource(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources/{id}',
      tags,
      summary: 'A resource',
      request: { params: ResourceParams },
      responses: { 200: json(Resource), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await resources.getResource(ctx, c.get('actor'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/resources/{id}',
      tags,
      summary: 'Rename a resource',
      request: { params: ResourceParams, ...body(z.object({ name: Name }).strict()) },
      responses: { 200: json(withRevision(Resource.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(
          await resources.renameResource(
            ctx,
            c.get('actor'),
            c.get('meta'),
            orgId,
            id,
            c.req.valid('json').name,
          ),
        ),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/resources/{id}',
      tags,
      summary: 'Delete a resource and everything below it',
      request: { params: ResourceParams },
      responses: { 200: json(z.object({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await resources.deleteResource(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources/{id}/access',
      tags,
      summary: 'The Access tab: roles on this resource and above it, overrides on it and below it',
      request: { params: ResourceParams },
      responses: {
        200: json(
          z.object({ resource: Resource, entries: z.array(AccessEntry), overrides: z.array(Override) }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await resources.accessOf(ctx, c.get('actor'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources/{id}/overrides',
      tags,
      summary: 'Overrides on this resource and the resources directly below it',
      request: { params: ResourceParams },
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
      summary: 'Set one override: allow, deny or default',
      request: {
        params: ResourceParams,
        ...body(
          z
            .object({
              principal: Principal,
              permission: z.string().min(1),
              effect: z.enum(['allow', 'deny', 'default']),
            })
            .strict(),
        ),
      },
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
