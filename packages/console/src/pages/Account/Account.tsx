import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Image,
  Modal,
  MultiSelect,
  Paper,
  PasswordInput,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { IconPlus, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded, Page } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'

/** The personal account page: password, 2FA enrolment (QR + recovery codes), personal API keys. */
export function Account() {
  const { me } = useSession()
  return (
    <Page title="Account">
      <Text c="dimmed">
        {me?.name} · {me?.email}
      </Text>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <PasswordCard />
        <TwoFactorCard />
      </SimpleGrid>
      <ApiKeys />
    </Page>
  )
}

function PasswordCard() {
  const form = useForm({
    initialValues: { current: '', next: '' },
    validate: { next: (v) => (v.length >= 8 ? null : 'Use at least 8 characters') },
  })
  return (
    <Paper withBorder p="lg" id="password">
      <form
        onSubmit={form.onSubmit(async (values) => {
          if (await attempt(() => must(api.POST('/v1/me/password', { body: values })), 'Password changed'))
            form.reset()
        })}
      >
        <Stack>
          <Title order={4}>Password</Title>
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            {...form.getInputProps('current')}
          />
          <PasswordInput label="New password" autoComplete="new-password" {...form.getInputProps('next')} />
          <Text size="xs" c="dimmed">
            Your other sessions end when it changes.
          </Text>
          <Group>
            <Button type="submit">Change password</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  )
}

function TwoFactorCard() {
  const { me, reloadMe } = useSession()
  const [enrolment, setEnrolment] = useState<{ secret: string; qrSvg: string } | null>(null)
  const [code, setCode] = useState('')
  const [recovery, setRecovery] = useState<string[] | null>(null)
  const [disabling, setDisabling] = useState(false)
  const [password, setPassword] = useState('')
  return (
    <Paper withBorder p="lg" id="two-factor">
      <Stack>
        <Group justify="space-between">
          <Title order={4}>Two-factor authentication</Title>
          <Badge color={me?.mfaEnabled ? 'green' : 'gray'}>{me?.mfaEnabled ? 'On' : 'Off'}</Badge>
        </Group>
        {recovery && (
          <Alert color="yellow" title="Recovery codes (shown once)">
            <Text size="sm">Keep these somewhere safe; each signs you in once without your phone.</Text>
            <Code block data-testid="recovery-codes">
              {recovery.join('\n')}
            </Code>
          </Alert>
        )}
        {!me?.mfaEnabled && !enrolment && (
          <Button onClick={() => attempt(async () => setEnrolment(await must(api.POST('/v1/me/mfa/totp'))))}>
            Set up an authenticator app
          </Button>
        )}
        {enrolment && (
          <Stack>
            <Text size="sm">
              Scan this QR code with your authenticator app, then enter the code it shows.
            </Text>
            <Image
              src={`data:image/svg+xml;utf8,${encodeURIComponent(enrolment.qrSvg)}`}
              alt="QR code for your authenticator app"
              w={180}
              h={180}
            />
            <Text size="xs">
              Or enter the key: <Code>{enrolment.secret}</Code>
            </Text>
            <TextInput
              label="Code"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
            />
            <Button
              onClick={() =>
                attempt(async () => {
                  const { recoveryCodes } = await must(
                    api.POST('/v1/me/mfa/totp/confirm', { body: { code: code.trim() } }),
                  )
                  setRecovery(recoveryCodes)
                  setEnrolment(null)
                  setCode('')
                  reloadMe()
                }, 'Two-factor authentication is on')
              }
            >
              Turn on
            </Button>
          </Stack>
        )}
        {me?.mfaEnabled &&
          (disabling ? (
            <Stack>
              <PasswordInput
                label="Password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
              />
              <TextInput label="Current code" value={code} onChange={(e) => setCode(e.currentTarget.value)} />
              <Button
                color="red"
                onClick={() =>
                  attempt(async () => {
                    await must(api.DELETE('/v1/me/mfa/totp', { body: { password, totp: code.trim() } }))
                    setDisabling(false)
                    reloadMe()
                  }, 'Two-factor authentication is off')
                }
              >
                Turn off
              </Button>
            </Stack>
          ) : (
            <Button variant="default" onClick={() => setDisabling(true)}>
              Turn off…
            </Button>
          ))}
      </Stack>
    </Paper>
  )
}

