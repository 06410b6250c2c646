import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json } from '../schemas.ts'
import * as mfa from '../services/mfa.ts'

const tags = ['Accounts']

/** Your second factor (SPEC 6): TOTP enrolment, confirmation with recovery codes, turning it off. */
export const mfaRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/mfa/totp',
      tags,
      operationId: 'startTotpEnrolment',
      summary: 'Start TOTP enrolment',
      description: 'Start TOTP enrolment: secret, otpauth URL and QR code',
      responses: {
        200: json(z.object({ secret: z.string(), otpauthUrl: z.string(), qrSvg: z.string() })),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await mfa.enrolTotp(ctx, c.get('actor'), c.get('meta')), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/mfa/totp/confirm',
      tags,
      operationId: 'confirmTotp',
      summary: 'Turn TOTP on',
      description: 'Turn TOTP on with a first code; answers recovery codes once',
      request: body(z.object({ code: z.string().max(10) }).strict()),
      responses: {
        200: json(z.object({ recoveryCodes: z.array(z.string()), revision: z.number() })),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(await mfa.confirmTotp(ctx, c.get('actor'), c.get('meta'), c.req.valid('json').code), 200),
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/me/mfa/totp',
      tags,
      operationId: 'disableTotp',
      summary: 'Turn TOTP off',
      description: 'Turn TOTP off (password and a code again)',
      request: body(
        z
          .object({
            password: z.string().min(1).max(4096),
            totp: z.string().max(10).optional(),
            recoveryCode: z.string().max(20).optional(),
          })
          .strict(),
      ),
      responses: { 200: json(z.object({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => c.json(await mfa.disableTotp(ctx, c.get('actor'), c.get('meta'), c.req.valid('json')), 200),
  )
}
