import { ActionIcon, Alert, Badge, Button, Group, Paper, Stack, Switch, Text, Title } from '@mantine/core'
import { IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, errorMessage, must } from '../../../api.ts'
import { Copyable } from '../../../components/Copyable.tsx'
import { attempt } from '../../../hooks.ts'
import { MappingEditor } from './MappingEditor.tsx'
import type { Connection, Mapping, Options } from './types.ts'

/** One connection: its state (enabled, tested), test / enable / delete, the URLs for the IdP, its mapping. */
export function ConnectionCard({
  orgId,
  connection: c,
  options,
  onChange,
}: {
  orgId: string
  connection: Connection
  options: Options | undefined
  onChange: () => void
}) {
  const path = { params: { path: { orgId, connectionId: c.id } } }
  const [error, setError] = useState<string | null>(null)
  const [testing, setTesting] = useState(false)
  const patch = (
    body: { enabled?: boolean; mappings?: Mapping[]; defaultRole?: string | null },
    done: string,
  ) =>
    attempt(
      () => must(api.PATCH('/v1/orgs/{orgId}/sso-connections/{connectionId}', { ...path, body })),
      done,
      setError,
    ).then((ok) => ok && onChange())
  return (
    <Paper withBorder p="md" aria-label={`SSO connection ${c.name}`} role="region">
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="xs">
            <Title order={4}>{c.name}</Title>
            <Badge variant="light">{c.kind.toUpperCase()}</Badge>
            <Badge color={c.enabled ? 'green' : 'gray'}>{c.enabled ? 'Enabled' : 'Disabled'}</Badge>
            {c.testedAt ? (
              <Badge color="green" variant="outline">
                Tested
              </Badge>
            ) : (
              <Badge color={c.testProblem ? 'red' : 'yellow'} variant="outline">
                {c.testProblem ? 'Test failed' : 'Not tested'}
              </Badge>
            )}
          </Group>
          <Group gap="xs">
            <Button
              variant="default"
              loading={testing}
              onClick={async () => {
                setTesting(true)
                setError(null)
                try {
                  const outcome = await must(
                    api.POST('/v1/orgs/{orgId}/sso-connections/{connectionId}/test', path),
                  )
                  if (!outcome.ok) setError(`The test failed: ${outcome.problem}`)
                  onChange()
                } catch (e) {
                  setError(errorMessage(e))
                } finally {
                  setTesting(false)
                }
              }}
            >
              Test connection
            </Button>
            <Switch
              label="Enabled"
              checked={c.enabled}
              onChange={(e) =>
                patch(
                  { enabled: e.currentTarget.checked },
                  e.currentTarget.checked ? 'Connection enabled' : 'Connection disabled',
                )
              }
            />
            <ActionIcon
              variant="subtle"
              color="red"
              aria-label={`Delete ${c.name}`}
              onClick={() =>
                attempt(
                  () => must(api.DELETE('/v1/orgs/{orgId}/sso-connections/{connectionId}', path)),
                  'Connection deleted',
                  setError,
                ).then((ok) => ok && onChange())
              }
            >
              <IconTrash size={16} />
            </ActionIcon>
          </Group>
        </Group>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {c.testProblem && !error && <Alert color="yellow">Last test: {c.testProblem}</Alert>}
        <Copyable label={c.kind === 'oidc' ? 'Redirect URI' : 'ACS URL'} value={c.callbackUrl} />
        {c.metadataUrl && <Copyable label="SP metadata URL" value={c.metadataUrl} />}
        {c.kind === 'oidc' && (
          <Text size="sm" c="dimmed">
            Issuer {String(c.config.issuer)} · client {String(c.config.clientId)}
          </Text>
        )}
        {options && (
          <MappingEditor
            connection={c}
            options={options}
            onSave={(mappings, defaultRole) => patch({ mappings, defaultRole }, 'Mapping saved')}
          />
        )}
      </Stack>
    </Paper>
  )
}
