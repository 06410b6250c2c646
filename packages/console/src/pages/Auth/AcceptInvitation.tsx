import { Alert, Badge, Button, Group, Loader, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { useAsync } from '../../hooks.ts'
import { Link } from '../../router.tsx'
import { useSession } from '../../session.tsx'
import { roleLabel } from '../../types.ts'
import { SignupForm } from './Signup.tsx'

/** The invitation mail's link (/invitations/<token>): join as the signed-in user, or sign up and join. */
export function AcceptInvitation({ token }: { token: string }) {
  const { me } = useSession()
  const invitation = useAsync(
    () => must(api.GET('/v1/invitations/{token}', { params: { path: { token } } })),
    [token],
  )
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const inv = invitation.data
  const accept = async () => {
    setBusy(true)
    setError(null)
    try {
      const joined = (await must(
        api.POST('/v1/invitations/{token}/accept', { params: { path: { token } } }),
      )) as {
        orgId?: string
      }
      window.location.assign(joined.orgId ? `/orgs/${joined.orgId}/apps` : '/')
    } catch (e) {
      setError(errorMessage(e))
      setBusy(false)
    }
  }
  return (
    <AuthLayout title="Accept invitation">
      {invitation.loading ? (
        <Loader aria-label="Loading invitation" />
      ) : invitation.error || !inv ? (
        <Alert color="red" role="alert">
          {errorMessage(invitation.error)}
        </Alert>
      ) : (
        <Stack>
          <Text>
            You are invited to join <b>{inv.orgName}</b> as{' '}
            {(inv.roles.length > 0 ? inv.roles : [inv.role]).map((r) => (
              <Badge key={r} variant="light" mr={4}>
                {roleLabel(undefined, r)}
              </Badge>
            ))}
          </Text>
          {inv.resourceId && (
            <Text size="sm">
              This gives you access to one of its items only, as an external account (not a member).
            </Text>
          )}
          <Text size="sm" c="dimmed">
            Invitation for {inv.email}, valid until {new Date(inv.expiresAt).toLocaleString()}.
          </Text>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          {me ? (
            <Group>
              <Button onClick={accept} loading={busy}>
                Accept invitation
              </Button>
              <Text size="sm">as {me.email}</Text>
            </Group>
          ) : (
            <>
              <SignupForm
                invitation={token}
                email={inv.email}
                onSignedIn={() => window.location.assign('/')}
              />
              <Text size="sm">
                Already have an account?{' '}
                <Link to={`/login?next=${encodeURIComponent(`/invitations/${token}`)}`}>
                  Sign in to accept
                </Link>
              </Text>
            </>
          )}
        </Stack>
      )}
    </AuthLayout>
  )
}
