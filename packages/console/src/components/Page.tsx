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
  // A made-up, deleted or left org's address: reloading can't help, so lead back to one's own orgs. A full
  // load, as the console's home picks from the organizations the server lists now, not the session's copy.
  if (codeOf(state.error) === 'ORG_NOT_FOUND')
    return (
      <Alert color="red" role="alert">
        <Text size="sm" mb="sm">
          {errorMessage(state.error)}
        </Text>
        <Button size="xs" onClick={() => window.location.assign('/')}>
          Back to the console
        </Button>
      </Alert>
    )
  // A deleted, moved or no longer visible app or channel: reloading can't help either; back to its org.
  const orgId = /^\/orgs\/([^/]+)\//.exec(path)?.[1]
  if (codeOf(state.error) === 'RESOURCE_NOT_FOUND' && orgId)
    return (
      <Alert color="red" role="alert">
        <Text size="sm" mb="sm">
          {errorMessage(state.error)}
        </Text>
        <Link to={`/orgs/${orgId}`}>Back to the organization</Link>
      </Alert>
    )
  if (state.error)
    return (
      <Alert color="red" role="alert">
        {errorMessage(state.error)}
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
