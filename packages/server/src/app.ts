import { randomUUID } from 'node:crypto'
import { isIP } from 'node:net'
import { getConnInfo } from '@hono/node-server/conninfo'
import { OpenAPIHono } from '@hono/zod-openapi'
import { OrgkitError } from '@orgkit/core'
import { sql } from 'kysely'
import type { Logger } from 'pino'
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import { mountConsole } from './console-static.ts'
import { docsPage } from './docs-page.ts'
import type { AppEnv } from './env.ts'
import { problem, validationError } from './errors.ts'
import { authenticate } from './middleware/auth.ts'
import { accessRoutes } from './routes/access.ts'
import { accountRoutes } from './routes/accounts.ts'
import { auditWebhookRoutes } from './routes/audit-webhooks.ts'
import { billingRoutes } from './routes/billing.ts'
import { checkRoutes } from './routes/check.ts'
import { invitationRoutes } from './routes/invitations.ts'
import { orgRoutes } from './routes/orgs.ts'
import { resourceRoutes } from './routes/resources.ts'
import { userRoutes } from './routes/users.ts'
import { readsLocalOutbox } from './security/local-outbox.ts'
import type { Ctx } from './services/context.ts'

export interface AppDeps {
  ctx: Ctx
  logger: Logger
  /** The built web console to serve at `/` (console-static.ts); none when absent. */
  consoleDir?: string | null | undefined
}

const PUBLIC = new Set([
  '/v1/openapi.json',
  '/v1/docs',
  '/v1/auth/signup',
  '/v1/auth/login',
  '/v1/auth/verify',
  '/v1/auth/password-reset',
  '/v1/auth/password-reset/confirm',
  '/v1/captcha',
])
/** An invitation link's page is public (the token is the secret); accepting it needs a signed-in user. */
const isPublic = (method: string, path: string) =>
  PUBLIC.has(path) || (method === 'GET' && /^\/v1\/invitations\/[^/]+$/.test(path))

/** The HTTP app: middleware, every route module, the OpenAPI document. No listening here (see main.ts). */
export function createApp({ ctx, logger, consoleDir }: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target)
    },
  })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const duration = new Histogram({
    name: 'orgkit_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id')
    const requestId = given && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID()
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
    await next()
    const seconds = (performance.now() - started) / 1000
    duration.observe({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) }, seconds)
    // The route pattern, not the path: paths carry invitation tokens.
    logger.debug(
      { requestId, method: c.req.method, route: c.req.routePath, status: c.res.status, ms: seconds * 1000 },
      'request',
    )
  })
  // A body must be JSON: anything else would reach the handlers unvalidated.
  app.use('/v1/*', async (c, next) => {
    const type = c.req.header('content-type')
    if (type && c.req.method !== 'GET' && !/^application\/json\b/i.test(type)) {
      throw new OrgkitError('VALIDATION_FAILED', 'send the body as application/json', {
        field: 'content-type',
      })
    }
    await next()
  })
  const auth = authenticate(ctx)
  app.use('/v1/*', async (c, next) =>
    isPublic(c.req.method, c.req.path) || readsLocalOutbox(ctx, c) ? next() : auth(c, next),
  )

  app.onError((error, c) => {
    if (error instanceof OrgkitError) return problem(c, error)
    if (error instanceof SyntaxError || (error as { status?: number }).status === 400) {
      return problem(c, new OrgkitError('VALIDATION_FAILED', 'the body is not valid JSON', { field: 'body' }))
    }
    logger.error({ err: error, requestId: c.get('requestId') }, 'unhandled error')
    return c.body(
      JSON.stringify({
        type: 'about:blank',
        title: 'Internal error',
        status: 500,
        code: 'INTERNAL',
        detail: 'something went wrong',
        requestId: c.get('requestId'),
      }),
      500,
      { 'content-type': 'application/problem+json' },
    )
  })
  app.notFound((c) => problem(c, new OrgkitError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)))

  for (const routes of [
    userRoutes,
    accountRoutes,
    orgRoutes,
    invitationRoutes,
    resourceRoutes,
    accessRoutes,
    auditWebhookRoutes,
    billingRoutes,
    checkRoutes,
  ]) {
    routes(app, ctx)
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' })
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'orgkit_session',
  })
  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Orgkit',
      version: '0.1.0',
      description:
        'Organizations, members, roles, overrides and a permission engine. Errors are RFC 9457 problem+json with a stable `code`.',
    },
    security: [{ bearer: [] }, { session: [] }],
  })
  app.get('/v1/docs', (c) => c.html(docsPage))
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    await sql`select 1`.execute(ctx.db)
    return c.json({ ready: true, revision: ctx.engine.revision, listening: ctx.engine.listening })
  })
  app.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  )
  if (consoleDir) mountConsole(app, consoleDir) // last: it only answers what no route above did
  return app
}