function ApiKeys() {
  const { orgs } = useSession()
  const keys = useAsync(() => must(api.GET('/v1/me/api-keys')), [])
  const [creating, { open, close }] = useDisclosure()
  const [secret, setSecret] = useState<string | null>(null)
  const form = useForm({
    initialValues: { name: '', orgIds: [] as string[], expiresAt: '' },
    validate: { name: (v) => (v.trim() ? null : 'Name the key') },
  })
  return (
    <Paper withBorder p="lg" id="api-keys">
      <Stack>
        <Group justify="space-between">
          <Title order={4}>API keys</Title>
          <Button leftSection={<IconPlus size={16} />} onClick={open}>
            Create key
          </Button>
        </Group>
        {secret && (
          <Alert
            color="yellow"
            title="Your new key (shown once)"
            withCloseButton
            onClose={() => setSecret(null)}
          >
            <Code>{secret}</Code>
            <Text size="xs">Use it as Authorization: Bearer &lt;key&gt;. It is never shown again.</Text>
          </Alert>
        )}
        <Loaded state={keys}>
          {(data) =>
            data.items.length === 0 ? (
              <Alert title="No API keys yet">
                Create key makes one that acts for you, never with more than you hold.
              </Alert>
            ) : (
              <Table.ScrollContainer minWidth={600}>
                <Table aria-label="API keys">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Key</Table.Th>
                      <Table.Th>Limited to</Table.Th>
                      <Table.Th>Expires</Table.Th>
                      <Table.Th>Actions</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.items.map((k) => (
                      <Table.Tr key={k.id}>
                        <Table.Td>{k.name}</Table.Td>
                        <Table.Td>
                          <Code>{k.prefix}…</Code>
                          {k.revokedAt && <Badge color="red">revoked</Badge>}
                        </Table.Td>
                        <Table.Td>
                          {k.orgIds
                            ? k.orgIds.map((id) => orgs.data?.find((o) => o.id === id)?.name ?? id).join(', ')
                            : 'all your orgs'}
                        </Table.Td>
                        <Table.Td>
                          {k.expiresAt ? new Date(k.expiresAt).toLocaleDateString() : 'never'}
                        </Table.Td>
                        <Table.Td>
                          {!k.revokedAt && (
                            <ActionIcon
                              variant="subtle"
                              color="red"
                              aria-label={`Revoke ${k.name}`}
                              onClick={() =>
                                modals.openConfirmModal({
                                  title: 'Revoke key',
                                  children: (
                                    <Text size="sm">Revoke {k.name}? Anything using it stops working.</Text>
                                  ),
                                  labels: { confirm: 'Revoke', cancel: 'Cancel' },
                                  confirmProps: { color: 'red' },
                                  onConfirm: async () => {
                                    if (
                                      await attempt(() =>
                                        must(
                                          api.DELETE('/v1/me/api-keys/{id}', {
                                            params: { path: { id: k.id } },
                                          }),
                                        ),
                                      )
                                    )
                                      keys.reload()
                                  },
                                })
                              }
                            >
                              <IconTrash size={18} />
                            </ActionIcon>
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
      </Stack>
      <Modal opened={creating} onClose={close} title="Create API key">
        <form
          onSubmit={form.onSubmit(async (values) => {
            let created: { secret: string } | undefined
            const ok = await attempt(async () => {
              created = await must(
                api.POST('/v1/me/api-keys', {
                  body: {
                    name: values.name.trim(),
                    ...(values.orgIds.length && { orgIds: values.orgIds }),
                    ...(values.expiresAt && {
                      expiresAt: new Date(`${values.expiresAt}T23:59:59Z`).toISOString(),
                    }),
                  },
                }),
              )
            }, 'Key created')
            if (ok && created) {
              setSecret(created.secret)
              close()
              form.reset()
              keys.reload()
            }
          })}
        >
          <Stack>
            <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
            <MultiSelect
              label="Limit to organizations"
              placeholder="All your organizations"
              data={(orgs.data ?? []).map((o) => ({ value: o.id, label: o.name }))}
              {...form.getInputProps('orgIds')}
            />
            <TextInput label="Expires on" type="date" {...form.getInputProps('expiresAt')} />
            <Button type="submit">Create</Button>
          </Stack>
        </form>
      </Modal>
    </Paper>
  )
}
