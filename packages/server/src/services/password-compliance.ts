import { orgSecurity } from '@orgkit/store'
import {
  type PasswordPolicy,
  type PasswordTraits,
  passwordTraits,
  policyId,
  unmetRules,
} from '../security/passwords.ts'
import type { Actor, Work } from './context.ts'

/**
 * Password-policy compliance, known from the moment a password is set (issue 19.4). When a password is
 * set (sign-up, change, reset) or seen (sign-in, for one set before its traits were kept), its traits are
 * measured and kept — length, character classes, common or not; never the password — with the ids of
 * every policy in use that it meets. A policy saved later is checked against those traits in its own
 * transaction (`orgSecurity.grantCompliance`), so a compliant member keeps access the instant it is saved
 * and a non-compliant one is gated at once, nobody signing in again.
 */
export async function recordCompliance(work: Work, userId: string, password: string): Promise<void> {
  const traits = passwordTraits(password)
  const compliant = (await orgSecurity.passwordPolicies(work.tx))
    .map((policy) => policy as PasswordPolicy)
    .filter((policy) => unmetRules(policy, traits).length === 0)
    .map(policyId)
  work.apply(await orgSecurity.setPasswordCompliance(work.tx, userId, traits, compliant))
}

/** What a person must do before a policy lets them in: `mfa` (enrol 2FA), `password` (change it). */
export type Unmet = 'mfa' | 'password'

export interface PersonState {
  mfa_enabled: boolean
  has_password: boolean
  password_traits: unknown
}

/**
 * Which of a proposed policy's requirements the person fails, and, for the password, which rules (by key;
 * `unknown` when the password's traits aren't known yet, `none` when there is no password). `mfa`: this
 * request proved a second factor (a host token's `amr`), which passes a 2FA requirement as the engine does.
 */
export function unmetBy(
  person: PersonState,
  policy: { requireMfa: boolean; passwordPolicy: PasswordPolicy | null },
  mfa = false,
): { unmet: Unmet[]; password: 'ok' | 'fails' | 'unknown' | 'none'; rules: (keyof PasswordPolicy)[] } {
  const unmet: Unmet[] = []
  if (policy.requireMfa && !person.mfa_enabled && !mfa) unmet.push('mfa')
  let password: 'ok' | 'fails' | 'unknown' | 'none' = 'ok'
  let rules: (keyof PasswordPolicy)[] = []
  if (policy.passwordPolicy) {
    const traits = person.password_traits as PasswordTraits | null
    if (!person.has_password) password = 'none'
    else if (!traits) password = 'unknown'
    else {
      rules = unmetRules(policy.passwordPolicy, traits)
      if (rules.length > 0) password = 'fails'
    }
    if (password !== 'ok') unmet.push('password')
  }
  return { unmet, password, rules }
}

/** Whether the actor proved a second factor on this request (`Actor.mfa`). */
export const requestMfa = (actor: Actor) => actor.kind === 'user' && actor.mfa === true
