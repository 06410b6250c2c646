import { Alert, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { Link, useLocation } from '../../router.tsx'

/** "Forgot password": the server mails a link to /reset-password (the same answer for unknown emails). */
export function ForgotPassword() {
  const [sent, setSent] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const form = useForm({
    initialValues: { email: '' },
    validate: { email: (v) => (/^\S+@\S+$/.test(v) ? null : 'Enter your email') },
  })
  return (
    <AuthLayout title="Reset your password">
      {sent ? (
        <Alert color="green" role="status">
          If that email has an account, a reset link is on its way. Running locally without SMTP? It is in the{' '}
          <Link to="/outbox">local outbox</Link>.
        </Alert>
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async (values) => {
            setError(null)
            try {
              await must(api.POST('/v1/auth/password-reset', { body: values }))
              setSent(true)
            } catch (e) {
              setError(errorMessage(e))
            }
          })}
        >
          <Stack>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <TextInput
              label="Email"
              type="email"
              autoComplete="email"
              required
              {...form.getInputProps('email')}
            />
            <Button type="submit">Send reset link</Button>
          </Stack>
        </form>
      )}
      <Text size="sm">
        <Link to="/login">Back to sign in</Link>
      </Text>
    </AuthLayout>
  )
}

/** The reset mail's link (/reset-password?token=…): choose a new password, then sign in with it. */
export function ResetPassword() {
  const token = useLocation().query.get('token') ?? ''
  const [done, setDone] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const form = useForm({
    initialValues: { password: '' },
    validate: { password: (v) => (v.length >= 8 ? null : 'Use at least 8 characters') },
  })
  return (
    <AuthLayout title="Choose a new password">
      {done ? (
        <Alert color="green" role="status">
          Your password is changed. <Link to="/login">Sign in</Link>
        </Alert>
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async (values) => {
            setError(null)
            try {
              await must(
                api.POST('/v1/auth/password-reset/confirm', { body: { token, password: values.password } }),
              )
              setDone(true)
            } catch (e) {
              setError(errorMessage(e))
            }
          })}
        >
          <Stack>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <PasswordInput
              label="New password"
              autoComplete="new-password"
              required
              {...form.getInputProps('password')}
            />
            <Button type="submit">Set password</Button>
          </Stack>
        </form>
      )}
    </AuthLayout>
  )
}
