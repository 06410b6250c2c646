import type { Decision } from './data.ts'

/**
 * Every decision the engine returns, one frozen object each: a check allocates none, and the dense index
 * (dense.ts) and the object walk (evaluate.ts) hand back the very same objects.
 */
const decision = <D extends Decision>(d: D): D => Object.freeze(d)
export const ALLOW_ROLE = decision({ allowed: true, reason: 'role' } as const)
export const ALLOW_OVERRIDE = decision({ allowed: true, reason: 'override' } as const)
export const DENY_NOT_FOUND = decision({ allowed: false, reason: 'not_found' } as const)
export const DENY_KEY_REVOKED = decision({ allowed: false, reason: 'key_revoked' } as const)
export const DENY_KEY_EXPIRED = decision({ allowed: false, reason: 'key_expired' } as const)
export const DENY_KEY_SCOPE = decision({ allowed: false, reason: 'key_scope' } as const)
export const DENY_MFA = decision({ allowed: false, reason: 'mfa_required' } as const)
export const DENY_PASSWORD = decision({ allowed: false, reason: 'password_policy' } as const)
export const DENY_OVERRIDE = decision({ allowed: false, reason: 'override_deny' } as const)
export const DENY_NO_GRANT = decision({ allowed: false, reason: 'no_grant' } as const)
