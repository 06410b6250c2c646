import { Alert, Badge, Button, Group, Modal, Stack, Table, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { IconPlus } from '@tabler/icons-react'
import { useEffect } from 'react'
import { api, must } from '../../api.ts'
import { Loaded, Page } from '../../components/Page.tsx'
import { attempt, useAsync, useChecks, useOrgPermissions } from '../../hooks.ts'
import { Link, navigate } from '../../router.tsx'
import { useSession } from '../../session.tsx'
import { manageAccessPermission } from '../../types.ts'
import { orgHome, wordsOf } from '../../words.ts'

/** The model's top resource type below the org ("app" in capgo): the console's main list (words.ts). */
export function appType(model: ReturnType<typeof useSession>['model']): { type: string; label: string } {
  const top = wordsOf(model).top
  return { type: top?.type ?? '', label: top?.label ?? '' }
}

export function Apps({ orgId }: { orgId: string }) {
  const { model } = useSession()
  const words = wordsOf(model)
  const { type, label, plural, one, many } = words.top ?? {
    type: '',
    label: '',
    plural: '',
    one: '',
    many: '',
  }
  const inner = words.childOf(type)
  // A model without resource types (seed 004) has no such list: its orgs open on their members.
  const none = !!model && !words.top
  const home = orgHome(words, orgId)
  useEffect(() => {
    if (none) navigate(home, true)
  }, [none, home])
  const createPermission = model?.resourceTypes[type]?.actions?.create ?? 'org.create_app'
  const can = useOrgPermissions(orgId, [createPermission, 'org.read_access', 'org.update_user_roles'])
  // Seed 002's Projects list: who has access to each, at what level (external accounts marked), and a
  // delete button for a project nobody has access to ("it can be removed … permanently").
  const listsAccess = !!model?.resourceTypes[type]?.deleteOnlyWithoutAccess && !!can.data?.['org.read_access']
  const apps = useAsync(
    async () =>
      type
        ? (
            await must(
              api.GET('/v1/orgs/{orgId}/resources', {
                params: { path: { orgId }, query: { type, limit: 200 } },
              }),
            )
          ).items
        : undefined, // the model still loading: a loader, not an empty list
    [orgId, type],
  )
  // An app's Access tab opens for who may read the org's access or manage that app's (AppDetail.tsx).
  const manageAccess = manageAccessPermission(model, type)
  const perApp = !manageAccess.startsWith('org.')
  const manages = useChecks(
    perApp && apps.data && !can.data?.['org.read_access']
      ? apps.data.map((app) => ({ permission: manageAccess, resource: { type, id: app.id } }))
      : [],
  )
  const mayOpenAccess = (appId: string) =>
    !!can.data?.['org.read_access'] ||
    (perApp ? !!manages.data?.[`${manageAccess}@${appId}`] : !!can.data?.['org.update_user_roles'])
  const access = useAsync(async () => {
    if (!listsAccess || !apps.data) return {}
    const entries = await Promise.all(
      apps.data.map(async (app) => {
        const reply = await must(
          api.GET('/v1/orgs/{orgId}/resources/{id}/access', { params: { path: { orgId, id: app.id } } }),
        )
        return [app.id, reply.entries.filter((e) => !e.inherited)] as const
      }),
    )
    return Object.fromEntries(entries)
  }, [orgId, listsAccess, apps.data])
  const remove = async (app: { id: string; name: string }) => {
    const ok = await attempt(
      () => must(api.DELETE('/v1/orgs/{orgId}/resources/{id}', { params: { path: { orgId, id: app.id } } })),
      `${app.name} deleted`,
    )
    if (ok) apps.reload()
  }
  const [opened, { open, close }] = useDisclosure()
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (v) => (v.trim() ? null : `Name the ${one}`) },
  })
  return (
    <Page
      title={plural}
      actions={
        can.data?.[createPermission] && (
          <Button leftSection={<IconPlus size={16} />} onClick={open}>
            New {one}
          </Button>
        )
      }
    >
      <Loaded state={apps}>
        {(items) =>
          items.length === 0 ? (
            <Alert title={`No ${many} yet`}>
              {can.data?.[createPermission]
                ? `Create the first with New ${one}.`
                : `No ${one} here is open to you; an administrator can give you access.`}
            </Alert>
          ) : (
            <Table.ScrollContainer minWidth={400}>
              <Table striped highlightOnHover aria-label={plural}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    {listsAccess && <Table.Th>Access</Table.Th>}
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Open</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((app) => (
                    <Table.Tr key={app.id}>
                      <Table.Td>
                        <Link to={`/orgs/${orgId}/apps/${app.id}`}>{app.name}</Link>
                      </Table.Td>
                      {listsAccess && (
                        <Table.Td>
                          <Group gap={4} role="group" aria-label={`Access to ${app.name}`}>
                            {(access.data?.[app.id] ?? []).map((e) => (
                              <Badge
                                key={e.bindingId}
                                variant="light"
                                color={e.principal.external ? 'blue' : 'gray'}
                                title={e.principal.external ? 'External account' : undefined}
                              >
                                {e.principal.email || e.principal.name}:{' '}
                                {model?.roles[e.role]?.label ?? e.role}
                                {e.principal.external ? ' (external)' : ''}
                              </Badge>
                            ))}
                          </Group>
                        </Table.Td>
                      )}
                      <Table.Td>{new Date(app.createdAt).toLocaleDateString()}</Table.Td>
                      <Table.Td>
                        <Group gap="xs">
                          {inner && <Link to={`/orgs/${orgId}/apps/${app.id}/channels`}>{inner.plural}</Link>}
                          {/* The app page's Access tab shows on the same check (AppDetail.tsx). */}
                          {mayOpenAccess(app.id) && (
                            <Link to={`/orgs/${orgId}/apps/${app.id}/access`}>Access</Link>
                          )}
                          {listsAccess && access.data?.[app.id]?.length === 0 && (
                            <Button
                              size="compact-xs"
                              color="red"
                              variant="subtle"
                              aria-label={`Delete ${app.name}`}
                              onClick={() => remove(app)}
                            >
                              Delete
                            </Button>
                          )}
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
      <Modal opened={opened} onClose={close} title={`New ${one}`}>
        <form
          onSubmit={form.onSubmit(async (values) => {
            let id = ''
            const ok = await attempt(async () => {
              id = (
                await must(
                  api.POST('/v1/orgs/{orgId}/resources', {
                    params: { path: { orgId } },
                    body: { type, name: values.name.trim() },
                  }),
                )
              ).id
            }, `${label} created`)
            if (ok) {
              close()
              form.reset()
              navigate(`/orgs/${orgId}/apps/${id}`)
            }
          })}
        >
          <Stack>
            <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
            <Text size="xs" c="dimmed">
              {inner
                ? `You can add ${inner.many} and grant access once it exists.`
                : 'You can grant access once it exists.'}
            </Text>
            <Button type="submit">Create</Button>
          </Stack>
        </form>
      </Modal>
    </Page>
  )
}
