import { api } from './api.ts'

/**
 * The embedded console's sign-in hand-off (docs/console.md, issue 20). A host product opens the console at
 * `…/#host_token=<the person's JWT>`: the fragment never reaches a server, a log or a Referer, and it is
 * taken out of the address before anything else runs. The token is exchanged once for an ordinary Orgkit
 * session (`POST /v1/auth/host-session`: HTTP-only cookie + CSRF); everything after is the console as usual.
 * A token Orgkit refuses leaves the person signed out, on the sign-in page.
 */
export async function handOffHostToken(): Promise<void> {
  const fragment = new URLSearchParams(window.location.hash.slice(1))
  const token = fragment.get('host_token')
  if (!token) return
  fragment.delete('host_token')
  const rest = fragment.toString()
  window.history.replaceState(
    null,
    '',
    `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`,
  )
  await api.POST('/v1/auth/host-session', { headers: { authorization: `Bearer ${token}` } })
}
