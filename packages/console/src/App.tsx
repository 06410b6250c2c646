import { Center, Loader } from '@mantine/core'
import { type ReactNode, useEffect } from 'react'
import { Shell } from './components/Shell.tsx'
import { Account } from './pages/Account/Account.tsx'
import { AppDetail } from './pages/Apps/AppDetail.tsx'
import { Apps } from './pages/Apps/Apps.tsx'
import { AcceptInvitation } from './pages/Auth/AcceptInvitation.tsx'
import { ForgotPassword } from './pages/Auth/ForgotPassword.tsx'
import { Login } from './pages/Auth/Login.tsx'
import { ResetPassword } from './pages/Auth/ResetPassword.tsx'
import { Signup } from './pages/Auth/Signup.tsx'
import { Verify } from './pages/Auth/Verify.tsx'
import { Explain } from './pages/Explain/Explain.tsx'
import { CreateOrg } from './pages/Orgs/CreateOrg.tsx'
import { Outbox } from './pages/Outbox/Outbox.tsx'
import { OrgSettings } from './pages/Settings/OrgSettings.tsx'
import { match, navigate, useLocation } from './router.tsx'
import { useSession } from './session.tsx'

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to])
  return null
}

export function App() {
  const { path } = useLocation()
  const { me, orgs } = useSession()
  // Screens anyone may open: signing in, a mail's link, and the local outbox.
  if (path === '/login' || path === '/sign-in') return <Login />
  if (path === '/signup') return <Signup />
  if (path === '/verify') return <Verify />
  if (path === '/forgot-password') return <ForgotPassword />
  if (path === '/reset-password') return <ResetPassword />
  const invitation = match('/invitations/:token', path)
  if (invitation) return <AcceptInvitation token={invitation.token!} />
  if (path === '/outbox' && !me) return <Outbox />
  if (!me) return <Redirect to={`/login?next=${encodeURIComponent(path)}`} />

  if (path === '/' || path === '') {
    if (orgs.loading)
      return (
        <Center h="100vh">
          <Loader aria-label="Loading" />
        </Center>
      )
    const first = orgs.data?.[0]
    return <Redirect to={first ? `/orgs/${first.id}/apps` : '/orgs/new'} />
  }
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path)
    if (params) return render(params)
  }
  return <Redirect to="/" />
}

type Params = Record<string, string>
/** Signed-in screens, first match wins. */
const ROUTES: [string, (p: Params) => ReactNode][] = [
  [
    '/orgs/new',
    () => (
      <Shell>
        <CreateOrg />
      </Shell>
    ),
  ],
  [
    '/account',
    () => (
      <Shell>
        <Account />
      </Shell>
    ),
  ],
  [
    '/outbox',
    () => (
      <Shell>
        <Outbox />
      </Shell>
    ),
  ],
  [
    '/orgs/:orgId/apps',
    (p) => (
      <Shell>
        <Apps orgId={p.orgId!} />
      </Shell>
    ),
  ],
  [
    '/orgs/:orgId/apps/:appId',
    (p) => (
      <Shell>
        <AppDetail orgId={p.orgId!} appId={p.appId!} tab="channels" />
      </Shell>
    ),
  ],
  [
    '/orgs/:orgId/apps/:appId/:tab',
    (p) => (
      <Shell>
        <AppDetail orgId={p.orgId!} appId={p.appId!} tab={p.tab!} />
      </Shell>
    ),
  ],
  [
    '/orgs/:orgId/explain',
    (p) => (
      <Shell>
        <Explain orgId={p.orgId!} />
      </Shell>
    ),
  ],
  ['/orgs/:orgId/settings', (p) => <Redirect to={`/orgs/${p.orgId}/settings/members`} />],
  [
    '/orgs/:orgId/settings/:tab',
    (p) => (
      <Shell>
        <OrgSettings orgId={p.orgId!} tab={p.tab!} />
      </Shell>
    ),
  ],
  ['/orgs/:orgId', (p) => <Redirect to={`/orgs/${p.orgId}/apps`} />],
]
