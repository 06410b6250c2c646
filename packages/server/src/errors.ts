import type { ErrorKind } from '@orgkit/core'
import { OrgkitError } from '@orgkit/core'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ZodError } from 'zod'

/** The one table from an error's kind to its HTTP status. */
export const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
}

const TITLES: Record<ErrorKind, string> = {
  invalid: 'Invalid request',
  unauthenticated: 'Not authenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  rate_limited: 'Too many requests',
}

/** RFC 9457 problem details, with the catalogue's stable `code`: the status and the JSON to send. */
export function problemOf(
  error: OrgkitError,
  requestId: string | undefined,
): { status: ContentfulStatusCode; body: string } {
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
  return { status, body }
}

export function problem(c: Context, error: OrgkitError): Response {
  const { status, body } = problemOf(error, c.get('requestId'))
  return c.body(body, status, { 'content-type': PROBLEM_TYPE })
}

export const PROBLEM_TYPE = 'application/problem+json'

/** What an error thrown while answering becomes: a catalogued error, or null for a 500 (a bug: logged). */
export function asOrgkitError(error: unknown): OrgkitError | null {
  if (error instanceof OrgkitError) return error
  if (error instanceof SyntaxError || (error as { status?: number } | null)?.status === 400) {
    return new OrgkitError('VALIDATION_FAILED', 'the body is not valid JSON', { field: 'body' })
  }
  return null
}

/** The body of a 500: nothing about the failure but the request id to find it in the log. */
export const internalErrorBody = (requestId: string | undefined) =>
  JSON.stringify({
    type: 'about:blank',
    title: 'Internal error',
    status: 500,
    code: 'INTERNAL',
    detail: 'something went wrong',
    requestId,
  })

/** A zod failure as VALIDATION_FAILED naming the first field at fault (and listing all of them). */
export function validationError(error: ZodError, where: string): OrgkitError {
  const issues = error.issues.map((i) => ({ field: i.path.join('.') || where, message: i.message }))
  const first = issues[0]!
  return new OrgkitError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
    field: first.field,
    in: where,
    issues,
  })
}
