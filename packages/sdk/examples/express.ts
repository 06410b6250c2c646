/**
 * Express: a host product's route guarded by an Orgkit check, with the host's own tokens.
 *
 * The browser (or mobile app) already sends the host's JWT — from Auth0, Clerk, Better Auth or the host's
 * own code — as `Authorization: Bearer …`. The middleware passes that same token on to Orgkit, which
 * verifies it against the host's JWKS (ORGKIT_JWT_*), finds or creates the user whose externalId is its
 * `sub`, and counts its `amr` toward an org's required 2FA. No platform token, no id mapping.
 *
 *   const guard = orgkitGuard({ baseUrl: process.env.ORGKIT_URL! })
 *   app.post('/apps/:appId/bundles', guard('app.upload_bundle', (req) => ({ type: 'app', id: req.params.appId })), upload)
 */
import type { Request, RequestHandler } from 'express'
import { authorization, type CheckRequest, createOrgkitClient, OrgkitApiError } from '../src/index.ts'

export type ResourceRef = CheckRequest['resource']

export function orgkitGuard(options: { baseUrl: string }) {
  return (permission: string, resourceOf: (req: Request) => ResourceRef): RequestHandler =>
    async (req, res, next) => {
      const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1]
      if (!token) {
        res.status(401).json({ error: 'sign in first' })
        return
      }
      // One client per request: it is a few closures, and the token is this person's.
      const orgkit = authorization(createOrgkitClient({ baseUrl: options.baseUrl, token }))
      try {
        const decision = await orgkit.check({ permission, resource: resourceOf(req) })
        if (!decision.allowed) {
          res.status(403).json({ error: 'forbidden', reason: decision.reason })
          return
        }
        next()
      } catch (error) {
        // Orgkit refused the token itself (expired, wrong audience…): the code says which.
        if (error instanceof OrgkitApiError && error.problem.status === 401) {
          res.status(401).json({ error: error.code })
          return
        }
        next(error)
      }
    }
}
