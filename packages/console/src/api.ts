import { createOrgkitClient, must, OrgkitApiError, type ProblemCode } from '@orgkit/sdk'
import { billingProblem } from './pages/Billing/problems.ts'

/** The one API client: same origin, the session cookie, CSRF echoed on writes (packages/sdk). */
export const api = createOrgkitClient()
export { must, OrgkitApiError }

/** What to tell a person for a problem's stable code; the server's `detail` says the specifics. */
const HINTS: Partial<Record<ProblemCode, string>> = {
  INVALID_CREDENTIALS: 'Wrong email or password.',
  MFA_INVALID: 'That code is not valid. Try the current one from your authenticator app.',
  EMAIL_NOT_VERIFIED:
    'Verify your email first: open the link we sent you (without SMTP, it is in the local outbox). Lost it, or too old? Reset your password: its link verifies your email too.',
  CAPTCHA_FAILED: 'The captcha check failed. Verify again.',
  CAPTCHA_REQUIRED: 'Tick "I\'m not a robot" first: this account had several failed sign-ins lately.',
  FORBIDDEN: 'You are not allowed to do this: ask an owner of the organization for the access.',
  ORG_NOT_FOUND: 'This organization does not exist, or you are not in it.',
  RESOURCE_NOT_FOUND: 'It no longer exists, or you can no longer see it.',
  RANK_TOO_LOW: 'You cannot grant or change a role above your own.',
  UNAUTHENTICATED: 'Your session ended. Sign in again.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  CSRF_FAILED: 'Your session needs a refresh. Reload the page.',
  MFA_REQUIRED: 'This organization requires two-factor authentication: enrol it on your account page first.',
  PASSWORD_POLICY:
    "Your password doesn't meet this organization's policy: change it on your account page first.",
  POLICY_NOT_MET_BY_YOU: "You don't meet this policy yourself: it would lock you out.",
  SSO_NOT_AVAILABLE: 'Single sign-on is not set up for this address: sign in with your password.',
  SSO_NOT_READY: 'Not yet: see what to do first.',
}

/** The server's detail as one sentence: capitalised, ending in a full stop. */
const sentence = (text: string) => {
  const t = text.trim()
  const capital = t.charAt(0).toUpperCase() + t.slice(1)
  return /[.!?:]$/.test(capital) ? capital : `${capital}.`
}

/**
 * The one place an API error becomes words (issue 26.5): one sentence saying what to do — the hint for its
 * code (a screen may pass its own), else the server's detail as a sentence. No raw codes, said once.
 */
export function errorMessage(error: unknown, hints: Partial<Record<ProblemCode, string>> = {}): string {
  if (error instanceof OrgkitApiError) {
    const billing = billingProblem(error.code, error.problem.details)
    if (billing) return billing
    const hint = hints[error.code] ?? HINTS[error.code]
    if (hint) return hint
    if (error.problem.detail) return sentence(error.problem.detail)
    return error.problem.title ? sentence(error.problem.title) : 'That did not work: try again.'
  }
  return error instanceof Error ? sentence(error.message) : String(error)
}

export const codeOf = (error: unknown): ProblemCode | undefined =>
  error instanceof OrgkitApiError ? error.code : undefined
