import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { IconPlus, IconSend, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'

/** Webhook endpoints (Standard Webhooks signatures): add, enable/disable, send a test, delete. */
export function Webhooks({ orgId }: { orgId: string }) {
  const hooks = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/webhooks', { params: { path: { orgId } } })),
    [orgId],
  )
  const [adding, { open, close }] = useDisclosure()
  const [secret, setSecret] = useState<string | null>(null)
  const form = useForm({
    initialValues: { url: '', events: '', description: '' },
    validate: { url: (v) => (/^https?:\/\/\S+$/.test(v) ? null : 'Enter an http(s) URL') },
  })
  return (
    <Stack>
      <Group>
        <Button leftSection={<IconPlus size={16} />} onClick={open}>
          Add endpoint
        </Button>
      </Group>
      {secret && (
        <Alert
          color="yellow"
          title="Signing secret (shown once)"
          withCloseButton
          onClose={() => setSecret(null)}
        >
          <Code>{secret}</Code>
        </Alert>
      )}
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
                    <Table.Th>URL</Table.Th>
                    <Table.Th>Events</Table.Th>
                    <Table.Th>Enabled</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.items.map((h) => (
                    <Table.Tr key={h.id}>
                      <Table.Td>
                        <Text size="sm">{h.url}</Text>
                        {h.disabledReason && (
                          <Badge color="red" variant="light">
                            {h.disabledReason}
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>{h.events?.join(', ') ?? 'all'}</Table.Td>
                      <Table.Td>
                        <Switch
                          aria-label={`Enable ${h.url}`}
                          checked={h.enabled}
                          onChange={async (e) => {
                            const enabled = e.currentTarget.checked
                            if (
                              await attempt(() =>
                                must(
                                  api.PATCH('/v1/orgs/{orgId}/webhooks/{id}', {
                                    params: { path: { orgId, id: h.id } },
                                    body: { enabled },
                                  }),
                                ),
                              )
                            )
                              hooks.reload()
                          }}
                        />
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          <ActionIcon
                            variant="subtle"
                            aria-label={`Send a test event to ${h.url}`}
                            onClick={() =>
                              attempt(
                                () =>
                                  must(
                                    api.POST('/v1/orgs/{orgId}/webhooks/{id}/test', {
                                      params: { path: { orgId, id: h.id } },
                                    }),
                                  ),
                                'Test event queued',
                              )
                            }
                          >
                            <IconSend size={18} />
                          </ActionIcon>
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            aria-label={`Delete ${h.url}`}
                            onClick={() =>
                              modals.openConfirmModal({
                                title: 'Delete endpoint',
                                children: (
                                  <Text size="sm">Stop sending events to {h.url}? This can't be undone.</Text>
                                ),
                                labels: { confirm: 'Delete', cancel: 'Cancel' },
                                confirmProps: { color: 'red' },
                                onConfirm: async () => {
                                  if (
                                    await attempt(() =>
                                      must(
                                        api.DELETE('/v1/orgs/{orgId}/webhooks/{id}', {
                                          params: { path: { orgId, id: h.id } },
                                        }),
                                      ),
                                    )
                                  )
                                    hooks.reload()
                                },
                              })
                            }
                          >
                            <IconTrash size={18} />
                          </ActionIcon>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Loaded>
      <Modal opened={adding} onClose={close} title="Add endpoint">
        <form
          onSubmit={form.onSubmit(async (values) => {
            const events = values.events
              .split(',')
              .map((e) => e.trim())
              .filter(Boolean)
            let created: { secret: string } | undefined
            const ok = await attempt(async () => {
              created = await must(
                api.POST('/v1/orgs/{orgId}/webhooks', {
                  params: { path: { orgId } },
                  body: {
                    url: values.url.trim(),
                    ...(events.length && { events }),
                    ...(values.description && { description: values.description }),
                  },
                }),
              )
            }, 'Endpoint added')
            if (ok && created) {
              setSecret(created.secret)
              close()
              form.reset()
              hooks.reload()
            }
          })}
        >
          <Stack>
            <TextInput label="URL" required data-autofocus {...form.getInputProps('url')} />
            <TextInput
              label="Events"
              description="Comma-separated, e.g. member.*, invitation.created; empty for every event"
              {...form.getInputProps('events')}
            />
            <TextInput label="Description" {...form.getInputProps('description')} />
            <Button type="submit">Add</Button>
          </Stack>
        </form>
      </Modal>
    </Stack>
  )
}
