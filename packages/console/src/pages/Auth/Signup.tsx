import { Alert, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { Link } from '../../router.tsx'

export interface SignupFormProps {
  /** An invitation's token: the account is verified and joins the org at once. */
  invitation?: string
  email?: string
  /** The name the inviter typed, prefilled. */
  name?: string
  onSignedIn?: () => void
}

export function SignupForm({ invitation, email = '', name = '', onSignedIn }: SignupFormProps) {
  const [error, setError] = useState<string | null>(null)
  const [sent, setSent] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const form = useForm({
    initialValues: { name, email, password: '' },
    validate: {
      name: (v) => (v.trim() ? null : 'Enter your name'),
      email: (v) => (/^\S+@\S+$/.test(v) ? null : 'Enter a valid email'),
      password: (v) => (v.length >= 8 ? null : 'Use at least 8 characters'),
    },
  })
  if (sent)
    return (
      <Alert color="green" title="Check your email" role="status">
        We sent a verification link to {sent}. Open it to finish signing up. Running locally without SMTP? The
        link is in the{' '}
        <Link to="/outbox" inherit>
          local outbox
        </Link>
        . Already had an account with this email? The mail says so instead: sign in, or{' '}
        <Link to="/forgot-password" inherit>
          reset your password
        </Link>
        .
      </Alert>
    )
  return (
    <form
      noValidate
      onSubmit={form.onSubmit(async (values) => {
        setBusy(true)
        setError(null)
        try {
          const outcome = await must(
            api.POST('/v1/auth/signup', { body: { ...values, ...(invitation && { invitation }) } }),
          )
          if (outcome.status === 'signed_in') (onSignedIn ?? (() => window.location.assign('/')))()
          else setSent(values.email)
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
        <TextInput label="Name" autoComplete="name" required {...form.getInputProps('name')} />
        <TextInput
          label="Email"
          type="email"
          autoComplete="email"
          required
          readOnly={!!invitation && !!email}
          {...form.getInputProps('email')}
        />
        <PasswordInput
          label="Password"
          autoComplete="new-password"
          required
          {...form.getInputProps('password')}
        />
        <Button type="submit" loading={busy}>
          {invitation ? 'Create account and join' : 'Create account'}
        </Button>
      </Stack>
    </form>
  )
}

export function Signup() {
  return (
    <AuthLayout title="Create your account">
      <SignupForm />
      <Text size="sm">
        Already have an account? <Link to="/login">Sign in</Link>
      </Text>
    </AuthLayout>
  )
}
