import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { components, operations, paths } from './schema.ts'

export type { components, operations, paths }
export type OrgkitClient = Client<paths>

/** The catalogue's stable error codes (packages/core/src/errors.ts), as the document declares them. */
export type ErrorCode = components['schemas']['ErrorCode']
/** The host product's id for a user, as `actAs` takes it: `X-Orgkit-User: external:<externalId>`. */
export const external = (externalId: string): string => `external:${externalId}`

/** A problem's code: the catalogue's, or `HTTP_<status>` when what answered was no Orgkit problem. */
export type ProblemCode = ErrorCode | `HTTP_${number}`
/** The permissions every model declares: typed whichever model the server runs. */
export type PlatformPermission = components['schemas']['PlatformPermission']

/** RFC 9457 problem+json as the API answers every error, with Orgkit's stable `code`. */
export interface Problem {
  type?: string
  title?: string
  status: number
  code: ProblemCode
  detail?: string
  field?: string
  [key: string]: unknown
}

export class OrgkitApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code)
    this.name = 'OrgkitApiError'
  }
  get code(): ProblemCode {
    return this.problem.code
  }
}

export interface ClientOptions {
  /** The server's origin; '' in a browser page the server itself serves. */
  baseUrl?: string
  /**
   * An API key, a platform token, or a host token (the host product's JWT for one of its users); without
   * it a browser sends its session cookie.
   */
  token?: string
  /**
   * With a platform token: call as this user, with exactly their rights — a user id, or
   * `external:<externalId>` for the host product's own id for them (sent as `X-Orgkit-User`).
   */
  actAs?: string
  /** Reads the `orgkit_csrf` cookie for session writes (the browser's `document.cookie` by default). */
  csrf?: () => string | undefined
  fetch?: typeof fetch
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

function csrfFromDocument(): string | undefined {
  const cookies = (globalThis as { document?: { cookie: string } }).document?.cookie ?? ''
  const match = /(?:^|;\s*)orgkit_csrf=([^;]+)/.exec(cookies)
  return match ? decodeURIComponent(match[1]!) : undefined
}

/**
 * A typed client for every path in the OpenAPI document. Sessions: the cookie rides along and writes
 * echo the CSRF cookie in `X-Orgkit-CSRF` (double submit, SPEC 3). A host product calls as one of its
 * users with its platform token and `actAs` (`external:<its id for them>`), or with that user's own JWT
 * as `token` — one client per user is cheap to make.
 */
export function createOrgkitClient(options: ClientOptions = {}): OrgkitClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    credentials: 'same-origin',
    ...(options.fetch && { fetch: options.fetch }),
  })
  const readCsrf = options.csrf ?? csrfFromDocument
  const auth: Middleware = {
    onRequest({ request }) {
      if (options.token) {
        request.headers.set('authorization', `Bearer ${options.token}`)
        if (options.actAs) request.headers.set('x-orgkit-user', options.actAs)
      } else if (!SAFE.has(request.method)) {
        const csrf = readCsrf()
        if (csrf) request.headers.set('x-orgkit-csrf', csrf)
      }
      return request
    },
  }
  client.use(auth)
  return client
}

/**
 * Unwraps an openapi-fetch result: the data, or an `OrgkitApiError` carrying the problem's `code`.
 * `await must(api.GET('/v1/me'))`
 */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call
  if (error !== undefined || !response.ok) {
    const body = (error ?? {}) as Partial<Problem>
    throw new OrgkitApiError({
      ...body,
      status: response.status,
      code: typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
    })
  }
  return data as T
}

export {
  authorization,
  type CheckBatchRequest,
  type CheckRequest,
  type ExplainRequest,
  type ListPrincipalsRequest,
  type ListResourcesRequest,
} from './authorization.ts'
