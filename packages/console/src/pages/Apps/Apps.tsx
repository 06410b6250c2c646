import { Alert, Button, Group, Modal, Stack, Table, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { IconPlus } from '@tabler/icons-react'
import { api, must } from '../../api.ts'
import { Loaded, Page } from '../../components/Page.tsx'
import { attempt, useAsync, useOrgPermissions } from '../../hooks.ts'
import { Link, navigate } from '../../router.tsx'
import { useSession } from '../../session.tsx'

/** The model's top resource type below the org ("app" in capgo): the console's Apps list. */
/** The model's label in the plural: "Apps", "Repositories". */
const plural = (label: string) => (/[^aeiou]y$/i.test(label) ? `${label.slice(0, -1)}ies` : `${label}s`)

export function appType(model: ReturnType<typeof useSession>['model']): { type: string; label: string } {
  const entry = Object.entries(model?.resourceTypes ?? {}).find(([, def]) => def.parent === 'org')
  return { type: entry?.[0] ?? 'app', label: entry?.[1].label ?? 'App' }
}

export function Apps({ orgId }: { orgId: string }) {
  const { model } = useSession()
  const { type, label } = appType(model)
  const createPermission = model?.resourceTypes[type]?.actions?.create ?? 'org.create_app'
  const can = useOrgPermissions(orgId, [createPermission])
  const apps = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/resources', { params: { path: { orgId }, query: { type, limit: 200 } } }),
      ),
    [orgId, type],
  )
  const [opened, { open, close }] = useDisclosure()
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (v) => (v.trim() ? null : `Name the ${label.toLowerCase()}`) },
  })
  return (
    <Page
      title={plural(label)}
      actions={
        can.data?.[createPermission] && (
          <Button leftSection={<IconPlus size={16} />} onClick={open}>
            New {label.toLowerCase()}
          </Button>
        )
      }
    >
      <Loaded state={apps}>
        {(data) =>
          data.items.length === 0 ? (
            <Alert>
              {can.data?.[createPermission]
                ? `No ${plural(label).toLowerCase()} yet.`
                : `No ${plural(label).toLowerCase()} you can open here.`}
            </Alert>
          ) : (
            <Table.ScrollContainer minWidth={400}>
              <Table striped highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Open</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.items.map((app) => (
                    <Table.Tr key={app.id}>
                      <Table.Td>
                        <Link to={`/orgs/${orgId}/apps/${app.id}`}>{app.name}</Link>
                      </Table.Td>
                      <Table.Td>{new Date(app.createdAt).toLocaleDateString()}</Table.Td>
                      <Table.Td>
                        <Group gap="xs">
                          <Link to={`/orgs/${orgId}/apps/${app.id}/channels`}>Channels</Link>
                          <Link to={`/orgs/${orgId}/apps/${app.id}/access`}>Access</Link>
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
      <Modal opened={opened} onClose={close} title={`New ${label.toLowerCase()}`}>
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
              You can add channels and grant access once it exists.
            </Text>
            <Button type="submit">Create</Button>
          </Stack>
        </form>
      </Modal>
    </Page>
  )
}
