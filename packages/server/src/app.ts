import { isIP } from 'node:net'
import { getConnInfo } from '@hono/node-server/conninfo'
import { OpenAPIHono } from '@hono/zod-openapi'
import { OrgkitError } from '@orgkit/core'
import { ping } from '@orgkit/store'
import type { Context } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { Logger } from 'pino'
import { mountConsole } from './console-static.ts'
import type { AppEnv } from './env.ts'
import { answerError, problem, validationError } from './errors.ts'
import { Metrics } from './metrics.ts'
import { authenticate } from './middleware/auth.ts'
import { documentApi } from './reference.ts'
import { assertJsonBody, cacheOf, readBody, requestIdOf } from './request.ts'
import { routeModules } from './routes/index.ts'
import { mountScim } from './scim/routes.ts'
import { readsLocalOutbox } from './security/local-outbox.ts'
import { assertMetricsReader } from './security/metrics-access.ts'
import type { Ctx } from './services/context.ts'
import { requestTracing } from './tracing.ts'
import { assertWellFormedBody, assertWellFormedTarget } from './well-formed.ts'

export interface AppDeps {
  ctx: Ctx
  logger: Logger
  /** The built web console to serve at `/` (console-static.ts); none when absent. */
  consoleDir?: string | null | undefined
  /** Shared with the hot path (hot/listener.ts); a fresh one when not given. */
  metrics?: Metrics | undefined
}

/** Decodes as `Request.text()` does (a leading BOM dropped): a body reads as it did through the WHATWG Request. */
const utf8 = new TextDecoder()

const PUBLIC = new Set([
  '/v1/openapi.json',
  '/v1/docs',
  '/v1/docs/redoc.standalone.js',
  '/v1/auth/signup',
  '/v1/auth/login',
  '/v1/auth/verify',
  '/v1/auth/password-reset',
  '/v1/auth/password-reset/confirm',
  '/v1/captcha',
])
/** An invitation link's page is public (the token is the secret); accepting it needs a signed-in user. */
const isPublic = (method: string, path: string) =>
  PUBLIC.has(path) ||
  (method === 'GET' && /^\/v1\/invitations\/[^/]+$/.test(path)) ||
  // SSO sign-in (issue 21.1): its start, and the IdP's way back (OIDC callback, SAML ACS and SP metadata).
  path.startsWith('/v1/auth/sso/')

const noRoute = (c: Context<AppEnv>) =>
  problem(c, new OrgkitError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`))

/**
 * Whether a route answers this request: a handler Hono matched at a path of its own, not middleware
 * (`app.use`, method ALL) nor the console's `*`.
 */
const routed = (c: Context<AppEnv>) =>
  matchedRoutes(c).some((route) => route.method !== 'ALL' && !route.path.endsWith('*'))

/** The HTTP app: middleware, every route module, the OpenAPI document. No listening here (see main.ts). */
export function createApp({ ctx, logger, consoleDir, metrics = new Metrics() }: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target)
    },
  })
  // A span per request when a tracer is registered (tracing.ts); decided once, here.
  const tracing = requestTracing()
  app.use('*', async (c, next) => {
    const requestId = requestIdOf(c.req.header('x-request-id'))
    c.set('requestId', requestId)
    c.header('x-request-id', requestId)
    let ip: string | null = null
    try {
      ip = getConnInfo(c).remote.address ?? null
    } catch {
      ip = null // app.request() in tests has no socket
    }
    const hops = ctx.settings.trustProxyHops
    if (hops > 0) {
      const forwarded = (c.req.header('x-forwarded-for') ?? '').split(',').map((a) => a.trim())
      const client = forwarded.length >= hops ? forwarded[forwarded.length - hops] : undefined
      if (client && isIP(client)) ip = client
    }
    c.set('meta', { ip, userAgent: c.req.header('user-agent') ?? null, requestId })
    const started = performance.now()
    if (tracing)
      await tracing.run(c.req.method, c.req.raw.headers, async (done) => {
        await next()
        done(c.req.routePath, c.res.status)
      })
    else await next()
    const seconds = (performance.now() - started) / 1000
    // The route pattern, not the path: paths carry invitation tokens.
    metrics.observe(c.req.method, c.req.routePath, c.res.status, seconds)
    logger.info(
      { requestId, method: c.req.method, route: c.req.routePath, status: c.res.status, ms: seconds * 1000 },
      'request',
    )
  })
  app.use('/v1/*', async (c, next) => {
    // The one form the API takes: a SAML Response, posted by the IdP's page as the binding prescribes.
    const samlAcs = /^\/v1\/auth\/sso\/saml\/[^/]+\/acs$/.test(c.req.path)
    if (c.req.method !== 'GET' && !samlAcs) assertJsonBody(c.req.header('content-type'))
    await next()
  })
  // The body is read once, within its limit; text that can't be stored as sent is refused before anything
  // parses it (issue 22.2, well-formed.ts), and the validators parse the text decoded here.
  app.use('/v1/*', async (c, next) => {
    assertWellFormedTarget(c.req.url)
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const body = await readBody(c.req)
      if (/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
        assertWellFormedBody(body)
        cacheOf(c.req).text = Promise.resolve(utf8.decode(body))
      }
    }
    await next()
  })
  const auth = authenticate(ctx)
  app.use('/v1/*', async (c, next) => {
    if (isPublic(c.req.method, c.req.path) || readsLocalOutbox(ctx, c)) return next()
    // A path no route answers is a 404 for anyone, not a 401 that sends a caller after credentials it has.
    // Hono's own match for this request says so; when it finds no handler, nothing after this runs.
    if (!routed(c)) return noRoute(c)
    return auth(c, next)
  })

  app.onError((error, c) => {
    const { status, body, headers } = answerError(error, c.get('requestId'), logger)
    return c.body(body, status, headers)
  })
  app.notFound(noRoute)

  for (const routes of routeModules) routes(app, ctx)

  documentApi(app)
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    await ping(ctx.db)
    return c.json({ ready: true, revision: ctx.engine.revision, listening: ctx.engine.listening })
  })
  // With a listen address of its own (server.ts), `/metrics` is not on the public port at all.
  if (!ctx.settings.metricsElsewhere)
    app.get('/metrics', async (c) => {
      await assertMetricsReader(ctx, c.req.header('authorization'))
      return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType })
    })
  // SCIM 2.0 directory sync (issue 21.3): outside /v1, its own auth, media type and errors.
  mountScim(app, ctx, logger)
  if (consoleDir) mountConsole(app, consoleDir) // last: it only answers what no route above did
  return app
}
