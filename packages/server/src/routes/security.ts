import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, OrgParams, Uuid, written } from '../schemas.ts'
import * as security from '../services/security.ts'

const tags = ['Security']
const Policy = z
  .object({
    requireMfa: z.boolean(),
    passwordPolicy: z
      .object({
        minLength: z.number().int().min(8).max(128),
        requireUpper: z.boolean(),
        requireDigit: z.boolean(),
        requireSpecial: z.boolean(),
        rejectCommon: z.boolean(),
      })
      .strict()
      .nullable(),
    apiKeyPolicy: z
      .object({ requireExpiry: z.boolean(), maxDays: z.number().int().min(1).max(3650).nullable() })
      .strict()
      .nullable(),
  })
  .strict()
  .openapi('SecurityPolicy')
const Compliance = z.object({
  items: z.array(
    z.object({
      userId: Uuid,
      email: z.string(),
      name: z.string(),
      mfaEnabled: z.boolean(),
      mfaOk: z.boolean(),
      passwordOk: z.boolean(),
      compliant: z.boolean(),
    }),
  ),
  nonCompliant: z.number(),
})

const Unmet = z.enum(['mfa', 'password'])
const PasswordState = z.enum(['ok', 'fails', 'unknown', 'none']).openapi({
  description: 'unknown: set before its traits were kept (known at the next sign-in); none: no password',
})
const Preview = z
  .object({
    items: z.array(
      z.object({
        userId: Uuid,
        email: z.string(),
        name: z.string(),
        unmet: z.array(Unmet),
        password: PasswordState,
      }),
    ),
    nonCompliant: z.number(),
    total: z.number(),
    you: z
      .object({ unmet: z.array(Unmet), password: PasswordState, rules: z.array(z.string()) })
      .nullable()
      .openapi({
        description: 'Whether the caller meets it (null for a platform token): PUT refuses otherwise',
      }),
  })
  .openapi('SecurityPreview')

/** An org's security policy (2FA, passwords, API keys) and which members meet it. */
export const securityRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/security',
      tags,
      operationId: 'getSecurityPolicy',
      summary: 'Get the security policy',
      description: "The org's security policy",
      request: { params: OrgParams },
      responses: { 200: json(Policy), ...errorResponses },
    }),
    async (c) => c.json(await security.getSecurity(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/orgs/{orgId}/security',
      tags,
      operationId: 'setSecurityPolicy',
      summary: 'Set the security policy',
      description: 'Set 2FA, password and API key policies (super admins)',
      request: { params: OrgParams, ...body(Policy) },
      responses: { 200: json(Policy.extend({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await security.putSecurity(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/security/compliance',
      tags,
      operationId: 'listSecurityCompliance',
      summary: 'List policy compliance',
      description: 'Members and whether each meets the policy',
      request: { params: OrgParams },
      responses: { 200: json(Compliance), ...errorResponses },
    }),
    async (c) => c.json(await security.compliance(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/security/preview',
      tags,
      operationId: 'previewSecurityPolicy',
      summary: 'Preview a security policy',
      description: 'Who a proposed policy would gate (and whether you meet it), before saving it',
      request: { params: OrgParams, ...body(Policy) },
      responses: { 200: json(Preview), ...errorResponses },
    }),
    async (c) =>
      c.json(
        await security.previewSecurity(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('json')),
        200,
      ),
  )
}
