/**
 * `requirePermission` for a host product's own routes, whatever the framework (express.ts, hono.ts,
 * next.ts adapt it): who asks comes from the host's own sign-in, what they ask about from the request, and
 * the answer from an in-process replica (microseconds) or the API. A refusal is RFC 9457 problem+json with
 * the engine's reason, as Orgkit's own API answers.
 */
import { external, OrgkitApiError, type Problem } from './index.ts'
import type { Replica, ResourceRef } from './replica.ts'

/**
 * Who asks, as the host knows them:
 * - a string: an Orgkit user id, or `external:<id>` (`external(id)`) — the host's own id for them;
 * - `{ token }`: their own bearer token for Orgkit (the host's JWT, verified by Orgkit against its JWKS);
 * - null or undefined: nobody signed in (401).
 */
export type Caller = string | { token: string } | null | undefined

export interface GuardOptions<Req> {
  /** Decides in memory (`createReplica` from `@orgkit/sdk/replica`) for callers given by Orgkit user id. */
  replica?: Replica | undefined
  /** Orgkit's origin, for callers the replica can't answer (a token, an external id) or without one. */
  url?: string | undefined
  /** The platform token, to ask the API as a user given by id (`X-Orgkit-User`). */
  platformToken?: string | undefined
  /** Who asks, from the host's own authentication. */
  callerFrom: (req: Req) => Caller | Promise<Caller>
  /** A revision the answer must not be older than: one a write of this person's returned, say. */
  atLeastRevision?: ((req: Req) => number | undefined) | undefined
  fetch?: typeof fetch | undefined
}

export type Verdict =
  | { allowed: true; reason: string; revision: number }
  | { allowed: false; status: 401 | 403; problem: Problem }

const PROBLEM_BASE = 'https://orgkit.dev/problems/'

/** The problem a refusal answers with: the catalogue's code, and the engine's reason beside it. */
function refusal(status: 401 | 403, code: string, detail: string, extra: object = {}): Verdict {
  return {
    allowed: false,
    status,
    problem: {
      type: PROBLEM_BASE + code.toLowerCase().replaceAll('_', '-'),
      title: status === 401 ? 'Not authenticated' : 'Forbidden',
      status,
      code: code as Problem['code'],
      detail,
      ...extra,
    },
  }
}

/** Decides one request: the framework adapters call this and answer `problem` when it refuses. */
export async function decide<Req>(
  options: GuardOptions<Req>,
  req: Req,
  permission: string,
  resource: ResourceRef,
): Promise<Verdict> {
  const caller = await options.callerFrom(req)
  if (caller === null || caller === undefined || caller === '')
    return refusal(401, 'UNAUTHENTICATED', 'sign in first')
  const atLeastRevision = options.atLeastRevision?.(req)
  let answer: { allowed: boolean; reason: string; revision: number }
  try {
    answer =
      typeof caller === 'string' && options.replica && !caller.startsWith(external(''))
        ? await options.replica.check({ subject: caller, permission, resource, atLeastRevision })
        : await askApi(options, caller, { permission, resource, atLeastRevision })
  } catch (error) {
    if (!(error instanceof OrgkitApiError)) throw error
    // A person's own token Orgkit refused (expired, wrong audience…): their sign-in, not their rights.
    if (typeof caller === 'object' && error.problem.status === 401)
      return refusal(401, error.code, error.problem.detail ?? 'Orgkit refused the token')
    // Acting as someone Orgkit has never heard of: they hold no rights there (fail closed; a wrong
    // platform token lands here too, and the host's own logs of Orgkit's 401 tell the two apart).
    if (typeof caller === 'string' && error.problem.status === 401)
      return refusal(403, 'FORBIDDEN', `${permission} is not allowed`, { permission, reason: 'unknown_user' })
    throw error
  }
  if (answer.allowed) return { allowed: true, reason: answer.reason, revision: answer.revision }
  return refusal(403, 'FORBIDDEN', `${permission} is not allowed: ${answer.reason}`, {
    permission,
    reason: answer.reason,
  })
}

async function askApi<Req>(
  options: GuardOptions<Req>,
  caller: string | { token: string },
  body: { permission: string; resource: ResourceRef; atLeastRevision: number | undefined },
): Promise<{ allowed: boolean; reason: string; revision: number }> {
  if (!options.url)
    throw new Error('requirePermission: give `url` to ask the API (or a replica and user ids)')
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (typeof caller === 'object') headers.authorization = `Bearer ${caller.token}`
  else {
    if (!options.platformToken) throw new Error('requirePermission: acting as a user needs `platformToken`')
    headers.authorization = `Bearer ${options.platformToken}`
    headers['x-orgkit-user'] = caller
  }
  const response = await (options.fetch ?? fetch)(`${options.url.replace(/\/+$/, '')}/v1/check`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  })
  const answer = (await response.json().catch(() => ({}))) as Partial<Problem> & {
    allowed: boolean
    reason: string
    revision: number
  }
  if (!response.ok)
    throw new OrgkitApiError({
      ...answer,
      status: response.status,
      code: typeof answer.code === 'string' ? answer.code : `HTTP_${response.status}`,
    })
  return answer
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'
