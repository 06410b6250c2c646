import { z } from '@hono/zod-openapi'
import { OrgkitError } from '@orgkit/core'
import type * as Client from 'openid-client'
import { assertReceiver, lazyReceiverAgent, undici } from '../../webhooks/ssrf.ts'
import type { SsoConnectionRef, SsoProfile, SsoProtocol } from './protocol.ts'
import type { SsoDeps } from './registry.ts'

/**
 * OpenID Connect (openid-client 6): the authorization code flow with PKCE (S256), a nonce and the state,
 * the ID token's signature, issuer, audience, expiry and nonce checked by the library. The provider's
 * discovery document is fetched once and kept a few minutes per (issuer, client).
 */
export const OidcConfigSchema = z
  .object({
    issuer: z.string().url().max(2000),
    clientId: z.string().min(1).max(500),
    clientSecret: z.string().min(1).max(2000),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/))
      .max(20)
      .default([]),
    /** The claim (ID token or userinfo) holding the person's groups: `groups` for most providers. */
    groupsClaim: z.string().min(1).max(200).default('groups'),
  })
  .strict()
export type OidcConfig = z.infer<typeof OidcConfigSchema>

/** openid-client, loaded on first use (Node keeps it): a server with no OpenID connection never loads it. */
type OpenId = typeof Client
const openidClient = (): Promise<OpenId> => import('openid-client')

const BASE_SCOPES = ['openid', 'email', 'profile']
const DISCOVERY_TTL_MS = 5 * 60_000

export function createOidcProtocol(deps: SsoDeps): SsoProtocol<OidcConfig> {
  const agent = deps.allowPrivate ? null : lazyReceiverAgent(false)
  // Outgoing requests go to admin-given URLs: unless private networks are allowed, an address is checked
  // before the request (IP literals) and on the connection's own DNS answer (rebinding).
  const fetcher: Client.CustomFetch = async (url, options) => {
    if (!agent) return fetch(url, options)
    await assertReceiver(url, false)
    const { fetch: undiciFetch } = await undici()
    return (await undiciFetch(url, {
      ...options,
      dispatcher: await agent.get(),
    } as never)) as unknown as Response
  }
  const discovered = new Map<string, { at: number; config: Promise<Client.Configuration> }>()

  function configuration(config: OidcConfig, fresh = false): Promise<Client.Configuration> {
    const key = JSON.stringify([config.issuer, config.clientId, config.clientSecret])
    const now = deps.clock()
    const hit = discovered.get(key)
    if (!fresh && hit && now - hit.at < DISCOVERY_TTL_MS) return hit.config
    const made = openidClient().then((client) =>
      client.discovery(
        new URL(config.issuer),
        config.clientId,
        { client_secret: config.clientSecret },
        client.ClientSecretBasic(config.clientSecret),
        {
          [client.customFetch]: fetcher,
          ...(deps.allowPrivate && { execute: [client.allowInsecureRequests] }),
        },
      ),
    )
    if (discovered.size > 1000) discovered.clear()
    discovered.set(key, { at: now, config: made })
    made.catch(() => discovered.delete(key))
    return made
  }

  return {
    kind: 'oidc',
    secretFields: ['clientSecret'],

    parseConfig(input) {
      const parsed = OidcConfigSchema.safeParse(input)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new OrgkitError('VALIDATION_FAILED', `config.${issue.path.join('.')}: ${issue.message}`, {
          field: `config.${issue.path.join('.')}`,
          issues: parsed.error.issues.map((i) => ({
            path: ['config', ...i.path].join('.'),
            message: i.message,
          })),
        })
      }
      const url = new URL(parsed.data.issuer)
      if (url.protocol !== 'https:' && !(deps.allowPrivate && url.protocol === 'http:')) {
        throw new OrgkitError(
          'VALIDATION_FAILED',
          'config.issuer: an OpenID Provider is reached over https',
          {
            field: 'config.issuer',
          },
        )
      }
      return parsed.data
    },

    async test(connection) {
      const client = await openidClient()
      let config: Client.Configuration
      try {
        config = await configuration(connection.config, true)
      } catch (error) {
        return { ok: false, problem: `discovery failed: ${describe(error, client)}` }
      }
      // The client is accepted where the provider can tell: a code grant with a code that can't exist is
      // refused as `invalid_grant` once the client authenticated, as `invalid_client` when it did not.
      try {
        await client.genericGrantRequest(config, 'authorization_code', {
          code: 'orgkit-connection-test',
          redirect_uri: 'https://orgkit.invalid/test',
        })
      } catch (error) {
        if (error instanceof client.WWWAuthenticateChallengeError)
          return { ok: false, problem: 'the provider refused the client: check the client id and secret' }
        if (error instanceof client.ResponseBodyError) {
          if (error.error === 'invalid_client' || error.error === 'unauthorized_client')
            return { ok: false, problem: `the provider refused the client: ${error.error}` }
          return { ok: true }
        }
        return { ok: false, problem: `the token endpoint did not answer: ${describe(error, client)}` }
      }
      return { ok: true }
    },

    async start(connection, { callbackUrl, state }) {
      const client = await openidClient()
      const config = await discover(connection)
      const verifier = client.randomPKCECodeVerifier()
      const nonce = client.randomNonce()
      const scopes = [...new Set([...BASE_SCOPES, ...connection.config.scopes])]
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: callbackUrl,
        response_type: 'code',
        scope: scopes.join(' '),
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      })
      return { redirectUrl: url.href, pending: { verifier, nonce } }
    },

    async finish(connection, callback) {
      const client = await openidClient()
      const config = await discover(connection)
      let claims: Record<string, unknown>
      try {
        const tokens = await client.authorizationCodeGrant(config, callback.currentUrl, {
          pkceCodeVerifier: callback.pending.verifier,
          expectedNonce: callback.pending.nonce,
          expectedState: callback.state,
          idTokenExpected: true,
        })
        claims = { ...tokens.claims() }
        const sub = claims.sub as string
        // Providers differ in what the ID token carries; the rest (email, groups) comes from userinfo, for
        // the same subject (checked by the library).
        if (config.serverMetadata().userinfo_endpoint && tokens.access_token)
          claims = { ...(await client.fetchUserInfo(config, tokens.access_token, sub)), ...claims }
      } catch (error) {
        throw new OrgkitError(
          'SSO_FAILED',
          `the OpenID Provider's answer was refused: ${describe(error, client)}`,
          {
            reason: reasonOf(error, client),
          },
        )
      }
      return profileOf(claims, connection.config.groupsClaim)
    },
  }

  async function discover(connection: SsoConnectionRef<OidcConfig>) {
    try {
      return await configuration(connection.config)
    } catch (error) {
      throw new OrgkitError(
        'SSO_FAILED',
        `the OpenID Provider can't be reached: ${describe(error, await openidClient())}`,
        {
          reason: 'discovery_failed',
        },
      )
    }
  }
}

