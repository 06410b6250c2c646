import { createRoute, z } from '@hono/zod-openapi'
import { OrgkitError } from '@orgkit/core'
import type { RouteModule } from '../env.ts'
import { endSession, startSession } from '../middleware/auth.ts'
import { body, errorResponses, json, Name, rateLimited, Uuid } from '../schemas.ts'
import * as accounts from '../services/accounts.ts'
import * as invitations from '../services/invitations.ts'

const tags = ['Accounts']
const Email = z.email().max(320)
const Password = z.string().min(1).max(4096)
const Ok = z.object({ ok: z.literal(true) })
const SignedIn = z.object({ status: z.literal('signed_in'), userId: Uuid, csrfToken: z.string() })

/** Accounts and sessions (SPEC 3): sign-up, email verification, password reset, sign-in and out. */
export const accountRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/signup',
      tags,
      operationId: 'signUp',
      summary: 'Sign up',
      description: 'Create an account (with an invitation token: verified and joined at once)',
      request: body(
        z
          .object({
            email: Email,
            password: Password,
            name: Name,
            invitation: z.string().max(200).optional(),
          })
          .strict(),
      ),
      responses: {
        200: json(z.object({ status: z.literal('verification_sent') })),
        201: json(SignedIn, 'Signed in'),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const outcome = await accounts.signup(ctx, c.get('meta'), input)
      if (outcome.status === 'verification_sent') return c.json(outcome, 200)
      startSession(c, outcome.session, ctx.settings.secureCookies)
      if (input.invitation) {
        await invitations.accept(
          ctx,
          { kind: 'user', userId: outcome.session.userId, via: 'session' },
          c.get('meta'),
          input.invitation,
        )
      }
      return c.json(
        { status: 'signed_in' as const, userId: outcome.session.userId, csrfToken: outcome.session.csrf },
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/verify',
      tags,
      operationId: 'verifyEmail',
      summary: 'Verify an email',
      description: 'Verify an email with the link’s token, and sign in',
      request: body(z.object({ token: z.string().min(1).max(200) }).strict()),
      responses: { 200: json(SignedIn), ...errorResponses, ...rateLimited },
    }),
    async (c) => {
      const session = await accounts.verifyEmail(ctx, c.get('meta'), c.req.valid('json').token)
      startSession(c, session, ctx.settings.secureCookies)
      return c.json({ status: 'signed_in' as const, userId: session.userId, csrfToken: session.csrf }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/password-reset',
      tags,
      operationId: 'requestPasswordReset',
      summary: 'Request a password reset',
      description:
        'Forgot password: mail a reset link (the same answer whether or not the email has an account)',
      request: body(z.object({ email: Email }).strict()),
      responses: {
        202: json(z.object({ status: z.literal('sent') }), 'Accepted'),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) => {
      await accounts.requestPasswordReset(ctx, c.get('meta'), c.req.valid('json').email)
      return c.json({ status: 'sent' as const }, 202)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/password-reset/confirm',
      tags,
      operationId: 'confirmPasswordReset',
      summary: 'Reset a password',
      description: 'Set a new password with a reset link’s token; every session ends',
      request: body(z.object({ token: z.string().min(1).max(200), password: Password }).strict()),
      responses: { 200: json(Ok), ...errorResponses, ...rateLimited },
    }),
    async (c) => {
      await accounts.resetPassword(ctx, c.get('meta'), c.req.valid('json'))
      return c.json({ ok: true as const }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/login',
      tags,
      operationId: 'signIn',
      summary: 'Sign in',
      description:
        'Sign in; with 2FA on, answers 401 MFA_CODE_REQUIRED until a valid code comes. After several failed ' +
        'sign-ins to an account, 401 CAPTCHA_REQUIRED until the body carries a solved captcha (GET /v1/captcha)',
      request: body(
        z
          .object({
            email: Email,
            password: Password,
            totp: z.string().max(10).optional(),
            recoveryCode: z.string().max(20).optional(),
            /** A solved proof-of-work captcha (GET /v1/captcha), once the answer was CAPTCHA_REQUIRED. */
            captcha: z.string().max(4000).optional(),
          })
          .strict(),
      ),
      responses: { 200: json(SignedIn), ...errorResponses, ...rateLimited },
    }),
    async (c) => {
      const session = await accounts.login(ctx, c.get('meta'), c.req.valid('json'))
      startSession(c, session, ctx.settings.secureCookies)
      return c.json({ status: 'signed_in' as const, userId: session.userId, csrfToken: session.csrf }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/logout',
      tags,
      operationId: 'signOut',
      summary: 'Sign out',
      description: 'End this session',
      responses: { 200: json(Ok), ...errorResponses },
    }),
    async (c) => {
      const token = c.get('sessionToken')
      if (token) await accounts.logout(ctx, token)
      endSession(c)
      return c.json({ ok: true as const }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/logout-all',
      tags,
      operationId: 'signOutEverywhere',
      summary: 'Sign out everywhere',
      description: 'End every session, on every device',
      responses: { 200: json(Ok), ...errorResponses },
    }),
    async (c) => {
      const actor = c.get('actor')
      if (actor.kind !== 'user') throw new OrgkitError('FORBIDDEN', 'only a user signs out')
      await accounts.logoutEverywhere(ctx, actor, c.get('meta'), actor.userId)
      endSession(c)
      return c.json({ ok: true as const }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/password',
      tags,
      operationId: 'changePassword',
      summary: 'Change your password',
      description: 'Change your password (other sessions end)',
      request: body(z.object({ current: Password, next: Password }).strict()),
      responses: { 200: json(Ok), ...errorResponses },
    }),
    async (c) => {
      const session = c.get('sessionToken') ?? null
      await accounts.changePassword(ctx, c.get('actor'), c.get('meta'), c.req.valid('json'), session)
      return c.json({ ok: true as const }, 200)
    },
  )
}
