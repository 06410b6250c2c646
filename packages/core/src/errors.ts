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
  /** A body sent without a media type the operation takes (issue 22.3): HTTP's 415. */
  | 'unsupported_media_type'
  /** Something Orgkit depends on (a DNS resolver) did not answer: try again later. HTTP's 503. */
  | 'unavailable'

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
  LAST_OWNED_ORG: 'conflict',
  /** Seed 001: every account belongs to an org; leaving or deleting one's last one waits for another. */
  LAST_ORG: 'conflict',
  CREATOR_ROLE_LOCKED: 'forbidden',
  OWNER_REQUIRED: 'forbidden',
  ESCALATION: 'forbidden',
  RANK_TOO_LOW: 'forbidden',
  OWNER_ROLE_NO_EXPIRY: 'invalid',
  SLOT_TAKEN: 'conflict',
  // Requests (the server's use cases)
  VALIDATION_FAILED: 'invalid',
  /** A body without `Content-Type: application/json` where an operation takes one. */
  UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  UNAUTHENTICATED: 'unauthenticated',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  ORG_NOT_FOUND: 'not_found',
  USER_NOT_FOUND: 'not_found',
  MEMBER_NOT_FOUND: 'not_found',
  RESOURCE_NOT_FOUND: 'not_found',
  GROUP_NOT_FOUND: 'not_found',
  BINDING_NOT_FOUND: 'not_found',
  ROLE_NOT_FOUND: 'not_found',
  ALREADY_MEMBER: 'conflict',
  ALREADY_EXISTS: 'conflict',
  EMAIL_TAKEN: 'conflict',
  SUB_ORGS_DISABLED: 'invalid',
  ORG_HAS_CHILDREN: 'conflict',
  BUILT_IN_GROUP: 'conflict',
  ROLE_IN_USE: 'conflict',
  RESOURCE_IN_USE: 'conflict',
  NOT_A_MEMBER: 'invalid',
  /** Seed 003: with single-role teams on, per-member levels are suspended: the team's own level applies. */
  MEMBER_ROLES_SUSPENDED: 'conflict',
  REVISION_NOT_REACHED: 'conflict',
  PLATFORM_ONLY: 'forbidden',
  /** An org's policy gate (SPEC 1.2): the member belongs, and must enrol 2FA / change their password first. */
  MFA_REQUIRED: 'forbidden',
  PASSWORD_POLICY: 'forbidden',
  /**
   * Setting a security policy its actor doesn't meet (SPEC 3: they'd lock themselves out). `details.unmet`
   * says what to do first: `mfa` (enrol 2FA), `password` (change it; `details.rules`: which rules it breaks).
   */
  POLICY_NOT_MET_BY_YOU: 'conflict',
  // Accounts and invitations (SPEC 3)
  INVALID_CREDENTIALS: 'unauthenticated',
  /** Sign-in's second step: the account has 2FA and no code came. */
  MFA_CODE_REQUIRED: 'unauthenticated',
  MFA_INVALID: 'unauthenticated',
  EMAIL_NOT_VERIFIED: 'unauthenticated',
  CSRF_FAILED: 'forbidden',
  RATE_LIMITED: 'rate_limited',
  SIGNUP_CLOSED: 'forbidden',
  CAPTCHA_FAILED: 'invalid',
  /** Sign-in to an account that failed several times lately: send a solved captcha (issue 22.1). */
  CAPTCHA_REQUIRED: 'unauthenticated',
  MFA_ALREADY_ENABLED: 'conflict',
  MFA_NOT_ENROLLED: 'invalid',
  INVITATION_INVALID: 'not_found',
  INVITATION_WRONG_EMAIL: 'forbidden',
  API_KEY_POLICY: 'invalid',
  TOKEN_INVALID: 'not_found',
  // SCIM directory sync (issue 21.3); the SCIM endpoints answer these in RFC 7644's error schema
  SCIM_TOKEN_NOT_FOUND: 'not_found',
  /** A SCIM user or group id unknown in the token's org (never a hint of another org's). */
  SCIM_RESOURCE_NOT_FOUND: 'not_found',
  /** A filter beyond what is served (`eq` on the listed attributes, `and`, `or`): scimType invalidFilter. */
  SCIM_INVALID_FILTER: 'invalid',
  /** A request SCIM can't take: `details.scimType` (invalidValue, invalidPath, noTarget, invalidSyntax, mutability). */
  SCIM_INVALID: 'invalid',
  /** A `userName` (or a person) the org's directory already has: scimType uniqueness. */
  SCIM_UNIQUENESS: 'conflict',
  /** The org's directory manages this group: its members, name and deletion are the directory's. */
  DIRECTORY_MANAGED: 'conflict',
  // Plans and billing (issue #9); limits name themselves in details: { limit, max, current }
  PLAN_LIMIT_REACHED: 'conflict',
  PLAN_FEATURE_UNAVAILABLE: 'forbidden',
  PLAN_DOWNGRADE_BLOCKED: 'conflict',
  UNKNOWN_PLAN: 'invalid',
  INSUFFICIENT_CREDITS: 'conflict',
  INVOICE_NOT_FOUND: 'not_found',
  INVOICE_NOT_OPEN: 'conflict',
  NOTHING_TO_INVOICE: 'conflict',
  // Verified domains (issue 21.2)
  /** Not a host name (empty, an IP address, one label, bad characters): `details.domain`. */
  DOMAIN_INVALID: 'invalid',
  /** A public mail provider's domain (gmail.com…): its people are no one organization's. */
  DOMAIN_PUBLIC: 'invalid',
  DOMAIN_NOT_FOUND: 'not_found',
  /** Another org holds this domain verified. */
  DOMAIN_TAKEN: 'conflict',
  /** Joining through a domain needs it verified first. */
  DOMAIN_NOT_VERIFIED: 'conflict',
  /** Verification found no TXT record at `details.name`. */
  DOMAIN_RECORD_MISSING: 'conflict',
  /** Verification found TXT records at `details.name`, none of them `details.expected` (`details.found`). */
  DOMAIN_RECORD_MISMATCH: 'conflict',
  /** The DNS resolver did not answer (timeout, refused, SERVFAIL): nothing was decided; try again. */
  DNS_UNAVAILABLE: 'unavailable',
  /** A table changed shape under a prepared statement (another instance's migration): nothing was done; try again. */
  SCHEMA_CHANGED: 'unavailable',
  // Host tokens: the host product's own JWTs, verified against its JWKS (issue 20); details say more
  JWT_MALFORMED: 'unauthenticated',
  /** Only RS256, ES256 and EdDSA: never `none`, never an HMAC (whose key could be the public key). */
  JWT_ALGORITHM_REFUSED: 'unauthenticated',
  JWT_SIGNATURE_INVALID: 'unauthenticated',
  JWT_EXPIRED: 'unauthenticated',
  JWT_ISSUER_MISMATCH: 'unauthenticated',
  JWT_AUDIENCE_MISMATCH: 'unauthenticated',
  /** A claim missing or unusable (`exp`, `sub`, a future `nbf`…): `details.claim` names it. */
  JWT_CLAIM_INVALID: 'unauthenticated',
  /** The token's `kid` is in none of the JWKS's keys, even after fetching it again. */
  JWT_KEY_UNKNOWN: 'unauthenticated',
  /** The JWKS could not be fetched or read: nothing can be verified until it can. */
  JWKS_UNAVAILABLE: 'unauthenticated',
  /** No user has the token's `sub` as externalId, and the token has no `email` to create one with. */
  JWT_USER_UNKNOWN: 'unauthenticated',
  /** An account has the token's email and can't be linked (`email_verified` not true, or linked elsewhere). */
  JWT_EMAIL_TAKEN: 'unauthenticated',
  EXTERNAL_ID_TAKEN: 'conflict',
  // Per-org SSO (issue 21): details say more
  SSO_CONNECTION_NOT_FOUND: 'not_found',
  /** No enabled connection signs this email (or this connection id) in. */
  SSO_NOT_AVAILABLE: 'not_found',
  /** The provider's answer failed a check (state, nonce, issuer, audience, signature…): `details.reason`. */
  SSO_FAILED: 'unauthenticated',
  /** An account has this email and the provider did not vouch for it (`email_verified`): it is not linked. */
  SSO_EMAIL_TAKEN: 'unauthenticated',
  /** The person's org signs its verified domains in through SSO only: `details.orgId`, `details.connectionId`. */
  SSO_REQUIRED: 'forbidden',
  /** "SSO required" needs an enabled, tested connection first (`details.missing` says what). */
  SSO_NOT_READY: 'conflict',
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
