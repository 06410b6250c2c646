import { Alert, Badge, Button, Group, Modal, Stack, Table, Tabs, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { IconPlus } from '@tabler/icons-react'
import { api, must } from '../../api.ts'
import { ResourceActions } from '../../components/ManageResource.tsx'
import { Loaded, Page } from '../../components/Page.tsx'
import { attempt, useAsync, useChecks } from '../../hooks.ts'
import { Link, navigate } from '../../router.tsx'
import { useSession } from '../../session.tsx'
import { manageAccessPermission } from '../../types.ts'
import { type ResourceWord, wordsOf } from '../../words.ts'
import { AccessTab } from './AccessTab.tsx'

export function AppDetail({ orgId, appId, tab }: { orgId: string; appId: string; tab: string }) {
  const { model } = useSession()
  const words = wordsOf(model)
  const appTypeKey = words.top?.type ?? ''
  const inner = words.childOf(appTypeKey)
  const channelType = inner?.type
  // Without an inner type (projects, repositories) the Access tab is all there is.
  const current = !channelType && tab === 'channels' ? 'access' : tab
  const app = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/resources/{id}', { params: { path: { orgId, id: appId } } })),
    [orgId, appId],
  )
  const createChannel = channelType ? model?.resourceTypes[channelType]?.actions?.create : undefined
  const manageAccess = manageAccessPermission(model, appTypeKey)
  const checks = useChecks(
    model
      ? [
          ...(createChannel
            ? [{ permission: createChannel, resource: { type: appTypeKey, id: appId } }]
            : []),
          {
            permission: manageAccess,
            resource: manageAccess.startsWith('org.') ? { org: orgId } : { type: appTypeKey, id: appId },
          },
          { permission: 'org.read_access', resource: { org: orgId } },
        ]
      : [],
  )
  const can = (permission: string) =>
    Object.entries(checks.data ?? {}).some(([k, v]) => v && k.startsWith(`${permission}@`))
  // Who may read the org's access, or manage this app's (seed 001's App Admin: roles on the app only).
  const mayOpenAccess = can('org.read_access') || can(manageAccess)
  return (
    <Loaded state={app}>
      {(resource) => (
        <Page
          title={
            <>
              <Link to={`/orgs/${orgId}/apps`}>{words.top?.plural}</Link> / {resource.name}
            </>
          }
          actions={
            <ResourceActions
              orgId={orgId}
              resource={resource}
              onChanged={app.reload}
              onGone={(to) => navigate(to ? `/orgs/${to}/apps/${appId}` : `/orgs/${orgId}/apps`)}
            />
          }
        >
          <Tabs
            value={current}
            onChange={(value) => value && navigate(`/orgs/${orgId}/apps/${appId}/${value}`)}
          >
            <Tabs.List>
              {inner && <Tabs.Tab value="channels">{inner.plural}</Tabs.Tab>}
              {mayOpenAccess && <Tabs.Tab value="access">Access</Tabs.Tab>}
            </Tabs.List>
            <Tabs.Panel value="channels" pt="md">
              {inner && (
                <Channels
                  orgId={orgId}
                  appId={appId}
                  inner={inner}
                  parent={words.top?.one ?? ''}
                  canCreate={!!createChannel && can(createChannel)}
                />
              )}
            </Tabs.Panel>
            <Tabs.Panel value="access" pt="md">
              {/* Once the checks answer (not the last app's, not none while the model loads). Its address typed
                  or kept by someone who may not see it: said once, not refused twice. */}
              {current === 'access' &&
                !!model &&
                !!checks.data &&
                !checks.loading &&
                (mayOpenAccess ? (
                  <AccessTab
                    orgId={orgId}
                    app={resource}
                    channelType={channelType}
                    canManage={can(manageAccess)}
                    canRead={can('org.read_access')}
                  />
                ) : (
                  <Alert color="yellow" title="Not for you to see">
                    Who has access to this {words.top?.one} is for those who may read the organization's
                    access or manage this {words.top?.one}'s: ask an owner of the organization.{' '}
                    {inner && (
                      <Link to={`/orgs/${orgId}/apps/${appId}/channels`} inherit>
                        Back to its {inner.many}
                      </Link>
                    )}
                  </Alert>
                ))}
            </Tabs.Panel>
          </Tabs>
        </Page>
      )}
    </Loaded>
  )
}

function Channels(props: {
  orgId: string
  appId: string
  inner: ResourceWord
  parent: string
  canCreate: boolean
}) {
  const { orgId, appId, inner, canCreate } = props
  const { type, label } = inner
  const channels = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/resources', {
          params: { path: { orgId }, query: { type, parentId: appId, limit: 200 } },
        }),
      ),
    [orgId, appId, type],
  )
  const [opened, { open, close }] = useDisclosure()
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (v) => (v.trim() ? null : 'Name it') },
  })
  return (
    <Stack>
      {canCreate && (
        <Group>
          <Button leftSection={<IconPlus size={16} />} onClick={open}>
            New {inner.one}
          </Button>
        </Group>
      )}
      <Loaded state={channels}>
        {(data) =>
          data.items.length === 0 ? (
            <Alert title={`No ${inner.many} yet`}>
              {canCreate
                ? `Create the first with New ${inner.one}.`
                : `This ${props.parent} has no ${inner.many}; someone who manages it can add them.`}
            </Alert>
          ) : (
            <Table striped aria-label={inner.plural}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th aria-label="Actions" />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.items.map((channel) => (
                  <Table.Tr key={channel.id}>
                    <Table.Td>
                      <Group gap="xs">
                        {channel.name}
                        <Badge variant="light" size="sm">
                          {label}
                        </Badge>
                      </Group>
                    </Table.Td>
                    <Table.Td>{new Date(channel.createdAt).toLocaleString()}</Table.Td>
                    <Table.Td>
                      <ResourceActions
                        orgId={orgId}
                        resource={channel}
                        onChanged={channels.reload}
                        onGone={channels.reload}
                      />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </Loaded>
      <Modal opened={opened} onClose={close} title={`New ${inner.one}`}>
        <form
          onSubmit={form.onSubmit(async (values) => {
            const ok = await attempt(
              () =>
                must(
                  api.POST('/v1/orgs/{orgId}/resources', {
                    params: { path: { orgId } },
                    body: { type, name: values.name.trim(), parentId: appId },
                  }),
                ),
              `${label} created`,
            )
            if (ok) {
              close()
              form.reset()
              channels.reload()
            }
          })}
        >
          <Stack>
            <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
            <Text size="xs" c="dimmed">
              Access to it follows the {props.parent}'s roles until you override it per person or group.
            </Text>
            <Button type="submit">Create</Button>
          </Stack>
        </form>
      </Modal>
    </Stack>
  )
}
