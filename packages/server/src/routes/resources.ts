import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  IdParams,
  json,
  Name,
  OrgParams,
  Override,
  Resource,
  Revised,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import { reachOf } from '../services/reach.ts'
import * as resources from '../services/resources.ts'

const tags = ['Resources']
const AccessEntry = z.object({
  bindingId: Uuid,
  principal: z.object({
    type: z.enum(['user', 'group']),
    id: Uuid,
    email: z.string().optional(),
    name: z.string(),
    external: z.boolean().optional().openapi({
      description:
        "A user who isn't a member of the organization: access through resource roles only (seed 002's blue)",
    }),
  }),
  role: z.string(),
  scope: z.object({ type: z.string(), id: z.string() }),
  inherited: z.boolean(),
  grantedAt: z.string(),
  expiresAt: z.string().nullable(),
})

const Named = z.object({ type: z.string(), id: z.string(), name: z.string() })
const Reach = z
  .object({
    user: z.object({ id: Uuid, email: z.string(), name: z.string(), external: z.boolean() }),
    paths: z.array(
      z.object({
        kind: z.enum(['role', 'override']),
        through: Named.extend({ type: z.enum(['user', 'group']) }).openapi({
          description: 'Who holds it: the person, or the group they reach it through',
        }),
        role: z.string().nullable().openapi({ description: 'The role as it resolved; null for an override' }),
        scope: Named.openapi({
          description: 'Where it is held: the resource, one above it, or an org of its chain',
        }),
        inherited: z.boolean().openapi({ description: 'Held above the resource, not on it' }),
        bindingId: Uuid.nullable(),
      }),
    ),
  })
  .openapi('Reach')

/** An organization's resources (apps, channels …) and who has access to each. */
export const resourceRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources',
      tags,
      operationId: 'listResources',
      summary: 'List resources',
      description: 'Resources you may read, a page at a time',
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
      operationId: 'createResource',
      summary: 'Create a resource',
      description: 'Create a resource (an app, a channel under an app …)',
      request: {
        params: OrgParams,
        ...body(
          z.object({ type: z.string().min(1), name: Name, parentId: Uuid.nullable().optional() }).strict(),
        ),
      },
      responses: { 201: json(withRevision(Resource.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(
          await resources.createResource(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json')),
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
      operationId: 'getResource',
      summary: 'Get a resource',
      description: 'A resource: its type, parent and name',
      request: { params: IdParams },
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
      operationId: 'renameResource',
      summary: 'Rename a resource',
      description: 'Rename a resource (its type and parent stay)',
      request: { params: IdParams, ...body(z.object({ name: Name }).strict()) },
      responses: { 200: json(withRevision(Resource.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { name } = c.req.valid('json')
      return c.json(
        written(await resources.renameResource(ctx, c.get('actor'), c.get('meta'), orgId, id, name)),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/resources/{id}',
      tags,
      operationId: 'deleteResource',
      summary: 'Delete a resource',
      description: 'Delete a resource and everything below it',
      request: { params: IdParams },
      responses: { 200: json(Revised), ...errorResponses },
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
      operationId: 'getResourceAccess',
      summary: 'Who has access to a resource',
      description: 'The Access tab: roles on this resource and above it, overrides on it and below it',
      request: { params: IdParams },
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
      path: '/v1/orgs/{orgId}/resources/{id}/reach',
      tags,
      operationId: 'getResourceReach',
      summary: 'Who reaches a resource, and how',
      description:
        "Everyone who may read the resource and every way each does — a role of their own or of a group, on it, above it or on an org of its chain (a parent org's: inherited), or an allow override — from the engine",
      request: { params: IdParams },
      responses: {
        200: json(
          z.object({
            resource: Named,
            permission: z
              .string()
              .openapi({ description: "The type's read permission, what reaching means" }),
            people: z.array(Reach),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await reachOf(ctx, c.get('actor'), orgId, id), 200)
    },
  )
}
