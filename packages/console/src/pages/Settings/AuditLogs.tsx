import { Alert, Anchor, Badge, Button, Code, Group, Stack, Table, TextInput } from '@mantine/core'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'

/** The org's hash-chained audit log: filter by action, page on, verify the chain, export. */
export function AuditLogs({ orgId }: { orgId: string }) {
  const [action, setAction] = useState('')
  const [cursor, setCursor] = useState<string | undefined>()
  const log = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/audit-logs', {
          params: { path: { orgId }, query: { ...(action && { action }), ...(cursor && { cursor }) } },
        }),
      ),
    [orgId, action, cursor],
  )
  const [verified, setVerified] = useState<string | null>(null)
  return (
    <Stack>
      <Group align="end">
        <TextInput
          label="Action"
          placeholder="e.g. member.removed"
          value={action}
          onChange={(e) => {
            setCursor(undefined)
            setAction(e.currentTarget.value.trim())
          }}
        />
        <Button
          variant="light"
          onClick={async () => {
            try {
              const result = await must(
                api.GET('/v1/orgs/{orgId}/audit-logs/verify', { params: { path: { orgId } } }),
              )
              setVerified(JSON.stringify(result))
            } catch (e) {
              setVerified(errorMessage(e))
            }
          }}
        >
          Verify chain
        </Button>
        <Anchor href={`/v1/orgs/${orgId}/audit-logs/export?format=csv`}>Export CSV</Anchor>
        <Anchor href={`/v1/orgs/${orgId}/audit-logs/export?format=json`}>Export JSON</Anchor>
      </Group>
      {verified && <Alert role="status">{verified}</Alert>}
      <Loaded state={log}>
        {(data) => (
          <>
            {data.items.length === 0 && (
              <Alert title="No entries">
                Every change in this organization is logged here; none matches yet.
              </Alert>
            )}
            <Table.ScrollContainer minWidth={700}>
              <Table striped aria-label="Audit log">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>Actor</Table.Th>
                    <Table.Th>Target</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.items.map((e) => (
                    <Table.Tr key={e.id}>
                      <Table.Td>{new Date(e.createdAt).toLocaleString()}</Table.Td>
                      <Table.Td>
                        <Badge variant="light" tt="none">
                          {e.action}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        <Code>
                          {e.actor.type}:{e.actor.id?.slice(0, 8) ?? '—'}
                        </Code>
                      </Table.Td>
                      <Table.Td>
                        <Code>
                          {e.target.type}:{e.target.id?.slice(0, 8) ?? '—'}
                        </Code>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {data.nextCursor && (
              <Group>
                <Button variant="default" onClick={() => setCursor(data.nextCursor ?? undefined)}>
                  Older entries
                </Button>
              </Group>
            )}
          </>
        )}
      </Loaded>
    </Stack>
  )
}