function profileOf(claims: Record<string, unknown>, groupsClaim: string): SsoProfile {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : ''
  if (!email.includes('@'))
    throw new OrgkitError('SSO_FAILED', 'the OpenID Provider sent no email (ask for the email scope)', {
      reason: 'no_email',
    })
  const raw = claims[groupsClaim]
  const groups = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).filter(
    (g): g is string => typeof g === 'string',
  )
  const { sub, email: _e, email_verified, name, ...attributes } = claims
  return {
    subject: String(sub),
    email,
    // Only an explicit true counts: a provider that says nothing vouches for nothing.
    emailVerified: email_verified === true || email_verified === 'true',
    ...(typeof name === 'string' && name.trim() && { name: name.trim().slice(0, 200) }),
    groups,
    attributes,
  }
}

/** A stable word for what failed, for the audit trail and tests (never the provider's raw text). */
function reasonOf(error: unknown, openid: OpenId): string {
  const code = (error as { code?: unknown }).code
  // openid-client says "unexpected JWT claim value encountered"; the check that failed is in its cause.
  const cause = (error as { cause?: { message?: unknown } }).cause
  const message = `${error instanceof Error ? error.message : ''} ${typeof cause?.message === 'string' ? cause.message : ''}`
  if (/state/i.test(message)) return 'state_mismatch'
  if (/nonce/i.test(message)) return 'nonce_mismatch'
  if (/"iss"|issuer/i.test(message)) return 'issuer_mismatch'
  if (/"aud"|audience/i.test(message)) return 'audience_mismatch'
  if (error instanceof openid.ResponseBodyError) return `provider_${error.error}`
  if (error instanceof openid.AuthorizationResponseError) return `provider_${error.error}`
  return typeof code === 'string' ? code.toLowerCase() : 'invalid_response'
}

function describe(error: unknown, openid: OpenId): string {
  if (error instanceof openid.ResponseBodyError)
    return `${error.error}${error.error_description ? ` (${error.error_description})` : ''}`
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const text = error instanceof Error ? error.message : String(error)
  const detail = cause?.message && cause.message !== text ? `: ${cause.message}` : ''
  return `${text}${detail}${cause?.code ? ` (${cause.code})` : ''}`
}
