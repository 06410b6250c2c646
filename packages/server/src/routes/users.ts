import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { errorResponses, json, Name, User, withRevision, written } from '../schemas.ts'
import * as users from '../services/users.ts'

export const userRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/users',
      tags: ['Users'],
      operationId: 'createUser',
      summary: 'Provision a user',
      description: 'Provision a user (platform tokens)',
      request: {
        body: {
          content: {
            'application/json': { schema: z.object({ email: z.email().max(320), name: Name }).strict() },
          },
          required: true,
        },
      },
      responses: { 201: json(withRevision(User.shape), 'Created'), ...errorResponses },
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
      path: '/v1/me',
      tags: ['Users'],
      operationId: 'getMe',
      summary: 'Who you are',
      description: 'The signed-in user, or a platform token itself',
      responses: {
        200: json(z.union([User, z.object({ platform: z.literal(true), tokenId: z.string() })])),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await users.me(ctx, c.get('actor')), 200),
  )
}
