import { createContext, type ReactNode, useContext } from 'react'
import { api, must } from './api.ts'
import { type Async, useAsync } from './hooks.ts'
import { handOffHostToken } from './host-handoff.ts'
import type { Me, Model, Org } from './types.ts'

interface Session {
  me: Me | null
  model: Model | undefined
  orgs: Async<Org[]>
  reloadMe: () => void
}

const SessionContext = createContext<Session | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const me = useAsync(async () => {
    await handOffHostToken() // a host page that embeds the console may hand its person over (docs/console.md)
    const { data, response } = await api.GET('/v1/me')
    return response.ok && data && 'email' in data ? (data as Me) : null
  }, [])
  const signedIn = !!me.data
  const model = useAsync(
    async () => (signedIn ? ((await must(api.GET('/v1/model'))) as unknown as Model) : undefined),
    [signedIn],
  )
  const orgs = useAsync(
    async () => (signedIn ? (await must(api.GET('/v1/orgs'))).items : ([] as Org[])),
    [signedIn],
  )
  if (me.loading && me.data === undefined) return null
  return (
    <SessionContext.Provider value={{ me: me.data ?? null, model: model.data, orgs, reloadMe: me.reload }}>
      {children}
    </SessionContext.Provider>
  )
}

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside SessionProvider')
  return session
}
