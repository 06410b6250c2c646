import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { errorResponses, json } from '../schemas.ts'

/** The proof-of-work challenge people solve before sign-up and invitations (SPEC 3). */
export const captchaRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/captcha',
      tags: ['Accounts'],
      operationId: 'getCaptcha',
      summary: 'Get a captcha challenge',
      description: 'A proof-of-work captcha challenge (ALTCHA)',
      responses: { 200: json(z.record(z.string(), z.unknown())), ...errorResponses },
    }),
    async (c) => c.json((await ctx.captcha.challenge()) as Record<string, unknown>, 200),
  )
}
