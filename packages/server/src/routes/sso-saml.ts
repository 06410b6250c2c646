import { randomBytes } from 'node:crypto'
import { createRoute, z } from '@hono/zod-openapi'
import { isOrgkitError } from '@orgkit/core'
import { deleteCookie, getCookie } from 'hono/cookie'
import type { RouteModule } from '../env.ts'
import { startSession } from '../middleware/auth.ts'
import { errorResponses, Uuid } from '../schemas.ts'
import * as sso from '../services/sso.ts'
import { samlSpMetadata } from '../services/sso-saml.ts'

const tags = ['SSO']
const Params = z.object({ connectionId: Uuid.openapi({ param: { name: 'connectionId', in: 'path' } }) })
const AcsForm = z
  .object({
    SAMLResponse: z.string().min(1).max(700_000),
    RelayState: z.string().min(1).max(500),
    /** Set by the relay page below: this post came from Orgkit's own page, so the browser cookie came too. */
    relayed: z.literal('1').optional(),
  })
  .strict()

/**
 * The SAML service provider's two public endpoints (issue 21.1): the SP metadata an IdP is given, and the
 * Assertion Consumer Service its form posts the Response to (HTTP-POST binding).
 */
export const ssoSamlRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/auth/sso/saml/{connectionId}/metadata',
      tags,
      operationId: 'getSamlMetadata',
      summary: 'SAML SP metadata',
      description:
        "The service provider's metadata for one SAML connection, to give its IdP: the entity ID (this URL), the ACS URL (HTTP-POST) and whether assertions must be signed. Public: it holds nothing secret",
      request: { params: Params },
      responses: {
        200: {
          description: 'SAML 2.0 metadata (an EntityDescriptor with an SPSSODescriptor)',
          content: { 'application/samlmetadata+xml': { schema: z.string() } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const xml = await samlSpMetadata(ctx, c.req.valid('param').connectionId)
      return c.body(xml, 200, { 'content-type': 'application/samlmetadata+xml; charset=utf-8' })
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/sso/saml/{connectionId}/acs',
      tags,
      operationId: 'finishSamlSignIn',
      summary: 'SAML Assertion Consumer Service',
      description:
        "Where the IdP's form posts the SAML Response (HTTP-POST binding, RelayState the sign-in's state). The Response's signatures, issuer, audience, recipient, request and times are checked and the assertion is accepted once; then a session as a password sign-in gives and a 303 to the console. A refusal goes to /login?ssoError=<code>&reason=<reason>. A post arriving from the IdP's site carries no cookie of this site (SameSite), so it is answered with a page that posts it again from this site: the sign-in must finish in the browser that started it (no login CSRF)",
      request: {
        params: Params,
        body: { content: { 'application/x-www-form-urlencoded': { schema: AcsForm } }, required: true },
      },
      responses: {
        200: {
          description: 'A page posting the same form again from this site, with the browser cookie',
          content: { 'text/html': { schema: z.string() } },
        },
        303: {
          description: 'To the console: signed in, or the sign-in page with ssoError',
          headers: { Location: { schema: { type: 'string' } } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { connectionId } = c.req.valid('param')
      const form = c.req.valid('form')
      const browser = getCookie(c, sso.SSO_BROWSER_COOKIE) ?? null
      const acsUrl = sso.ssoUrls(ctx, { id: connectionId, kind: 'saml' }).callbackUrl
      if (!browser && !form.relayed) {
        const nonce = randomBytes(16).toString('base64')
        return c.html(relayPage(new URL(acsUrl).pathname, form, nonce), 200, {
          'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; form-action 'self'`,
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
        })
      }
      deleteCookie(c, sso.SSO_BROWSER_COOKIE, { path: '/v1/auth/sso' })
      try {
        const done = await sso.finishSsoSignIn(ctx, c.get('meta'), {
          state: form.RelayState,
          currentUrl: new URL(acsUrl),
          params: { SAMLResponse: form.SAMLResponse, RelayState: form.RelayState },
          browser,
          requireBrowser: true,
        })
        startSession(c, done.session, ctx.settings.secureCookies)
        return c.redirect(done.returnTo, 303)
      } catch (error) {
        if (!isOrgkitError(error)) throw error
        const reason =
          typeof error.details.reason === 'string'
            ? `&reason=${encodeURIComponent(error.details.reason)}`
            : ''
        return c.redirect(`/login?ssoError=${error.code}${reason}`, 303)
      }
    },
  )
}

/**
 * The IdP's post is cross-site, so the SameSite cookie binding the sign-in to its browser stays behind. The
 * page posts the same fields to the same URL from this site, where the cookie goes along; a Response pushed
 * into someone else's browser (login CSRF) then meets that browser's cookie, not the one it was started with.
 */
function relayPage(action: string, form: z.infer<typeof AcsForm>, nonce: string): string {
  const field = (name: string, value: string) =>
    `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>Signing in…</title></head><body>' +
    `<form method="post" action="${escapeHtml(action)}">` +
    field('SAMLResponse', form.SAMLResponse) +
    field('RelayState', form.RelayState) +
    field('relayed', '1') +
    '<noscript><button type="submit">Continue</button></noscript></form>' +
    `<script nonce="${nonce}">document.forms[0].submit()</script></body></html>`
  )
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
