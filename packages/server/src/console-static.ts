import type { Context } from 'hono'
import type { App } from './env.ts'
import { chooseEncoding, loadStaticFiles, type StaticFile } from './static-files.ts'

/** Paths the API owns: the console never answers them, not even with its SPA fallback. */
const RESERVED = /^\/(v1(\/|$)|healthz$|readyz$|metrics$)/
/** Vite names every asset by its content's hash: a name never changes meaning, so it is cached for good. */
const HASHED = 'public, max-age=31536000, immutable'

/**
 * Serves the built console (packages/console/dist) at `/`: its files, and index.html for any other GET
 * so the console's own routes (/login, /invitations/<token>, /orgs/…) load on a refresh or from a link.
 * Each reply is brotli or gzip as the browser accepts (static-files.ts), with `Vary: Accept-Encoding`;
 * hashed assets are cached for a year, index.html revalidated every time (its ETag answers 304).
 * Registered after every API route, and it steps aside for the reserved paths, so it shadows none.
 */
export function mountConsole(app: App, root: string): void {
  const files = loadStaticFiles(root)
  const index = files.get('/index.html')
  if (!index) throw new Error(`the console at ${root} has no index.html`)
  app.get('*', async (c, next) => {
    if (RESERVED.test(c.req.path)) return next()
    const file = files.get(c.req.path)
    if (file) return reply(c, file, c.req.path.startsWith('/assets/') ? HASHED : 'no-cache')
    return reply(c, index, 'no-cache')
  })
}

async function reply(c: Context, file: StaticFile, cacheControl: string): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': file.type,
    'cache-control': cacheControl,
    etag: file.etag,
  }
  if (file.compressible) headers.vary = 'Accept-Encoding'
  const known = c.req.header('if-none-match')?.split(',') ?? []
  if (known.some((tag) => tag.trim() === file.etag)) return new Response(null, { status: 304, headers })
  const encoding = file.compressible ? chooseEncoding(c.req.header('accept-encoding')) : 'identity'
  if (encoding !== 'identity') headers['content-encoding'] = encoding
  const body = await file.body(encoding)
  headers['content-length'] = String(body.byteLength)
  return new Response(c.req.method === 'HEAD' ? null : body, { headers })
}
