import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'

/** What every request gets, whichever HTTP path answers it (app.ts, hot/listener.ts). */

/** The caller's `X-Request-Id` when it is a plain token, else a fresh one; echoed in the response. */
export const requestIdOf = (given: string | undefined): string =>
  given && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID()

/** A body must be JSON: anything else would reach the handlers unvalidated. */
export function assertJsonBody(contentType: string | undefined): void {
  if (contentType && !/^application\/json\b/i.test(contentType)) {
    throw new OrgkitError('VALIDATION_FAILED', 'send the body as application/json', { field: 'content-type' })
  }
}

/** A 1000-check batch is ~150 KiB; nothing the API takes comes near this. */
export const MAX_BODY_BYTES = 1024 * 1024

export const bodyTooLarge = () =>
  new OrgkitError('VALIDATION_FAILED', `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`, {
    field: 'body',
  })
