import { Alert, Badge, Button, Group, Modal, Stack, Table, Text } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { IconPlus } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { Link, navigate, useLocation } from '../../router.tsx'
import { ShownOnce, WebhookDetail } from './WebhookDetail.tsx'
import { WebhookForm } from './WebhookForm.tsx'

/** "All events", or the chosen ones (a few named, the rest counted). */
const eventsSummary = (events: string[] | null) =>
  events === null
    ? 'All events'
    : events.length <= 3
      ? events.join(', ')
      : `${events.slice(0, 2).join(', ')} and ${events.length - 2} more`

/**
 * Webhook endpoints (Standard Webhooks signatures), Svix style: the list with each endpoint's description
 * and events; an endpoint (`?endpoint=<id>`) opens on its secret, events and delivery log.
 */
export function Webhooks({ orgId }: { orgId: string }) {
  const hooks = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/webhooks', { params: { path: { orgId } } })),
    [orgId],
  )
  const { query } = useLocation()
  const base = `/orgs/${orgId}/settings/webhooks`
  const [adding, { open, close }] = useDisclosure()
  const [secret, setSecret] = useState<string | null>(null)
  const selected = hooks.data?.items.find((h) => h.id === query.get('endpoint'))
  if (selected)
    return (
      <Stack>
        {secret && (
          <ShownOnce
            secret={secret}
            note="Give it to the receiver to verify each delivery's signature."
            onClose={() => setSecret(null)}
          />
        )}
        <WebhookDetail orgId={orgId} hook={selected} back={base} onChanged={hooks.reload} />
      </Stack>
    )
  return (
    <Stack>
      <Group>
        <Button leftSection={<IconPlus size={16} />} onClick={open}>
          Add endpoint
        </Button>
      </Group>
      <Loaded state={hooks}>
        {(data) =>
          data.items.length === 0 ? (
            <Alert title="No webhook endpoints yet">
              Add endpoint sends this organization's events to a URL of yours, signed.
            </Alert>
          ) : (
            <Table.ScrollContainer minWidth={700}>
              <Table striped aria-label="Webhooks">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Endpoint</Table.Th>
                    <Table.Th>Events</Table.Th>
                    <Table.Th>State</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.items.map((h) => (
                    <Table.Tr key={h.id}>
                      <Table.Td>
                        <Link to={`${base}?endpoint=${h.id}`} style={{ wordBreak: 'break-all' }}>
                          {h.url}
                        </Link>
                        <Text size="sm" c="dimmed">
                          {h.description || 'No description'}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{eventsSummary(h.events)}</Text>
                      </Table.Td>
                      <Table.Td>
                        {h.enabled ? (
                          <Badge variant="light" color="green">
                            Enabled
                          </Badge>
                        ) : (
                          <Badge variant="light" color="gray" title={h.disabledReason ?? undefined}>
                            Disabled
                          </Badge>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Loaded>
      <Modal
        opened={adding}
        onClose={close}
        title="Add endpoint"
        closeButtonProps={{ 'aria-label': 'Close' }}
      >
        <WebhookForm
          orgId={orgId}
          submitLabel="Add endpoint"
          onSubmit={async (body) => {
            const created = await must(
              api.POST('/v1/orgs/{orgId}/webhooks', {
                params: { path: { orgId } },
                body: {
                  url: body.url,
                  events: body.events,
                  ...(body.description && { description: body.description }),
                },
              }),
            )
            setSecret(created.secret)
            close()
            hooks.reload()
            navigate(`${base}?endpoint=${created.id}`)
          }}
        />
      </Modal>
    </Stack>
  )
}
