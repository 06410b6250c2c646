import { Anchor, type AnchorProps, Center, Loader } from '@mantine/core'
import {
  type ComponentType,
  type LazyExoticComponent,
  lazy,
  type ReactNode,
  Suspense,
  useSyncExternalStore,
} from 'react'

// The console's routes are plain paths (/login, /orgs/<id>/members …): the server answers every one
// with index.html, so links from mail (/verify?token=…, /invitations/<token>) open the right screen.
const listeners = new Set<() => void>()
const subscribe = (listener: () => void) => {
  listeners.add(listener)
  window.addEventListener('popstate', listener)
  return () => {
    listeners.delete(listener)
    window.removeEventListener('popstate', listener)
  }
}

export function navigate(to: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', to)
  else window.history.pushState(null, '', to)
  for (const listener of listeners) listener()
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search)
  const url = new URL(href, window.location.origin)
  return { path: url.pathname, query: url.searchParams }
}

/** Matches `/orgs/:orgId/apps/:appId` against a path; the params, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/')
  const got = path.replace(/\/$/, '').split('/')
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (const [i, part] of want.entries()) {
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(got[i]!)
    else if (part !== got[i]) return null
  }
  return params
}

export function Link({ to, children, ...props }: { to: string; children: ReactNode } & AnchorProps) {
  return (
    <Anchor
      href={to}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return
        event.preventDefault()
        navigate(to)
      }}
      {...props}
    >
      {children}
    </Anchor>
  )
}

// biome-ignore lint/suspicious/noExplicitAny: a page of any props
type Page = ComponentType<any>

/**
 * A page loaded on first use, so the sign-in page downloads only what it needs (docs/performance.md):
 * `lazyPage(() => import('./pages/Apps/Apps.tsx'), 'Apps')` for a module's named export. Vite puts each
 * such module, and what only it imports, in a chunk of its own.
 */
export function lazyPage<K extends string, M extends { [name in K]: Page }>(
  load: () => Promise<M>,
  name: K,
): LazyExoticComponent<M[K]> {
  return lazy(async () => ({ default: (await load())[name] }))
}

/** What a page still loading shows in its place (the navigation around it stays). */
export function PageLoading({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Center h="50vh">
          <Loader aria-label="Loading" />
        </Center>
      }
    >
      {children}
    </Suspense>
  )
}
