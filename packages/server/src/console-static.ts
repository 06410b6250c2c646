import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import type { App } from './env.ts'

/** Paths the API owns: the console never answers them, not even with its SPA fallback. */
const RESERVED = /^\/(v1(\/|$)|healthz$|readyz$|metrics$)/

/**
 * Serves the built console (packages/console/dist) at `/`: its files, and index.html for any other GET
 * so the console's own routes (/login, /invitations/<token>, /orgs/…) load on a refresh or from a link.
 * Registered after every API route, and it steps aside for the reserved paths, so it shadows none.
 */
export function mountConsole(app: App, root: string): void {
  const index = readFileSync(join(root, 'index.html'), 'utf8')
  const files = serveStatic({
    root,
    onFound: (path, c) => {
      // Vite puts a content hash in every asset's name; index.html itself must always be re-read.
      c.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
    },
  })
  app.get('*', (c, next) => (RESERVED.test(c.req.path) ? next() : files(c, next)))
  app.get('*', (c, next) => {
    if (RESERVED.test(c.req.path)) return next()
    c.header('cache-control', 'no-cache')
    return c.html(index)
  })
}
