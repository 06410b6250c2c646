/**
 * The one catalogue of Orgkit's errors. Each code is stable (clients switch on it) and has a kind; the
 * server maps kinds to HTTP statuses in one table. Core never picks a status.
 */
export type ErrorKind =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthenticated'
  | 'rate_limited'

export const ERRORS = {
  // Model and configuration (fail at start-up)
  INVALID_MODEL: 'invalid',
  // Inputs to the engine
  UNKNOWN_PERMISSION: 'invalid',
  PERMISSION_TYPE_MISMATCH: 'invalid',
  UNKNOWN_RESOURCE_TYPE: 'invalid',
  UNKNOWN_ROLE: 'invalid',
  ROLE_SCOPE_MISMATCH: 'invalid',
  INVALID_CHANGE: 'invalid',
  INVALID_CUSTOM_ROLE: 'invalid',
  // Invariants (SPEC section 2)
  LAST_OWNER: 'conflict',
  CREATOR_ROLE_LOCKED: 'forbidden',
  OWNER_REQUIRED: 'forbidden',
  ESCALATION: 'forbidden',
  RANK_TOO_LOW: 'forbidden',
  OWNER_ROLE_NO_EXPIRY: 'invalid',
  SLOT_TAKEN: 'conflict',
} as const satisfies Record<string, ErrorKind>

export type ErrorCode = keyof typeof ERRORS

export class OrgkitError extends Error {
  readonly code: ErrorCode
  readonly kind: ErrorKind
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'OrgkitError'
    this.code = code
    this.kind = ERRORS[code]
    this.details = details
  }
}

export function isOrgkitError(error: unknown, code?: ErrorCode): error is OrgkitError {
  return error instanceof OrgkitError && (code === undefined || error.code === code)
}
