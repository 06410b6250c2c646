import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { errorResponses, json, Uuid } from '../schemas.ts'
import { readsLocalOutbox } from '../security/local-outbox.ts'
import type { Actor } from '../services/context.ts'
import { listOutbox } from '../services/outbox.ts'

/** The local mail outbox: what was not sent over SMTP, readable by platform tokens and the local console. */
export const outboxRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/outbox',
      tags: ['Mail'],
      operationId: 'listOutbox',
      summary: 'Read the local outbox',
      description:
        'The local outbox: mail not sent over SMTP (platform tokens; the local console, see docs/console.md)',
      responses: {
        200: json(
          z.object({
            smtp: z.boolean(),
            items: z.array(
              z.object({
                id: Uuid,
                to: z.string(),
                subject: z.string(),
                text: z.string(),
                createdAt: z.string(),
                sentAt: z.string().nullable(),
              }),
            ),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const actor = c.get('actor') as Actor | undefined
      return c.json(await listOutbox(ctx, actor, readsLocalOutbox(ctx, c)), 200)
    },
  )
}
