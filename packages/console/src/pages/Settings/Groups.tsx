import {
  ActionIcon,
  Alert,
  Button,
  Drawer,
  Group,
  Modal,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { IconPlus, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { groupOrgRoleOptions, useGrantableRoles } from '../../components/grantable-roles.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import type { Group as GroupT } from '../../types.ts'
import { an, useWords } from '../../words.ts'
import { GroupDetail } from './GroupDetail.tsx'
import { groupRoleLabel, teamLevels } from './TeamLevels.tsx'

/**
 * Seed 001's Groups (seed 002's "Roles", seed 003's teams, in the model's words): a named set of members
 * holding roles at the org or on resources, all at once.
 */
export function Groups({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const { model } = useSession()
  const words = useWords()
  const { member, role, top } = words
  const groups = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/groups', { params: { path: { orgId } } })),
    [orgId],
  )
  const [creating, { open, close }] = useDisclosure()
  const [openGroup, setOpenGroup] = useState<GroupT | null>(null)
  // A group's organization role is a grant (issue 19.2): offer only those the signed-in person may give,
  // and none a model group holds (seed 002's ADMIN and DEFAULT: the server refuses them to other groups).
  const grantable = useGrantableRoles(orgId, 'org')
  const orgRoles = groupOrgRoleOptions(grantable.data, model)
  const form = useForm({
    initialValues: { name: '', description: '', role: null as string | null },
    validate: { name: (v) => (v.trim() ? null : `Name the ${words.group.one}`) },
  })
  const remove = (group: GroupT) =>
    modals.openConfirmModal({
      title: `Delete ${words.group.one}`,
      children: (
        <Text size="sm">Delete {group.name}? Its members lose what it granted. This can't be undone.</Text>
      ),
      labels: { confirm: 'Delete', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        if (
          await attempt(
            () =>
              must(api.DELETE('/v1/orgs/{orgId}/groups/{id}', { params: { path: { orgId, id: group.id } } })),
            `${words.group.label} deleted`,
          )
        )
          groups.reload()
      },
    })
  return (
    <Stack>
      {canManage && (
        <Group>
          <Button leftSection={<IconPlus size={16} />} onClick={open}>
            Add
          </Button>
        </Group>
      )}
      <Loaded state={groups}>
        {(data) =>
          data.items.length === 0 ? (
            <Alert title={`No ${words.group.many} yet`}>
              {canManage
                ? `Create the first with Add: ${an(words.group.one)} gives its ${member.many} ${an(role.one)} all at once.`
                : `Nobody has made ${an(words.group.one)} here yet.`}
            </Alert>
          ) : (
            <Table.ScrollContainer minWidth={600}>
              <Table striped highlightOnHover aria-label={words.group.plural}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Description</Table.Th>
                    <Table.Th>{role.label}</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.items.map((g) => (
                    <Table.Tr key={g.id}>
                      <Table.Td>
                        <Button variant="subtle" size="compact-sm" onClick={() => setOpenGroup(g)}>
                          {g.name}
                        </Button>
                      </Table.Td>
                      <Table.Td>{g.description}</Table.Td>
                      <Table.Td>{g.role ? groupRoleLabel(model, g.role) : 'None'}</Table.Td>
                      <Table.Td>{new Date(g.createdAt).toLocaleDateString()}</Table.Td>
                      <Table.Td>
                        {canManage && (
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            aria-label={`Delete ${words.group.one} ${g.name}`}
                            onClick={() => remove(g)}
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
      <Modal opened={creating} onClose={close} title={`Create ${words.group.one}`}>
        <form
          onSubmit={form.onSubmit(async (values) => {
            const ok = await attempt(
              () =>
                must(
                  api.POST('/v1/orgs/{orgId}/groups', {
                    params: { path: { orgId } },
                    body: {
                      name: values.name.trim(),
                      description: values.description,
                      ...(values.role && { role: values.role }),
                    },
                  }),
                ),
              `${words.group.label} created`,
            )
            if (ok) {
              close()
              form.reset()
              groups.reload()
            }
          })}
        >
          <Stack>
            <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
            <Textarea label="Description" {...form.getInputProps('description')} />
            {(model?.teamLevels || orgRoles.length > 0) && (
              <Select
                label={model?.teamLevels ? `${words.group.label} level` : `Organization ${role.one}`}
                placeholder="None"
                clearable
                data={model?.teamLevels ? teamLevels(model) : orgRoles}
                {...form.getInputProps('role')}
              />
            )}
            {top && (
              <Text size="xs" c="dimmed">
                Give it {top.one} {role.many} from the {words.group.one}'s Access Control tab once it exists.
              </Text>
            )}
            <Button type="submit">Create</Button>
          </Stack>
        </form>
      </Modal>
      <Drawer
        opened={!!openGroup}
        onClose={() => setOpenGroup(null)}
        title={openGroup?.name}
        position="right"
        size="lg"
      >
        {openGroup && (
          <GroupDetail orgId={orgId} group={openGroup} canManage={canManage} onChanged={groups.reload} />
        )}
      </Drawer>
    </Stack>
  )
}
