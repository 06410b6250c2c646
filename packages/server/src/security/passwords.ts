import { createHash } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'
import { OrgkitError } from '@orgkit/core'
import type { orgSecurity } from '@orgkit/store'
import type { Caches } from '../caches.ts'
import { COMMON_PASSWORDS } from './common-passwords.ts'

/** Every account: at least 8 characters (NIST's floor), at most 1024 (kept whole: no truncation). */
export const MIN_LENGTH = 8
export const MAX_LENGTH = 1024

/**
 * argon2id with the library's defaults (m=19 MiB, t=2, p=1: OWASP's recommended minimum), ~16 ms of CPU a
 * hash or a check. `cost` lowers them: only tests do (ServerOptions.passwordHashCost), where hashing isn't
 * the subject. A check reads the parameters from the hash, so it costs what the hash was made with.
 */
export interface PasswordHashCost {
  /** KiB of memory. */
  memoryCost: number
  /** Passes over it. */
  timeCost: number
}
export const hashPassword = (password: string, cost?: PasswordHashCost) =>
  cost ? hash(password, cost) : hash(password)
export const verifyPassword = (hashed: string, password: string) =>
  verify(hashed, password).catch(() => false)

/**
 * A hash to verify against when the account doesn't exist, so timing doesn't reveal it: made once per
 * server, on first use (kept in `caches`).
 */
export const dummyHash = (caches: Pick<Caches, 'dummyPasswordHash'>, cost?: PasswordHashCost) => {
  caches.dummyPasswordHash ??= hashPassword('not a real password, only here for timing', cost)
  return caches.dummyPasswordHash
}

/**
 * An org's password policy (SPEC 3). Current NIST guidance favours length and a breached-password
 * list over composition rules, so those are the defaults; the composition rules are options.
 */
export interface PasswordPolicy {
  minLength: number
  requireUpper: boolean
  requireDigit: boolean
  requireSpecial: boolean
  rejectCommon: boolean
}

export const DEFAULT_POLICY: PasswordPolicy = {
  minLength: 12,
  requireUpper: false,
  requireDigit: false,
  requireSpecial: false,
  rejectCommon: true,
}

/** A fingerprint of the rules: members are compliant with a policy id, not with an org. */
export function policyId(policy: PasswordPolicy): string {
  const canonical = JSON.stringify([
    policy.minLength,
    policy.requireUpper,
    policy.requireDigit,
    policy.requireSpecial,
    policy.rejectCommon,
  ])
  return `pw_${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`
}

/** Which rules the password breaks (empty: it complies). Length counts characters, not bytes. */
export function policyViolations(policy: PasswordPolicy, password: string): string[] {
  const broken: string[] = []
  if ([...password].length < policy.minLength) broken.push(`at least ${policy.minLength} characters`)
  if (policy.requireUpper && !/\p{Lu}/u.test(password)) broken.push('an upper-case letter')
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) broken.push('a digit')
  if (policy.requireSpecial && !/[^\p{L}\p{Nd}]/u.test(password)) broken.push('a special character')
  if (policy.rejectCommon && isCommon(password)) broken.push('not a common or breached password')
  return broken
}

export const isCommon = (password: string) => COMMON_PASSWORDS.has(password.toLowerCase())

/** The floor every account meets, whatever its orgs require. */
export function assertAcceptablePassword(password: string, field = 'password'): void {
  const length = [...password].length
  if (length < MIN_LENGTH || length > MAX_LENGTH || isCommon(password)) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `a password needs ${MIN_LENGTH} to ${MAX_LENGTH} characters and must not be a common one`,
      { field },
    )
  }
}

/**
 * What any policy asks of a password, measured when it is set and kept instead of it (migration 0012):
 * compliance with a policy saved later is then known at once, without the password (issue 19.4). Length is
 * capped at 128, the longest minimum a policy may ask, so the stored number says no more than needed.
 */
export type PasswordTraits = orgSecurity.PasswordTraits

export function passwordTraits(password: string): PasswordTraits {
  return {
    length: Math.min([...password].length, 128),
    upper: /\p{Lu}/u.test(password),
    digit: /\p{Nd}/u.test(password),
    special: /[^\p{L}\p{Nd}]/u.test(password),
    common: isCommon(password),
  }
}

/** The policy's rules a password with these traits breaks, by the rule's key (empty: it complies). */
export function unmetRules(policy: PasswordPolicy, traits: PasswordTraits): (keyof PasswordPolicy)[] {
  const broken: (keyof PasswordPolicy)[] = []
  if (traits.length < policy.minLength) broken.push('minLength')
  if (policy.requireUpper && !traits.upper) broken.push('requireUpper')
  if (policy.requireDigit && !traits.digit) broken.push('requireDigit')
  if (policy.requireSpecial && !traits.special) broken.push('requireSpecial')
  if (policy.rejectCommon && traits.common) broken.push('rejectCommon')
  return broken
}
