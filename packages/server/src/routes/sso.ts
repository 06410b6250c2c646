import { createRoute, z } from '@hono/zod-openapi'
import { isOrgkitError } from '@orgkit/core'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { RouteModule } from '../env.ts'
import { startSession } from '../middleware/auth.ts'
import { body, errorResponses, json, Name, OrgParams, rateLimited, Uuid, written } from '../schemas.ts'
import * as sso from '../services/sso.ts'
import * as connections from '../services/sso-connections.ts'
import { SsoMappingsSchema } from '../services/sso-mapping.ts'

const tags = ['SSO']
const Kind = z.enum(['oidc', 'saml'])
const ConnectionParams = OrgParams.extend({
  connectionId: Uuid.openapi({ param: { name: 'connectionId', in: 'path' } }),
})
const Mappings = SsoMappingsSchema.openapi('SsoMappings', {
  description:
    'IdP group → Orgkit group (optionally a team level) or → org role, applied at every sign-in (docs/sso.md)',
})
const Config = z.record(z.string(), z.unknown()).openapi({
  description:
    'The protocol\'s settings. OIDC: issuer, clientId, clientSecret, scopes, groupsClaim. Secrets are never answered ("clientSecretSet": true)',
})
const Connection = z
  .object({
    id: Uuid,
    orgId: Uuid,
    kind: Kind,
    name: z.string(),
    enabled: z.boolean(),
    testedAt: z.string().nullable(),
    testProblem: z.string().nullable(),
    defaultRole: z.string().nullable(),
    mappings: Mappings,
    config: Config,
    callbackUrl: z
      .string()
      .openapi({ description: 'The redirect URI (OIDC) or ACS URL (SAML) the IdP is given' }),
    metadataUrl: z
      .string()
      .nullable()
      .openapi({ description: "SAML: the SP metadata's URL (also its entity ID)" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SsoConnection')
const NewConnection = z
  .object({
    kind: Kind,
    name: Name,
    config: Config,
    defaultRole: z.string().min(1).max(100).nullish(),
    mappings: Mappings.optional(),
  })
  .strict()
const ConnectionPatch = z
  .object({
    name: Name.optional(),
    config: Config.optional().openapi({ description: 'Fields to change; a secret left out keeps its value' }),
    enabled: z.boolean().optional(),
    defaultRole: z.string().min(1).max(100).nullable().optional(),
    mappings: Mappings.optional(),
  })
  .strict()
const Policy = z
  .object({
    ssoRequired: z.boolean(),
    breakGlassUserId: Uuid.nullable().openapi({ description: 'An owner who keeps password sign-in' }),
  })
  .strict()
  .openapi('SsoPolicy')

const BROWSER_COOKIE_PATH = '/v1/auth/sso'

/** Per-org SSO connections, "SSO required", and signing in through an org's identity provider (issue 21.1). */
export const ssoRoutes: RouteModule = (app, ctx) => {
  const base = '/v1/orgs/{orgId}/sso-connections'
  app.openapi(
    createRoute({
      method: 'get',
      path: base,
      tags,
      operationId: 'listSsoConnections',
      summary: 'List SSO connections',
      description: "The org's OIDC and SAML connections, secrets left out (org.manage_security)",
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Connection) })), ...errorResponses },
    }),
    async (c) =>
      c.json(await connections.listConnections(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: base,
      tags,
      operationId: 'createSsoConnection',
      summary: 'Create an SSO connection',
      description: 'A new OIDC or SAML connection, disabled until switched on (org.manage_security)',
      request: { params: OrgParams, ...body(NewConnection) },
      responses: { 201: json(Connection.extend({ revision: z.number() }), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const outcome = await connections.createConnection(
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
      path: `${base}/{connectionId}`,
      tags,
      operationId: 'getSsoConnection',
      summary: 'Get an SSO connection',
      description: 'One connection, with the URLs its IdP is given (org.manage_security)',
      request: { params: ConnectionParams },
      responses: { 200: json(Connection), ...errorResponses },
    }),
    async (c) => {
      const { orgId, connectionId } = c.req.valid('param')
      return c.json(await connections.getConnection(ctx, c.get('actor'), orgId, connectionId), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: `${base}/{connectionId}`,
      tags,
      operationId: 'updateSsoConnection',
      summary: 'Update an SSO connection',
      description: 'Rename, reconfigure (clears the last test), enable or disable, or change the mapping',
      request: { params: ConnectionParams, ...body(ConnectionPatch) },
      responses: { 200: json(Connection.extend({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, connectionId } = c.req.valid('param')
      const outcome = await connections.updateConnection(
        ctx,
        c.get('actor'),
        c.get('meta'),
        orgId,
        connectionId,
        c.req.valid('json'),
      )
      return c.json(written(outcome), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{connectionId}`,
      tags,
      operationId: 'deleteSsoConnection',
      summary: 'Delete an SSO connection',
      description: 'Its people keep their accounts and memberships; they sign in another way',
      request: { params: ConnectionParams },
      responses: { 204: { description: 'Deleted' }, ...errorResponses },
    }),
    async (c) => {
      const { orgId, connectionId } = c.req.valid('param')
      await connections.deleteConnection(ctx, c.get('actor'), c.get('meta'), orgId, connectionId)
      return c.body(null, 204)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: `${base}/{connectionId}/test`,
      tags,
      operationId: 'testSsoConnection',
      summary: 'Test an SSO connection',
      description:
        'Contacts the provider (OIDC: discovery, the issuer it names, the client accepted) and records the outcome',
      request: { params: ConnectionParams },
      responses: {
        200: json(z.object({ ok: z.boolean(), problem: z.string().nullable(), connection: Connection })),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, connectionId } = c.req.valid('param')
      return c.json(
        await connections.testConnection(ctx, c.get('actor'), c.get('meta'), orgId, connectionId),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/sso-policy',
      tags,
      operationId: 'getSsoPolicy',
      summary: 'Get the SSO policy',
      description: "Whether SSO is required for the org's verified domains, and the break-glass owner",
      request: { params: OrgParams },
      responses: { 200: json(Policy), ...errorResponses },
    }),
    async (c) => c.json(await connections.getSsoPolicy(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/orgs/{orgId}/sso-policy',
      tags,
      operationId: 'setSsoPolicy',
      summary: 'Set the SSO policy',
      description:
        "SSO required: password sign-in and reset of the verified domains' people answer SSO_REQUIRED, but for the break-glass owner. Needs a verified domain and an enabled, tested connection (SSO_NOT_READY)",
      request: { params: OrgParams, ...body(Policy) },
      responses: { 200: json(Policy), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        await connections.putSsoPolicy(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json')),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/sso/start',
      tags,
      operationId: 'startSsoSignIn',
      summary: 'Start an SSO sign-in',
      description:
        'Where to send the browser: the IdP of the org whose verified domain the email is in (or of the connection given). Sets a short-lived cookie binding the sign-in to this browser',
      request: body(
        z
          .object({
            email: z.email().max(320).optional(),
            connectionId: Uuid.optional(),
            returnTo: z
              .string()
              .max(2000)
              .optional()
              .openapi({ description: 'A path of the console to land on' }),
          })
          .strict()
          .refine((v) => (v.email === undefined) !== (v.connectionId === undefined), {
            message: 'give an email or a connectionId',
          }),
      ),
      responses: {
        200: json(z.object({ redirectUrl: z.string(), connectionId: Uuid })),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) => {
      const started = await sso.startSsoSignIn(ctx, c.get('meta'), c.req.valid('json'))
      setCookie(c, sso.SSO_BROWSER_COOKIE, started.browser, {
        path: BROWSER_COOKIE_PATH,
        httpOnly: true,
        sameSite: 'Lax',
        secure: ctx.settings.secureCookies,
        maxAge: 600,
      })
      return c.json({ redirectUrl: started.redirectUrl, connectionId: started.connectionId }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/auth/sso/callback',
      tags,
      operationId: 'finishOidcSignIn',
      summary: 'OIDC sign-in callback',
      description:
        'Where the OpenID Provider sends the browser back: state, PKCE and nonce checked, then a session as a password sign-in gives and a redirect to the console; a refusal redirects to /login?ssoError=<code>&reason=<reason>',
      request: {
        query: z.object({
          state: z.string().max(500).optional(),
          code: z.string().max(4000).optional(),
          iss: z.string().max(2000).optional(),
          error: z.string().max(200).optional(),
          error_description: z.string().max(2000).optional(),
        }),
      },
      responses: {
        200: json(
          z.object({
            status: z.literal('signed_in'),
            userId: Uuid,
            csrfToken: z.string(),
            returnTo: z.string(),
          }),
          'Signed in (asked with Accept: application/json; a browser is redirected instead)',
        ),
        302: {
          description: 'To the console: signed in, or the sign-in page with ssoError',
          headers: { Location: { schema: { type: 'string' } } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const browser = getCookie(c, sso.SSO_BROWSER_COOKIE) ?? null
      const wantsJson = c.req.header('accept')?.includes('application/json') ?? false
      deleteCookie(c, sso.SSO_BROWSER_COOKIE, { path: BROWSER_COOKIE_PATH })
      const params = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >
      const currentUrl = new URL(sso.ssoUrls(ctx, { id: '', kind: 'oidc' }).callbackUrl)
      for (const [k, v] of Object.entries(params)) currentUrl.searchParams.set(k, v)
      try {
        const done = await sso.finishSsoSignIn(ctx, c.get('meta'), {
          state: query.state ?? '',
          currentUrl,
          params,
          browser,
          requireBrowser: true,
        })
        startSession(c, done.session, ctx.settings.secureCookies)
        if (wantsJson)
          return c.json(
            {
              status: 'signed_in' as const,
              userId: done.session.userId,
              csrfToken: done.session.csrf,
              returnTo: done.returnTo,
            },
            200,
          )
        return c.redirect(done.returnTo, 302)
      } catch (error) {
        if (!isOrgkitError(error) || wantsJson) throw error
        const reason =
          typeof error.details.reason === 'string'
            ? `&reason=${encodeURIComponent(error.details.reason)}`
            : ''
        return c.redirect(`/login?ssoError=${error.code}${reason}`, 302)
      }
    },
  )
}
