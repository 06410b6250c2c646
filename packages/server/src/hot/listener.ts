import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from '@hono/zod-openapi'
import { parse as parseCookies } from 'hono/utils/cookie'
import type { Logger } from 'pino'
import { answerError, PROBLEM_TYPE, validationError } from '../errors.ts'
import type { Metrics } from '../metrics.ts'
import { ACT_AS_HEADER, CSRF_HEADER, resolveCaller, SESSION_COOKIE } from '../middleware/auth.ts'
import { bodyTooLarge, MAX_BODY_BYTES, requestIdOf } from '../request.ts'
import type { Actor, Ctx } from '../services/context.ts'
import { requestTracing } from '../tracing.ts'
import { assertWellFormedBody } from '../well-formed.ts'
import { parseJsonBody } from './json-body.ts'
import { type Acceptor, compileAcceptor } from './zod-fast-path.ts'

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** What the hot path needs of a route: routes/check.ts's `AuthorizationRoute`, registered on the app too. */
export interface HotRoute {
  path: string
  input: z.ZodType
  run(ctx: Ctx, actor: Actor, input: unknown): Promise<object>
}

interface HotPathDeps {
  ctx: Ctx
  logger: Logger
  metrics: Metrics
  /** The routes answered here (`authorizationRoutes`); the app answers them too. */
  routes: readonly HotRoute[]
}

/**
 * The authorization API without the framework. The host product calls `/v1/check` on every request of its
 * own, and on the app (Hono, its middleware, a Web `Request` and `Response` per call) a check spent
 * several times the engine's time in the framework: half the throughput of plain `node:http` on the same
 * machine (docs/performance.md). So a `POST` with a JSON body to one of `authorizationRoutes` is answered
 * here, by the same steps in the same order as the app's middleware and route — request id, caller
 * (`resolveCaller`), JSON, the route's own zod schema (through its quick yes for a well-formed body,
 * zod-fast-path.ts), its `run`, problem+json errors, the duration
 * histogram — and everything else, including those routes sent without `Content-Type: application/json`,
 * goes to `next` (the app). test/hot-path.test.ts asks both paths the same questions and compares the
 * answers: status, content type, body.
 */
export function hotPath(deps: HotPathDeps, next: Listener): Listener {
  const routes = new Map(
    deps.routes.map((route) => [route.path, { route, accept: compileAcceptor(route.input) }]),
  )
  // Bodies read in one turn of the event loop are answered together after it, in setImmediate: all the
  // reads, then all the answers and writes. Against answering each as it arrives, this took the CPU a
  // check costs over plain node:http from ~20 µs to a few (docs/performance.md), for at most one turn.
  let due: (() => void)[] = []
  // A span per request when a tracer is registered (tracing.ts); decided once, so untraced costs nothing.
  const tracing = requestTracing()
  const answerDue = () => {
    const now = due
    due = []
    for (const run of now) run()
  }
  return (req, res) => {
    const found = req.method === 'POST' ? routes.get(req.url!) : undefined
    if (found === undefined || !isJson(req.headers['content-type'])) return next(req, res)
    const started = performance.now()
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => {
      const body = size > MAX_BODY_BYTES ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
      const run = tracing
        ? () =>
            void tracing.run('POST', req.headers, async (done) =>
              done(found.route.path, await answer(deps, found, req, res, body, started)),
            )
        : () => void answer(deps, found, req, res, body, started)
      if (due.push(run) === 1) setImmediate(answerDue)
    })
  }
}

/** The app's validator reads a body as JSON only for this media type (hono/validator). */
const isJson = (type: string | undefined) =>
  type !== undefined && type.split(';')[0]!.trim().toLowerCase() === 'application/json'

async function answer(
  { ctx, logger, metrics }: HotPathDeps,
  { route, accept }: { route: HotRoute; accept: Acceptor | null },
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | null,
  started: number,
): Promise<number> {
  const headers = req.headers
  const requestId = requestIdOf(header(headers['x-request-id']))
  let status = 200
  let text: string
  let type = 'application/json'
  let retryAfter: string | undefined
  try {
    if (body === null) throw bodyTooLarge() // the app's body limit comes before its caller, too
    assertWellFormedBody(body) // so does its refusal of NUL and lone surrogates (well-formed.ts)
    const authorization = header(headers.authorization)
    const actor = await resolveCaller(ctx, {
      method: 'POST',
      authorization,
      actAs: header(headers[ACT_AS_HEADER]),
      session:
        authorization || !headers.cookie
          ? undefined
          : parseCookies(headers.cookie, SESSION_COOKIE)[SESSION_COOKIE],
      csrf: header(headers[CSRF_HEADER]),
    })
    const json = parseJsonBody(body)
    // The schema's quick yes (zod-fast-path.ts) takes the value as it is; anything else zod parses.
    let input = json
    if (accept === null || !accept(json)) {
      const parsed = route.input.safeParse(json)
      if (!parsed.success) throw validationError(parsed.error, 'json')
      input = parsed.data
    }
    text = JSON.stringify(await route.run(ctx, actor, input))
  } catch (error) {
    const problem = answerError(error, requestId, logger)
    status = problem.status
    text = problem.body
    type = PROBLEM_TYPE
    retryAfter = problem.headers['retry-after'] // every 429 says when to come back
  }
  res.writeHead(status, {
    'x-request-id': requestId,
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    ...(retryAfter !== undefined && { 'retry-after': retryAfter }),
  })
  res.end(text)
  const seconds = (performance.now() - started) / 1000
  metrics.observe('POST', route.path, status, seconds)
  metrics.hotPath.inc()
  if (logger.isLevelEnabled('info'))
    logger.info({ requestId, method: 'POST', route: route.path, status, ms: seconds * 1000 }, 'request')
  return status
}

/** Node joins a repeated header into one string (or keeps the first); only its types allow an array. */
const header = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined)
