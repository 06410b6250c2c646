/**
 * Hono: a host product's route guarded by an Orgkit check, from the host's backend.
 *
 * Here the host has already authenticated the request its own way (a session cookie, its own JWT
 * middleware) and knows its id for the person. It calls Orgkit with its platform token, acting as that
 * person by the host's own id — `X-Orgkit-User: external:<id>`, which the SDK's `actAs` sends — so it
 * keeps no table from its ids to Orgkit's. Users are provisioned up front with
 * `PUT /v1/users/external/{id}` (an upsert), or just in time by their own tokens.
 *
 *   const guard = orgkitGuard({ baseUrl, platformToken, userOf: (c) => c.get('session')?.userId ?? null })
 *   app.post('/apps/:appId/bundles', guard('app.upload_bundle', (c) => ({ type: 'app', id: c.req.param('appId') })), upload)
 */
import type { Context, MiddlewareHandler } from 'hono'
import {
  authorization,
  type CheckRequest,
  createOrgkitClient,
  external,
  OrgkitApiError,
} from '../src/index.ts'

export type ResourceRef = CheckRequest['resource']

export interface GuardOptions {
  baseUrl: string
  /** The host product's platform token (`okp_…`): keep it on the server. */
  platformToken: string
  /** The host's id for the signed-in person (what its tokens carry as `sub`), or null when signed out. */
  userOf: (c: Context) => string | null
}

export function orgkitGuard(options: GuardOptions) {
  return (permission: string, resourceOf: (c: Context) => ResourceRef): MiddlewareHandler =>
    async (c, next) => {
      const externalId = options.userOf(c)
      if (externalId === null) return c.json({ error: 'sign in first' }, 401)
      const orgkit = authorization(
        createOrgkitClient({
          baseUrl: options.baseUrl,
          token: options.platformToken,
          actAs: external(externalId),
        }),
      )
      try {
        const decision = await orgkit.check({ permission, resource: resourceOf(c) })
        if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
      } catch (error) {
        // A person Orgkit has never heard of holds no rights there.
        if (error instanceof OrgkitApiError && error.problem.status === 401)
          return c.json({ error: 'forbidden', reason: 'unknown_user' }, 403)
        throw error
      }
      await next()
    }
}
