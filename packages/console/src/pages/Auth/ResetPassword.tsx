import { Alert, Button, PasswordInput, Stack, Text } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { Link, navigate, useLocation } from '../../router.tsx'

/**
 * The reset mail's link (/reset-password?token=okr_…): choose a new password
 * (POST /v1/auth/password-reset/confirm). The token is spent only by submitting, and every session of
 * the account ends, so the next step is signing in with the new password.
 */
export function ResetPassword() {
  const token = useLocation().query.get('token') ?? ''
  const [done, setDone] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const form = useForm({
    initialValues: { password: '', confirm: '' },
    validate: {
      password: (v) => (v.length >= 8 ? null : 'Use at least 8 characters'),
      confirm: (v, values) => (v === values.password ? null : 'The two passwords differ'),
    },
  })
  if (!token)
    return (
      <AuthLayout title="Reset your password">
        <Alert color="red" role="alert">
          This page needs the link from the reset mail. <Link to="/forgot-password">Ask for a new one</Link>.
        </Alert>
      </AuthLayout>
    )
  return (
    <AuthLayout title="Choose a new password">
      {done ? (
        <Stack>
          <Alert color="green" role="status">
            Your password is changed and every session of your account has ended. Sign in with the new one.
          </Alert>
          <Button onClick={() => navigate('/login')}>Sign in</Button>
        </Stack>
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async ({ password }) => {
            setBusy(true)
            setError(null)
            try {
              await must(api.POST('/v1/auth/password-reset/confirm', { body: { token, password } }))
              setDone(true)
            } catch (e) {
              setError(errorMessage(e))
            } finally {
              setBusy(false)
            }
          })}
        >
          <Stack>
            {error && (
              <Alert color="red" role="alert">
                {error} <Link to="/forgot-password">Ask for a new link</Link>
              </Alert>
            )}
            <PasswordInput
              label="New password"
              autoComplete="new-password"
              required
              {...form.getInputProps('password')}
            />
            <PasswordInput
              label="Repeat the new password"
              autoComplete="new-password"
              required
              {...form.getInputProps('confirm')}
            />
            <Button type="submit" loading={busy}>
              Set new password
            </Button>
            <Text size="sm">
              <Link to="/login">Back to sign in</Link>
            </Text>
          </Stack>
        </form>
      )}
    </AuthLayout>
  )
}
