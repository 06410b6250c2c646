import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { App } from './env.ts'

/** Redoc's standalone browser bundle, served by the server itself: the reference works on a closed network. */
export const VIEWER_PATH = '/v1/docs/redoc.standalone.js'

/**
 * The bundle's file: the copy an installed package ships in dist/vendor (scripts/bundle-assets.mjs), or in
 * this repository the redoc dev dependency's own.
 */
function viewerFile(): string {
  const shipped = fileURLToPath(new URL('./vendor/redoc.standalone.js', import.meta.url))
  if (existsSync(shipped)) return shipped
  return createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js')
}

/**
 * System fonts: Redoc's default ones would come from a font CDN. The viewer's address carries its content's
 * digest (`version`), so a browser keeps it for good and fetches a changed one at once.
 */
const page = (version: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orgkit API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0}</style></head><body>
<div id="reference"></div>
<script src="${VIEWER_PATH}?v=${version}"></script>
<script>
Redoc.init('/v1/openapi.json', {
  expandResponses: '200,201',
  jsonSampleExpandLevel: 3,
  sortTagsAlphabetically: false,
  theme: {
    typography: { fontFamily: 'system-ui, sans-serif', headings: { fontFamily: 'system-ui, sans-serif' } },
    sidebar: { width: '280px' },
  },
}, document.getElementById('reference'))
</script></body></html>`

/**
 * The page loads nothing from elsewhere. Redoc styles inline and searches in a worker from a blob. Its
 * sidebar badge, an image on Redocly's CDN, is served pointing at an empty image instead (`BADGE`), which
 * fails and hides itself: refused by this policy, it was a console error on every visit.
 */
const CONFINED = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' blob:",
  'worker-src blob:',
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
].join('; ')

/** Redoc's sidebar badge (`<img onError={hide}>`) and what it is served as: an empty image, never fetched. */
const BADGE = 'https://cdn.redoc.ly/redoc/logo-mini.svg'

/** `/v1/docs`: the OpenAPI document rendered by Redoc (a maintained viewer), and the viewer's bundle. */
export function mountDocs(app: App): void {
  let served: { viewer: string; html: string } | undefined
  const load = () => {
    if (!served) {
      const viewer = readFileSync(viewerFile(), 'utf8').replace(BADGE, 'data:,')
      served = { viewer, html: page(createHash('sha256').update(viewer).digest('hex').slice(0, 16)) }
    }
    return served
  }
  app.get('/v1/docs', (c) => c.html(load().html, 200, { 'content-security-policy': CONFINED }))
  app.get(VIEWER_PATH, (c) =>
    c.body(load().viewer, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    }),
  )
}
