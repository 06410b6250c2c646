/**
 * Hono: a host product's routes guarded by Orgkit, from the host's backend.
 *
 * Here the host has already authenticated the request its own way (a session cookie, its own JWT
 * middleware) and knows its id for the person. It asks Orgkit with its platform token, acting as that
 * person by the host's own id — `X-Orgkit-User: external:<id>` — so it keeps no table from its ids to
 * Orgkit's. Users are provisioned up front with `PUT /v1/users/external/{id}` (an upsert), or just in time
 * by their own tokens.
 */
import { Hono } from 'hono'
import { orgkitHono } from '../src/hono.ts'
import { external } from '../src/index.ts'

export function hostApp(options: {
  orgkitUrl: string
  /** The host product's platform token (`okp_…`): keep it on the server. */
  platformToken: string
}) {
  const requirePermission = orgkitHono({
    url: options.orgkitUrl,
    platformToken: options.platformToken,
    // Stands for the host's own session middleware: its id for whoever signed in, or nobody.
    callerFrom: (c) => {
      const id = c.req.header('x-host-session-user')
      return id ? external(id) : null
    },
  })
  const app = new Hono()
  app.post(
    '/apps/:appId/bundles',
    requirePermission('app.upload_bundle', (c) => ({ type: 'app', id: c.req.param('appId')! })),
    (c) => c.json({ uploaded: true }, 201),
  )
  return app
}
