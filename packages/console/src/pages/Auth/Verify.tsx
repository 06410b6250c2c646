import { Alert, Button, Loader, Stack } from '@mantine/core'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { useAsync } from '../../hooks.ts'
import { Link, useLocation } from '../../router.tsx'

// The token works once: a remount (React's StrictMode runs effects twice in development) must reuse the
// first answer instead of spending the token again.
const verifications = new Map<string, Promise<unknown>>()
const verifyOnce = (token: string) => {
  let pending = verifications.get(token)
  if (!pending) {
    pending = must(api.POST('/v1/auth/verify', { body: { token } }))
    verifications.set(token, pending)
  }
  return pending
}

/** The landing page of the verification mail's link (/verify?token=…): verifies and signs in. */
export function Verify() {
  const token = useLocation().query.get('token') ?? ''
  const result = useAsync(() => verifyOnce(token), [token])
  return (
    <AuthLayout title="Verify your email">
      {result.loading ? (
        <Loader aria-label="Verifying" />
      ) : result.error ? (
        <Stack>
          <Alert color="red" role="alert">
            {errorMessage(result.error)}
          </Alert>
          <Link to="/login">Sign in</Link>
        </Stack>
      ) : (
        <Stack>
          <Alert color="green" role="status">
            Your email is verified and you are signed in.
          </Alert>
          <Button onClick={() => window.location.assign('/')}>Open the console</Button>
        </Stack>
      )}
    </AuthLayout>
  )
}
