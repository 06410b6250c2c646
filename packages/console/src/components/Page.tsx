import { Alert, Button, Center, Group, Loader, Stack, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import { codeOf, errorMessage } from '../api.ts'
import { Link, useLocation } from '../router.tsx'
import { GateBanner, gateOf } from './GateBanner.tsx'

export function Page({
  title,
  actions,
  children,
}: {
  title: ReactNode
  actions?: ReactNode
  children: ReactNode
}) {
  return (
    <Stack maw={1100}>
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{title}</Title>
        {actions && <Group>{actions}</Group>}
      </Group>
      {children}
    </Stack>
  )
}

/** Loading, failed, or the content: one place for the three states of anything loaded. */
export function Loaded<T>({
  state,
  children,
}: {
  state: { data: T | undefined; error: unknown; loading: boolean }
  children: (data: T) => ReactNode
}) {
  const { path } = useLocation()
  const gate = gateOf(state.error)
  if (gate) return <GateBanner gate={gate} />
  // Gone for good (reloading can't help): a made-up, deleted or left org leads back to one's own orgs, by a full
  // load (the console's home picks from the organizations the server lists now, not the session's copy); a
  // deleted, moved or no longer visible app or channel, back to its org.
  const orgId = /^\/orgs\/([^/]+)\//.exec(path)?.[1]
  const way =
    codeOf(state.error) === 'ORG_NOT_FOUND' ? (
      <Button size="xs" onClick={() => window.location.assign('/')}>
        Back to the console
      </Button>
    ) : codeOf(state.error) === 'RESOURCE_NOT_FOUND' && orgId ? (
      <Link to={`/orgs/${orgId}`}>Back to the organization</Link>
    ) : null
  if (state.error)
    return (
      <Alert color="red" role="alert">
        {way ? (
          <>
            <Text size="sm" mb="sm">
              {errorMessage(state.error)}
            </Text>
            {way}
          </>
        ) : (
          errorMessage(state.error)
        )}
      </Alert>
    )
  if (state.data === undefined)
    return (
      <Center p="xl">
        <Loader aria-label="Loading" />
      </Center>
    )
  return <>{children(state.data)}</>
}
