import { Alert, Button, Text } from '@mantine/core'
import { api, codeOf, must } from '../api.ts'
import { useAsync } from '../hooks.ts'
import { navigate } from '../router.tsx'

/**
 * An org's policy gate, said where the refused content would be (issue 19.4: nobody is locked out
 * silently): the API answers 403 MFA_REQUIRED / PASSWORD_POLICY to a member who belongs but must enrol 2FA
 * or change their password first, and the banner leads to that page of their account.
 */
const GATES = {
  MFA_REQUIRED: {
    title: 'This organization requires two-factor authentication',
    text: 'Enrol an authenticator app on your account; you get access again as soon as it is on.',
    action: 'Enrol two-factor authentication',
    to: '/account#two-factor',
  },
  PASSWORD_POLICY: {
    title: "Your password doesn't meet this organization's password policy",
    text: 'Choose a new password that meets it; you get access again as soon as it is changed.',
    action: 'Change your password',
    to: '/account#password',
  },
} as const
type Gate = keyof typeof GATES

/** The gate an API error names, if it names one. */
export const gateOf = (error: unknown): Gate | null => {
  const code = codeOf(error)
  return code === 'MFA_REQUIRED' || code === 'PASSWORD_POLICY' ? code : null
}

export function GateBanner({ gate }: { gate: Gate }) {
  const { title, text, action, to } = GATES[gate]
  return (
    <Alert color="yellow" title={title} role="alert" data-testid="policy-gate">
      <Text size="sm" mb="sm">
        {text}
      </Text>
      <Button size="xs" onClick={() => navigate(to)}>
        {action}
      </Button>
    </Alert>
  )
}

const GATE_OF_REASON: Record<string, Gate> = {
  mfa_required: 'MFA_REQUIRED',
  password_policy: 'PASSWORD_POLICY',
}

/**
 * The banner for an org page whose own reads don't fail (its tabs follow checks, and a gated member's
 * checks are all denied): asks the engine why, and shows the banner when a gate is the answer.
 */
export function OrgGate({ orgId }: { orgId: string }) {
  const gate = useAsync(async () => {
    const answer = await must(
      api.POST('/v1/check', { body: { permission: 'org.read', resource: { org: orgId } } }),
    )
    return GATE_OF_REASON[answer.reason] ?? null
  }, [orgId])
  return gate.data ? <GateBanner gate={gate.data} /> : null
}
