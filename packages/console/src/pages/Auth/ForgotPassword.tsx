import { Alert, Button, Stack, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { Link } from '../../router.tsx'

/**
 * Forgot password: POST /v1/auth/password-reset. The server answers the same whether or not the email
 * has an account, and so does this page: it never tells who has one.
 */
export function ForgotPassword() {
  const [sent, setSent] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const form = useForm({
    initialValues: { email: '' },
    validate: { email: (v) => (/^\S+@\S+$/.test(v.trim()) ? null : 'Enter your email') },
  })
  return (
    <AuthLayout title="Forgot your password?" subtitle="We will mail you a link to choose a new one.">
      {sent ? (
        <Alert color="green" title="Check your email" role="status">
          If an account exists for {sent}, a link to reset its password is on its way. It works once, for a
          limited time. Running locally without SMTP? The mail is in the{' '}
          <Link to="/outbox" style={{ color: 'inherit', textDecoration: 'underline' }}>
            local outbox
          </Link>
          .
        </Alert>
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async ({ email }) => {
            setBusy(true)
            setError(null)
            try {
              await must(api.POST('/v1/auth/password-reset', { body: { email: email.trim() } }))
              setSent(email.trim())
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
            <Button type="submit" loading={busy}>
              Send reset link
            </Button>
          </Stack>
        </form>
      )}
      <Text size="sm">
        Remembered it? <Link to="/login">Sign in</Link>
      </Text>
    </AuthLayout>
  )
}
