import { Alert, Badge, Button, Group, Loader, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { AuthLayout } from '../../components/AuthLayout.tsx'
import { useAsync } from '../../hooks.ts'
import { Link } from '../../router.tsx'
import { useSession } from '../../session.tsx'
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
  const [joined, setJoined] = useState(false)
  const inv = invitation.data
  const accept = async () => {
    setBusy(true)
    setError(null)
    try {
      await must(api.POST('/v1/invitations/{token}/accept', { params: { path: { token } } }))
      setJoined(true)
    } catch (e) {
      setError(errorMessage(e))
      setBusy(false)
    }
  }
  // The same words as every other screen for these roles: the labels the API names them by.
  const labels = inv ? (inv.roleLabels.length > 0 ? inv.roleLabels : [inv.role]) : []
  const invitedName = [inv?.firstName, inv?.lastName].filter(Boolean).join(' ')
  if (inv && joined)
    return (
      <AuthLayout
        title={inv.resourceName ? `You have access to ${inv.resourceName}` : `You joined ${inv.orgName}`}
      >
        <Alert color="green" role="status" title={`Welcome to ${inv.orgName}`}>
          {inv.resourceName
            ? `You can now open ${inv.resourceName} in ${inv.orgName} as ${labels.join(', ')}.`
            : `You are now a member of ${inv.orgName} as ${labels.join(', ')}.`}
        </Alert>
        {/* A full load: the session's organizations now include this one. */}
        <Button onClick={() => window.location.assign(`/orgs/${inv.orgId}`)}>Open {inv.orgName}</Button>
      </AuthLayout>
    )
  return (
    <AuthLayout title="Accept invitation">
      {invitation.loading ? (
        <Loader aria-label="Loading invitation" />
      ) : invitation.error || !inv ? (
        // A way on, as the verification page offers when its link is spent (Verify.tsx).
        <Stack>
          <Alert color="red" role="alert">
            {errorMessage(invitation.error)}
          </Alert>
          {me ? <Link to="/">Open the console</Link> : <Link to="/login">Sign in</Link>}
        </Stack>
      ) : (
        <Stack>
          <Text>
            You are invited to join <b>{inv.orgName}</b> as{' '}
            {labels.map((label) => (
              <Badge key={label} variant="light" tt="none" mr={4}>
                {label}
              </Badge>
            ))}
          </Text>
          {inv.resourceId && (
            <Text size="sm">
              This gives you access to {inv.resourceName ?? 'one of its items'} only, as an outside
              collaborator (not a member).
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
                name={invitedName}
                onSignedIn={() => setJoined(true)}
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
