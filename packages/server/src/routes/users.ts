import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { errorResponses, json, Name, User, withRevision, written } from '../schemas.ts'
import { EXTERNAL_ID } from '../security/host-tokens.ts'
import * as externalUsers from '../services/external-users.ts'
import * as users from '../services/users.ts'

const tags = ['Users']
const Email = z.email().max(320)
/** The host product's id for a user: its tokens' `sub`. */
const ExternalId = z
  .string()
  .regex(EXTERNAL_ID, '1-255 characters, no control characters')
  .openapi({ description: "The host product's id for the user (its tokens' `sub`)" })
const UserWritten = withRevision(User.shape)

export const userRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/users',
      tags,
      operationId: 'createUser',
      summary: 'Provision a user',
      description:
        'Provision a user, optionally with the host product’s id for them (platform tokens); a taken email answers 409 EMAIL_TAKEN with the existing user’s id in details.userId',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({ email: Email, name: Name, externalId: ExternalId.optional() }).strict(),
            },
          },
          required: true,
        },
      },
      responses: { 201: json(UserWritten, 'Created'), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(await users.createUser(ctx, c.get('actor'), c.get('meta'), c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/users',
      tags,
      operationId: 'findUsers',
      summary: 'Find users by external id or email',
      description:
        'The user with this externalId and/or this email (case-insensitive), as a list of zero or one (platform tokens)',
      request: {
        query: z.object({ externalId: ExternalId.optional(), email: z.string().max(320).optional() }),
      },
      responses: { 200: json(z.object({ items: z.array(User) })), ...errorResponses },
    }),
    async (c) => c.json(await externalUsers.findUsers(ctx, c.get('actor'), c.req.valid('query')), 200),
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/users/external/{externalId}',
      tags,
      operationId: 'upsertExternalUser',
      summary: 'Create or update a user by external id',
      description:
        'The user the host product knows by this id, with this email and name: 201 when created, 200 when it existed (the same id); a user with this email and no externalId is linked (platform tokens)',
      request: {
        params: z.object({ externalId: ExternalId }),
        body: {
          content: { 'application/json': { schema: z.object({ email: Email, name: Name }).strict() } },
          required: true,
        },
      },
      responses: {
        200: json(UserWritten, 'The user existed: brought up to date'),
        201: json(UserWritten, 'Created'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { result, revision } = await externalUsers.upsertExternalUser(
        ctx,
        c.get('actor'),
        c.get('meta'),
        c.req.valid('param').externalId,
        c.req.valid('json'),
      )
      const { created, ...user } = result
      return created ? c.json({ ...user, revision }, 201) : c.json({ ...user, revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me',
      tags,
      operationId: 'getMe',
      summary: 'Who you are',
      description:
        'The signed-in user (with the host product’s externalId, if any), or a platform token itself',
      responses: {
        200: json(z.union([User, z.object({ platform: z.literal(true), tokenId: z.string() })])),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await users.me(ctx, c.get('actor')), 200),
  )
}
