/**
 * Express: a host product's routes guarded by Orgkit, with the host's own tokens.
 *
 * The browser (or mobile app) already sends the host's JWT — from Auth0, Clerk, Better Auth or the host's
 * own code — as `Authorization: Bearer …`. The guard passes that same token on to Orgkit, which verifies it
 * against the host's JWKS (ORGKIT_JWT_*), finds or creates the user whose externalId is its `sub`, and counts
 * its `amr` toward an org's required 2FA. No platform token, no id mapping.
 */
import express from 'express'
import { orgkitExpress } from '../src/express.ts'

export function hostApp(options: { orgkitUrl: string }) {
  const requirePermission = orgkitExpress({
    url: options.orgkitUrl,
    // The person's own token: Orgkit decides as them. No token: 401.
    callerFrom: (req) => {
      const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1]
      return token ? { token } : null
    },
  })
  const app = express()
  app.post(
    '/apps/:appId/bundles',
    requirePermission('app.upload_bundle', (req) => ({ type: 'app', id: String(req.params.appId) })),
    (_req, res) => {
      res.status(201).json({ uploaded: true })
    },
  )
  return app
}
