import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { startSession } from '../middleware/auth.ts'
import { errorResponses, json, Uuid } from '../schemas.ts'
import * as hostSession from '../services/host-session.ts'

export const hostSessionRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/host-session',
      tags: ['Accounts'],
      operationId: 'startHostSession',
      summary: 'Exchange a host token for a session',
      description:
        'With Authorization: Bearer <host JWT>: sets the session and CSRF cookies for the person it names (the embedded console’s sign-in hand-off, docs/console.md)',
      responses: {
        200: json(z.object({ status: z.literal('signed_in'), userId: Uuid, csrfToken: z.string() })),
        ...errorResponses,
      },
    }),
    async (c) => {
      const session = await hostSession.startHostSession(ctx, c.get('actor'), c.get('meta'))
      startSession(c, session, ctx.settings.secureCookies)
      return c.json({ status: 'signed_in' as const, userId: session.userId, csrfToken: session.csrf }, 200)
    },
  )
}
