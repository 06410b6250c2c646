import { notifications } from '@mantine/notifications'
import type { PlatformPermission } from '@orgkit/sdk'
import { type DependencyList, useCallback, useEffect, useState } from 'react'
import { api, errorMessage, must } from './api.ts'

export interface Async<T> {
  data: T | undefined
  error: unknown
  loading: boolean
  reload: () => void
}

/** Loads on mount and whenever deps change; the last call wins (a slow old answer never overwrites). */
export function useAsync<T>(load: () => Promise<T>, deps: DependencyList): Async<T> {
  const [tick, setTick] = useState(0)
  // Which deps the state answers: loading from the very render the deps change, not an effect later.
  const key = JSON.stringify([...deps, tick])
  const [state, setState] = useState<{ key?: string; data?: T; error?: unknown }>({})
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    let current = true
    load().then(
      (data) => current && setState({ key, data }),
      (error) => current && setState((s) => ({ key, data: s.data, error })),
    )
    return () => {
      current = false
    }
  }, [key])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  const loading = state.key !== key
  return { data: state.data, error: loading ? undefined : state.error, loading, reload }
}

/**
 * The engine's answer per permission. The platform's permissions are declared by every model, so they are
 * typed (a misspelt one fails to compile); a permission read from the model at run time is any string.
 */
export type Can<P extends string = PlatformPermission> = Partial<Record<P, boolean>>

/**
 * What the signed-in user may do in an org, as the engine decides (POST /v1/check/batch): tabs and
 * buttons follow these answers, never role names.
 */
export function useOrgPermissions<P extends string>(orgId: string | undefined, permissions: readonly P[]) {
  return useAsync(async (): Promise<Can<P>> => {
    if (!orgId) return {}
    const { results } = await must(
      api.POST('/v1/check/batch', {
        body: { checks: permissions.map((permission) => ({ permission, resource: { org: orgId } })) },
      }),
    )
    return Object.fromEntries(permissions.map((p, i) => [p, results[i]?.allowed === true])) as Can<P>
  }, [orgId, permissions.join(',')])
}

/** Runs a write, tells the person how it went, and reports success; `onError` shows a failure in place. */
export async function attempt(
  action: () => Promise<unknown>,
  success?: string,
  onError?: (message: string | null) => void,
): Promise<boolean> {
  onError?.(null)
  try {
    await action()
    if (success) notifications.show({ color: 'green', message: success })
    return true
  } catch (error) {
    if (onError) onError(errorMessage(error))
    else notifications.show({ color: 'red', title: 'That did not work', message: errorMessage(error) })
    return false
  }
}

export interface CheckInput {
  permission: string
  resource: { type: string; id: string } | { org: string }
}

/** Several decisions for the signed-in user at once, keyed by `permission@resource-id`. */
export function useChecks(checks: readonly CheckInput[]) {
  const key = (c: CheckInput) => `${c.permission}@${'org' in c.resource ? c.resource.org : c.resource.id}`
  return useAsync(async () => {
    if (checks.length === 0) return {} as Record<string, boolean>
    const { results } = await must(api.POST('/v1/check/batch', { body: { checks: [...checks] } }))
    return Object.fromEntries(checks.map((c, i) => [key(c), results[i]?.allowed === true]))
  }, [checks.map(key).join(',')])
}
