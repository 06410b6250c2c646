import { Alert, Badge, Button, Code, Group, Stack, Table, Text } from '@mantine/core'
import { IconRefresh } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'

const STATUS = {
  succeeded: { color: 'green', label: 'Delivered' },
  failed: { color: 'red', label: 'Failed' },
  pending: { color: 'yellow', label: 'Retrying' },
} as const

/** What the receiver answered (or why nothing came back), and how long it took. */
function Response({
  d,
}: {
  d: {
    lastStatus: number | null
    lastError: string | null
    responseExcerpt: string | null
    durationMs: number | null
  }
}) {
  if (d.lastStatus === null && !d.lastError) return <Text size="sm">Not sent yet</Text>
  return (
    <Stack gap={2}>
      <Text size="sm">
        {d.lastStatus !== null ? `HTTP ${d.lastStatus}` : d.lastError}
        {d.durationMs !== null && ` · ${d.durationMs} ms`}
      </Text>
      {d.responseExcerpt && (
        <Code block style={{ maxWidth: 320, maxHeight: 80, overflow: 'auto', whiteSpace: 'pre-wrap' }}>
          {d.responseExcerpt}
        </Code>
      )}
    </Stack>
  )
}

/** An endpoint's delivery log, newest first: status, attempts, the receiver's answer, and redeliver. */
export function WebhookDeliveries({
  orgId,
  webhookId,
  tick,
}: {
  orgId: string
  webhookId: string
  tick: number
}) {
  const [cursor, setCursor] = useState<string | undefined>()
  const [reloads, setReloads] = useState(0)
  const log = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/webhooks/{id}/deliveries', {
          params: { path: { orgId, id: webhookId }, query: { limit: 20, ...(cursor && { cursor }) } },
        }),
      ),
    [orgId, webhookId, cursor, tick, reloads],
  )
  return (
    <Stack>
      <Group justify="space-between">
        <Text fw={600}>Deliveries</Text>
        <Button
          variant="default"
          size="xs"
          leftSection={<IconRefresh size={14} />}
          onClick={() => setReloads((n) => n + 1)}
        >
          Refresh
        </Button>
      </Group>
      <Loaded state={log}>
        {(data) =>
          data.items.length === 0 ? (
            <Alert title="No deliveries yet">
              Each event this endpoint takes is logged here with the receiver's answer. Send a test event to
              see one.
            </Alert>
          ) : (
            <>
              <Table.ScrollContainer minWidth={760}>
                <Table striped aria-label="Deliveries">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Event</Table.Th>
                      <Table.Th>Status</Table.Th>
                      <Table.Th>Attempts</Table.Th>
                      <Table.Th>Response</Table.Th>
                      <Table.Th>Created</Table.Th>
                      <Table.Th>Actions</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.items.map((d) => (
                      <Table.Tr key={d.id}>
                        <Table.Td>
                          <Text size="sm">{d.type}</Text>
                          <Text size="xs" c="dimmed" title="The webhook-id receivers deduplicate on">
                            {d.eventId}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Badge color={STATUS[d.status].color} variant="light">
                            {STATUS[d.status].label}
                          </Badge>
                          {d.nextAttemptAt && (
                            <Text size="xs" c="dimmed">
                              next {new Date(d.nextAttemptAt).toLocaleString()}
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td>{d.attempts}</Table.Td>
                        <Table.Td>
                          <Response d={d} />
                        </Table.Td>
                        <Table.Td>{new Date(d.createdAt).toLocaleString()}</Table.Td>
                        <Table.Td>
                          <Button
                            size="xs"
                            variant="light"
                            aria-label={`Redeliver ${d.type} ${d.eventId}`}
                            onClick={async () => {
                              const sent = await attempt(
                                () =>
                                  must(
                                    api.POST('/v1/orgs/{orgId}/deliveries/{id}/redeliver', {
                                      params: { path: { orgId, id: d.id } },
                                    }),
                                  ),
                                'Sent again: same event id, so the receiver can tell it already has it',
                              )
                              if (sent) setReloads((n) => n + 1)
                            }}
                          >
                            Redeliver
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              {data.nextCursor && (
                <Group>
                  <Button variant="default" onClick={() => setCursor(data.nextCursor ?? undefined)}>
                    Older deliveries
                  </Button>
                </Group>
              )}
            </>
          )
        }
      </Loaded>
    </Stack>
  )
}
