import { Alert, Badge, Button, Card, Group, List, Modal, Stack, Switch, Text, Title } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import type { components } from '@orgkit/sdk'
import { IconArrowLeft, IconRotate, IconSend, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Copyable } from '../../components/Copyable.tsx'
import { attempt } from '../../hooks.ts'
import { Link, navigate } from '../../router.tsx'
import { WebhookDeliveries } from './WebhookDeliveries.tsx'
import { useEventCatalogue, WebhookForm } from './WebhookForm.tsx'

type Webhook = components['schemas']['Webhook']

/** A secret answered once (at creation or rotation), with a copy button, until it is dismissed. */
export function ShownOnce({ secret, note, onClose }: { secret: string; note: string; onClose: () => void }) {
  return (
    <Alert
      color="yellow"
      title="Signing secret — shown once"
      withCloseButton
      closeButtonLabel="I have copied the secret"
      onClose={onClose}
    >
      <Stack gap="xs">
        <Copyable label="Signing secret" value={secret} labelWidth={110} />
        <Text size="sm">{note}</Text>
      </Stack>
    </Alert>
  )
}

/** The endpoint's signing secret: never shown again after it is made; rotation gives a new one. */
function SigningSecret({ orgId, hook }: { orgId: string; hook: Webhook }) {
  const [secret, setSecret] = useState<{ value: string; until: string } | null>(null)
  const rotate = () =>
    modals.openConfirmModal({
      title: 'Rotate the signing secret',
      children: (
        <Text size="sm">
          A new secret signs every delivery from now on. The current one keeps signing beside it for 24 hours,
          so {hook.url} has a day to switch to the new one before it would refuse deliveries.
        </Text>
      ),
      labels: { confirm: 'Rotate', cancel: 'Cancel' },
      onConfirm: () =>
        attempt(async () => {
          const rotated = await must(
            api.POST('/v1/orgs/{orgId}/webhooks/{id}/rotate-secret', {
              params: { path: { orgId, id: hook.id } },
            }),
          )
          setSecret({ value: rotated.secret, until: rotated.previousSecretExpiresAt })
        }, 'Signing secret rotated'),
    })
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600}>Signing secret</Text>
          <Button variant="light" leftSection={<IconRotate size={16} />} onClick={rotate}>
            Rotate secret
          </Button>
        </Group>
        <Text size="sm">
          Deliveries are signed per Standard Webhooks (the webhook-signature header). The secret is shown only
          when it is made: rotate it if it is lost or leaked.
        </Text>
        {secret && (
          <ShownOnce
            secret={secret.value}
            note={`The previous secret also signs until ${new Date(secret.until).toLocaleString()}.`}
            onClose={() => setSecret(null)}
          />
        )}
      </Stack>
    </Card>
  )
}

/** The events an endpoint takes, each with what it means. */
function Subscribed({ events }: { events: string[] | null }) {
  const catalogue = useEventCatalogue()
  const described = new Map(catalogue.data?.items.map((t) => [t.type, t.description]))
  return (
    <Card withBorder>
      <Text fw={600}>Events</Text>
      {events === null ? (
        <Text size="sm">Every event (billing events go only to endpoints that name them).</Text>
      ) : (
        <List size="sm" aria-label="Subscribed events">
          {events.map((e) => (
            <List.Item key={e}>
              <b>{e}</b> — {e.endsWith('.*') ? `every ${e.slice(0, -2)} event` : (described.get(e) ?? '')}
            </List.Item>
          ))}
        </List>
      )}
    </Card>
  )
}

/** One endpoint, Svix style: what it is and takes, its secret, a test, its delivery log. */
export function WebhookDetail({
  orgId,
  hook,
  back,
  onChanged,
}: {
  orgId: string
  hook: Webhook
  back: string
  onChanged: () => void
}) {
  const [editing, edit] = useDisclosure()
  const [tick, setTick] = useState(0)
  const patch = (body: { url?: string; description?: string; events?: string[] | null; enabled?: boolean }) =>
    must(api.PATCH('/v1/orgs/{orgId}/webhooks/{id}', { params: { path: { orgId, id: hook.id } }, body }))
  return (
    <Stack>
      <Link to={back}>
        <Group gap={4}>
          <IconArrowLeft size={16} /> All endpoints
        </Group>
      </Link>
      <Group justify="space-between" align="start">
        <Stack gap={2}>
          <Title order={3} style={{ wordBreak: 'break-all' }}>
            {hook.url}
          </Title>
          <Text c="dimmed">{hook.description || 'No description'}</Text>
          {hook.disabledReason && (
            <Badge color="red" variant="light" tt="none">
              Disabled: {hook.disabledReason}
            </Badge>
          )}
        </Stack>
        <Group>
          <Switch
            label="Enabled"
            checked={hook.enabled}
            onChange={async (e) => {
              const enabled = e.currentTarget.checked
              if (await attempt(() => patch({ enabled }))) onChanged()
            }}
          />
          <Button variant="default" onClick={edit.open}>
            Edit
          </Button>
          <Button
            variant="light"
            leftSection={<IconSend size={16} />}
            onClick={async () => {
              const sent = await attempt(
                () =>
                  must(
                    api.POST('/v1/orgs/{orgId}/webhooks/{id}/test', {
                      params: { path: { orgId, id: hook.id } },
                    }),
                  ),
                'Test event sent',
              )
              if (sent) setTick((t) => t + 1)
            }}
          >
            Send test event
          </Button>
          <Button
            color="red"
            variant="light"
            leftSection={<IconTrash size={16} />}
            onClick={() =>
              modals.openConfirmModal({
                title: 'Delete endpoint',
                children: (
                  <Text size="sm">
                    {hook.url} stops receiving events, and its delivery log is deleted with it. This can't be
                    undone.
                  </Text>
                ),
                labels: { confirm: 'Delete', cancel: 'Cancel' },
                confirmProps: { color: 'red' },
                onConfirm: async () => {
                  const gone = await attempt(
                    () =>
                      must(
                        api.DELETE('/v1/orgs/{orgId}/webhooks/{id}', {
                          params: { path: { orgId, id: hook.id } },
                        }),
                      ),
                    'Endpoint deleted',
                  )
                  if (gone) {
                    navigate(back)
                    onChanged()
                  }
                },
              })
            }
          >
            Delete
          </Button>
        </Group>
      </Group>
      <SigningSecret orgId={orgId} hook={hook} />
      <Subscribed events={hook.events} />
      <WebhookDeliveries orgId={orgId} webhookId={hook.id} tick={tick} />
      <Modal
        opened={editing}
        onClose={edit.close}
        title="Edit endpoint"
        closeButtonProps={{ 'aria-label': 'Close' }}
      >
        <WebhookForm
          orgId={orgId}
          initial={hook}
          submitLabel="Save"
          onSubmit={async (body) => {
            await patch(body)
            edit.close()
            onChanged()
          }}
        />
      </Modal>
    </Stack>
  )
}
