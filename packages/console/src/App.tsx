import { Center, Loader } from '@mantine/core'
import { type ReactNode, useEffect } from 'react'
import { Login } from './pages/Auth/Login.tsx'
import { lazyPage, match, navigate, useLocation } from './router.tsx'
import { useSession } from './session.tsx'

// Every screen but the sign-in page is loaded on first use (router.tsx, lazyPage): the sign-in page is
// the one a new browser opens, and it should not wait for charts, tables and settings.
const Shell = lazyPage(() => import('./components/Shell.tsx'), 'Shell')
const Account = lazyPage(() => import('./pages/Account/Account.tsx'), 'Account')
const AppDetail = lazyPage(() => import('./pages/Apps/AppDetail.tsx'), 'AppDetail')
const Apps = lazyPage(() => import('./pages/Apps/Apps.tsx'), 'Apps')
const AcceptInvitation = lazyPage(() => import('./pages/Auth/AcceptInvitation.tsx'), 'AcceptInvitation')
const ForgotPassword = lazyPage(() => import('./pages/Auth/ForgotPassword.tsx'), 'ForgotPassword')
const ResetPassword = lazyPage(() => import('./pages/Auth/ResetPassword.tsx'), 'ResetPassword')
const Signup = lazyPage(() => import('./pages/Auth/Signup.tsx'), 'Signup')
const Verify = lazyPage(() => import('./pages/Auth/Verify.tsx'), 'Verify')
const Explain = lazyPage(() => import('./pages/Explain/Explain.tsx'), 'Explain')
const CreateOrg = lazyPage(() => import('./pages/Orgs/CreateOrg.tsx'), 'CreateOrg')
const Outbox = lazyPage(() => import('./pages/Outbox/Outbox.tsx'), 'Outbox')
const OrgSettings = lazyPage(() => import('./pages/Settings/OrgSettings.tsx'), 'OrgSettings')

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
