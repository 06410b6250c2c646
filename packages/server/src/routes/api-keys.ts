import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, Name, OrgParams, Revised, Uuid } from '../schemas.ts'
import * as apiKeys from '../services/api-keys.ts'
import * as orgApiKeys from '../services/org-api-keys.ts'

const tags = ['Accounts']
const ApiKey = z
  .object({
    id: Uuid,
    name: z.string(),
    prefix: z.string(),
    orgIds: z.array(z.string()).nullable(),
    resourceIds: z.array(z.string()).nullable(),
    permissions: z.array(z.string()).nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ApiKey')
const ApiKeyInput = z
  .object({
    name: Name,
    // A limit left out is no limit; a limit given is never empty (issue 22.6: `"role": ""` made a key
    // with no limit). Leave the field out for "no limit".
    orgIds: z.array(Uuid).min(1).max(100).optional(),
    resourceIds: z.array(Uuid).min(1).max(1000).optional(),
    role: z.string().min(1).max(64).optional(),
    permissions: z.array(z.string().min(1).max(128)).min(1).max(500).optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict()

const OrgApiKey = z
  .object({
    id: Uuid,
    owner: z.object({ userId: Uuid, email: z.string(), name: z.string() }),
    name: z.string(),
    prefix: z.string(),
    orgIds: z.array(z.string()).nullable(),
    resourceIds: z.array(z.string()).nullable(),
    permissions: z.array(z.string()).nullable(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('OrgApiKey')

/**
 * Your own API keys: a secret shown once, narrowed to orgs, resources, a role or permissions; and an org's
 * API Keys tab: its members' keys that reach it, which `org.manage_apikeys` may revoke.
 */
export const apiKeyRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/api-keys',
      tags,
      operationId: 'listApiKeys',
      summary: 'List your API keys',
      description: 'Your API keys (never their secrets)',
      responses: { 200: json(z.object({ items: z.array(ApiKey) })), ...errorResponses },
    }),
    async (c) => c.json({ items: await apiKeys.listApiKeys(ctx, c.get('actor')) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/api-keys',
      tags,
      operationId: 'createApiKey',
      summary: 'Create an API key',
      description: 'Create an API key; its secret is answered this once',
      request: body(ApiKeyInput),
      responses: {
        201: json(ApiKey.extend({ secret: z.string(), revision: z.number() }), 'Created'),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(await apiKeys.createApiKey(ctx, c.get('actor'), c.get('meta'), c.req.valid('json')), 201),
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/me/api-keys/{id}',
      tags,
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      description: 'Revoke one of your API keys',
      request: { params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { revision } = await apiKeys.revokeApiKey(ctx, c.get('actor'), c.get('meta'), id)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/api-keys',
      tags: ['Security'],
      operationId: 'listOrgApiKeys',
      summary: "List the org's API keys",
      description: "Members' live API keys that reach the org, with owner and limits (never secrets)",
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(OrgApiKey) })), ...errorResponses },
    }),
    async (c) =>
      c.json(
        { items: await orgApiKeys.listOrgApiKeys(ctx, c.get('actor'), c.req.valid('param').orgId) },
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/api-keys/{keyId}',
      tags: ['Security'],
      operationId: 'revokeOrgApiKey',
      summary: "Revoke a member's API key",
      description: 'Revoke a member API key that reaches the org (org.manage_apikeys)',
      request: {
        params: OrgParams.extend({ keyId: Uuid.openapi({ param: { name: 'keyId', in: 'path' } }) }),
      },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, keyId } = c.req.valid('param')
      const { revision } = await orgApiKeys.revokeOrgApiKey(ctx, c.get('actor'), c.get('meta'), orgId, keyId)
      return c.json({ revision }, 200)
    },
  )
}
