import type { ErrorKind } from '@orgkit/core'
import { OrgkitError } from '@orgkit/core'
import { isStalePlan } from '@orgkit/store'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'
import type { ZodError } from 'zod'

/** The one table from an error's kind to its HTTP status. */
export const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unsupported_media_type: 415,
  unavailable: 503,
}

const TITLES: Record<ErrorKind, string> = {
  invalid: 'Invalid request',
  unauthenticated: 'Not authenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  rate_limited: 'Too many requests',
  unsupported_media_type: 'Unsupported media type',
  unavailable: 'Service unavailable',
}

/** A problem to send: its status, its JSON, and its headers (the content type, and Retry-After on a 429). */
export interface ProblemAnswer {
  status: ContentfulStatusCode
  body: string
  headers: Record<string, string>
}

/**
 * RFC 9457 problem details, with the catalogue's stable `code`. Every 429 says when to come back: the
 * `Retry-After` header (RFC 9110, in seconds) from `details.retryAfter`, at least 1 (issue 22.1).
 */
export function problemOf(error: OrgkitError, requestId: string | undefined): ProblemAnswer {
  const status = STATUS[error.kind]
  const body = JSON.stringify({
    type: `https://orgkit.dev/problems/${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[error.kind],
    status,
    code: error.code,
    detail: error.message,
    ...(Object.keys(error.details).length > 0 && { details: error.details }),
    ...(requestId && { requestId }),
  })
  const headers: Record<string, string> = { 'content-type': PROBLEM_TYPE }
  if (status === 429) {
    const retryAfter = Number(error.details.retryAfter)
    headers['retry-after'] = String(Number.isFinite(retryAfter) ? Math.max(1, Math.ceil(retryAfter)) : 60)
  }
  return { status, body, headers }
}

export function problem(c: Context, error: OrgkitError): Response {
  const { status, body, headers } = problemOf(error, c.get('requestId'))
  return c.body(body, status, headers)
}

export const PROBLEM_TYPE = 'application/problem+json'

/** Whatever was thrown while answering, as the status and problem+json to send; a 500 (a bug) is logged. */
export function answerError(error: unknown, requestId: string | undefined, logger: Logger): ProblemAnswer {
  const known = asOrgkitError(error)
  if (known) return problemOf(known, requestId)
  logger.error({ err: error, requestId }, 'unhandled error')
  // Nothing about the failure but the request id to find it in the log.
  const body = JSON.stringify({
    type: 'about:blank',
    title: 'Internal error',
    status: 500,
    code: 'INTERNAL',
    detail: 'something went wrong',
    requestId,
  })
  return { status: 500, body, headers: { 'content-type': PROBLEM_TYPE } }
}

/**
 * A catalogued error, a body without a media type (zod-openapi's 415), a body that is not JSON (the
 * validator's 400, JSON.parse's SyntaxError), or null.
 */
function asOrgkitError(error: unknown): OrgkitError | null {
  if (error instanceof OrgkitError) return error
  // zod-openapi's media-type gate: a body sent without its Content-Type (issue 22.3).
  if ((error as { status?: number } | null)?.status === 415) {
    return new OrgkitError('UNSUPPORTED_MEDIA_TYPE', 'send the body with Content-Type: application/json', {
      field: 'content-type',
    })
  }
  if (isStalePlan(error)) {
    return new OrgkitError(
      'SCHEMA_CHANGED',
      'the database changed shape under this request (an upgrade is migrating it): its transaction was rolled back; try again',
    )
  }
  if (error instanceof SyntaxError || (error as { status?: number } | null)?.status === 400) {
    return new OrgkitError('VALIDATION_FAILED', 'the body is not valid JSON', { field: 'body' })
  }
  return null
}

/** A zod failure as VALIDATION_FAILED naming the first field at fault (and listing all of them). */
export function validationError(error: ZodError, where: string): OrgkitError {
  const issues = error.issues.map((i) => ({ field: i.path.join('.') || where, message: said(i) }))
  const first = issues[0]!
  return new OrgkitError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
    field: first.field,
    in: where,
    issues,
  })
}

/**
 * An issue's message, a missing field said as one: zod's "Invalid input: expected string, received
 * undefined" read to a new user as a wrong value, not an absent one (hostile-input.test holds the wording).
 */
function said(issue: ZodError['issues'][number]): string {
  return issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
    ? 'required'
    : issue.message
}
