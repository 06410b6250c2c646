import { Alert, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, codeOf, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { Captcha } from '../../components/Captcha.tsx'
import { Link, useLocation } from '../../router.tsx'

/**
 * Sign in; when the account has 2FA the server answers MFA_CODE_REQUIRED and a second step asks for a code.
 * Under a guessing attack on the account it answers CAPTCHA_REQUIRED, and the proof-of-work box appears.
 * "Sign in with SSO" sends the browser to the identity provider of the org whose verified domain the email
 * is in (issue 21.1); an org that requires SSO answers a password sign-in with SSO_REQUIRED, which opens it.
 */
export function Login() {
  const { query } = useLocation()
  const next = query.get('next') ?? '/'
  const [step, setStep] = useState<'password' | 'mfa'>('password')
  const [sso, setSso] = useState(query.get('sso') === '1' || query.has('ssoError'))
  const [useRecovery, setUseRecovery] = useState(false)
  const [error, setError] = useState<string | null>(ssoProblem(query.get('ssoError'), query.get('reason')))
  const [busy, setBusy] = useState(false)
  // After several failed sign-ins to an account the server asks for a captcha (CAPTCHA_REQUIRED) instead of
  // locking it; each solution is spent by one attempt, so the widget starts over after each (`round`).
  const [captchaAsked, setCaptchaAsked] = useState(false)
  const [captcha, setCaptcha] = useState<string | null>(null)
  const [round, setRound] = useState(0)
  const form = useForm({
    initialValues: { email: '', password: '', code: '' },
    validate: {
      email: (v) => (/^\S+@\S+$/.test(v) ? null : 'Enter your email'),
      password: (v) => (v ? null : 'Enter your password'),
    },
  })
  const submit = form.onSubmit(async (values) => {
    setBusy(true)
    setError(null)
    try {
      const code = values.code.trim()
      await must(
        api.POST('/v1/auth/login', {
          body: {
            email: values.email,
            password: values.password,
            ...(step === 'mfa' && code && (useRecovery ? { recoveryCode: code } : { totp: code })),
            ...(captcha && { captcha }),
          },
        }),
      )
      // A full load: the session cookie is new, every screen starts from it.
      window.location.assign(next.startsWith('/') ? next : '/')
    } catch (e) {
      if (captcha) {
        setCaptcha(null)
        setRound((r) => r + 1)
      }
      if (codeOf(e) === 'MFA_CODE_REQUIRED') setStep('mfa')
      else if (codeOf(e) === 'SSO_REQUIRED') {
        setSso(true)
        setError('Your organization signs you in with single sign-on: continue with SSO.')
      } else if (codeOf(e) === 'CAPTCHA_REQUIRED') {
        setCaptchaAsked(true)
        setError('This account had several failed sign-ins lately: tick the box below, then sign in again.')
      } else setError(errorMessage(e))
      setBusy(false)
    }
  })
  if (sso)
    return (
      <SsoSignIn
        email={form.values.email}
        next={next}
        error={error}
        onPassword={() => {
          setSso(false)
          setError(null)
        }}
      />
    )
  return (
    <AuthLayout
      title={step === 'mfa' ? 'Two-factor authentication' : 'Sign in'}
      subtitle={step === 'mfa' ? 'Enter the code from your authenticator app.' : undefined}
    >
      <form onSubmit={submit} noValidate>
        <Stack>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          {step === 'password' ? (
            <>
              <TextInput
                label="Email"
                type="email"
                autoComplete="email"
                required
                {...form.getInputProps('email')}
              />
              <PasswordInput
                label="Password"
                autoComplete="current-password"
                required
                {...form.getInputProps('password')}
              />
            </>
          ) : (
            <>
              <TextInput
                label={useRecovery ? 'Recovery code' : 'Authentication code'}
                autoComplete="one-time-code"
                inputMode={useRecovery ? 'text' : 'numeric'}
                data-autofocus
                autoFocus
                {...form.getInputProps('code')}
              />
              <Button variant="subtle" size="xs" onClick={() => setUseRecovery((r) => !r)}>
                {useRecovery ? 'Use an authenticator code' : 'Use a recovery code instead'}
              </Button>
            </>
          )}
          {captchaAsked && <Captcha key={round} onSolved={setCaptcha} />}
          <Button type="submit" loading={busy} disabled={captchaAsked && !captcha}>
            {step === 'mfa' ? 'Verify' : 'Sign in'}
          </Button>
          {step === 'password' && (
            <Button variant="default" onClick={() => setSso(true)}>
              Use single sign-on (SSO)
            </Button>
          )}
          <Text size="sm">
            No account?{' '}
            <Link to={`/signup${query.get('next') ? `?next=${encodeURIComponent(next)}` : ''}`}>Sign up</Link>
            {' · '}
            <Link to="/forgot-password">Forgot password?</Link>
            {' · '}
            <Link to="/outbox">Local outbox</Link>
          </Text>
        </Stack>
      </form>
    </AuthLayout>
  )
}

/** What a refused SSO sign-in (the callback's `ssoError` and `reason`) means to the person. */
function ssoProblem(code: string | null, reason: string | null): string | null {
  if (!code) return null
  const what: Record<string, string> = {
    SSO_FAILED: 'Single sign-on did not complete',
    SSO_EMAIL_TAKEN:
      'An account already has this email, and your identity provider did not confirm the email is yours',
    SSO_NOT_AVAILABLE: 'Single sign-on is not available for this address (the connection may be disabled)',
  }
  return `${what[code] ?? 'Single sign-on failed'}${reason ? ` (${reason.replaceAll('_', ' ')})` : ''}. [${code}]`
}

function SsoSignIn(props: { email: string; next: string; error: string | null; onPassword: () => void }) {
  const [email, setEmail] = useState(props.email)
  const [error, setError] = useState<string | null>(props.error)
  const [busy, setBusy] = useState(false)
  return (
    <AuthLayout title="Sign in with SSO" subtitle="We send you to your organization's identity provider.">
      <form
        noValidate
        onSubmit={async (event) => {
          event.preventDefault()
          setBusy(true)
          setError(null)
          try {
            const started = await must(
              api.POST('/v1/auth/sso/start', {
                body: { email: email.trim(), returnTo: props.next.startsWith('/') ? props.next : '/' },
              }),
            )
            window.location.assign(started.redirectUrl)
          } catch (e) {
            setError(errorMessage(e))
            setBusy(false)
          }
        }}
      >
        <Stack>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <TextInput
            label="Work email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
          />
          <Button type="submit" loading={busy}>
            Continue with SSO
          </Button>
          <Button variant="subtle" size="xs" onClick={props.onPassword}>
            Use a password instead
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  )
}
