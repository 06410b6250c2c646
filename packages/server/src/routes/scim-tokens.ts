import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, IdParams, json, Name, OrgParams, Revised, Uuid, written } from '../schemas.ts'
import * as scimTokens from '../services/scim-tokens.ts'

const tags = ['Directory sync']
const ScimToken = z
  .object({
    id: Uuid,
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first 12 characters of the token, to recognise it' }),
    createdBy: Uuid.nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: 'Its last use, to the minute' }),
    revokedAt: z.string().nullable(),
  })
  .openapi('ScimToken')

/** An org's SCIM directory tokens (issue 21.3; the SCIM endpoints themselves are under /scim/v2, scim/). */
export const scimTokenRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/scim-tokens',
      tags,
      operationId: 'createScimToken',
      summary: 'Create a directory token',
      description:
        'A bearer token for a SCIM 2.0 directory (Okta, Entra ID…) provisioning this org at `scimBaseUrl`. ' +
        'The token is shown once; only its hash is kept. Needs org.manage_security (Super Admins); not with an API key.',
      request: { params: OrgParams, ...body(z.object({ name: Name }).strict()) },
      responses: {
        201: json(
          ScimToken.extend({
            token: z.string().openapi({ description: 'The secret, shown this once' }),
            scimBaseUrl: z.string(),
            revision: z.number(),
          }),
          'Created',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const outcome = await scimTokens.createScimToken(
        ctx,
        c.get('actor'),
        c.get('meta'),
        orgId,
        c.req.valid('json'),
      )
      return c.json(written(outcome), 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/scim-tokens',
      tags,
      operationId: 'listScimTokens',
      summary: 'List directory tokens',
      description: "The org's directory tokens, revoked ones too, newest first; never a secret",
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(ScimToken) })), ...errorResponses },
    }),
    async (c) => {
      const items = await scimTokens.listScimTokens(ctx, c.get('actor'), c.req.valid('param').orgId)
      return c.json({ items }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/scim-tokens/{id}',
      tags,
      operationId: 'revokeScimToken',
      summary: 'Revoke a directory token',
      description: 'Revokes the token for good: its next SCIM request, on any instance, answers 401',
      request: { params: IdParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await scimTokens.revokeScimToken(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )
}
