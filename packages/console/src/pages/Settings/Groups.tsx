import {
  ActionIcon,
  Alert,
  Button,
  Checkbox,
  Drawer,
  Group,
  Modal,
  ScrollArea,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { IconPlus, IconSearch, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { type Group as GroupT, roleLabel } from '../../types.ts'
import { an, useWords } from '../../words.ts'
import { RolePicker } from '../Apps/AccessTab.tsx'
import {
  groupRoleLabel,
  MemberLevelSelect,
  TEAM_ROLE,
  TeamLevelSelect,
  teamLevels,
  topTeamLevel,
} from './TeamLevels.tsx'

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
  // A group's organization role is a grant (issue 19.2): offer only those the signed-in person may give.
  const grantable = useAsync(
    async () =>
      (
        await must(
          api.GET('/v1/orgs/{orgId}/roles', { params: { path: { orgId }, query: { grantable: 'true' } } }),
        )
      ).items,
    [orgId],
  )
  const orgRoles = (grantable.data ?? [])
    .filter((r) => r.scope === 'org' && r.grantable)
    .sort((a, b) => b.priority - a.priority)
    .map((r) => ({ value: r.key, label: r.label }))
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
            <Select
              label={model?.teamLevels ? `${words.group.label} level` : `Organization ${role.one}`}
              placeholder="None"
              clearable
              data={model?.teamLevels ? teamLevels(model) : orgRoles}
              {...form.getInputProps('role')}
            />
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
        {openGroup && <GroupDetail orgId={orgId} group={openGroup} canManage={canManage} />}
      </Drawer>
    </Stack>
  )
}

/** The Access Control picker's value for the organization itself (no resourceId). */
const ALL = 'org'

function GroupDetail({ orgId, group, canManage }: { orgId: string; group: GroupT; canManage: boolean }) {
  const { model, me } = useSession()
  const words = useWords()
  const { top, member, role } = words
  const { type, label: typeLabel } = top ?? { type: '', label: '' }
  const detail = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/groups/{id}', { params: { path: { orgId, id: group.id } } })),
    [orgId, group.id],
  )
  const access = useAsync(async () => {
    const [bindings, apps] = await Promise.all([
      must(
        api.GET('/v1/orgs/{orgId}/bindings', { params: { path: { orgId }, query: { groupId: group.id } } }),
      ),
      type
        ? must(
            api.GET('/v1/orgs/{orgId}/resources', {
              params: { path: { orgId }, query: { type, limit: 200 } },
            }),
          )
        : { items: [] },
    ])
    return { bindings: bindings.items, apps: apps.items }
  }, [orgId, group.id, type])
  const [adding, setAdding] = useState(false)
  const [appId, setAppId] = useState<string | null>(null)
  const appRoles = [
    // Teams (seed 003): the team's access resolves to each member's level, or the team's.
    ...(model?.teamLevels ? [{ value: TEAM_ROLE, label: "Team's level (per member)" }] : []),
    ...Object.entries(model?.roles ?? {})
      .filter(([, r]) => r.scope === type)
      .map(([key, r]) => ({ value: key, label: r.label })),
  ]
  return (
    <Tabs defaultValue="members">
      <Tabs.List>
        <Tabs.Tab value="members">{member.plural}</Tabs.Tab>
        <Tabs.Tab value="access">Access Control</Tabs.Tab>
      </Tabs.List>
      <Tabs.Panel value="members" pt="md">
        <Loaded state={detail}>
          {(data) => (
            <Stack>
              {model?.teamLevels && (
                <TeamLevelSelect
                  orgId={orgId}
                  groupId={group.id}
                  model={model}
                  value={data.role ?? null}
                  canManage={canManage}
                />
              )}
              {canManage && (
                <Group>
                  <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setAdding(true)}>
                    Add
                  </Button>
                </Group>
              )}
              <Table aria-label={`${words.group.label} members`}>
                <Table.Tbody>
                  {data.members.map((m) => (
                    <Table.Tr key={m.userId}>
                      <Table.Td>{m.name}</Table.Td>
                      <Table.Td>{m.email}</Table.Td>
                      {model?.teamLevels && (
                        <Table.Td>
                          <MemberLevelSelect
                            orgId={orgId}
                            groupId={group.id}
                            userId={m.userId}
                            email={m.email}
                            model={model}
                            value={m.memberRole}
                            canManage={
                              canManage ||
                              // Seed 003: the team's administrators set its members' levels.
                              data.members.some(
                                (x) => x.userId === me?.id && x.effectiveRole === topTeamLevel(model),
                              )
                            }
                            suspended={m.memberRoleSuspended}
                          />
                        </Table.Td>
                      )}
                      <Table.Td>
                        {canManage && (
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            aria-label={`Remove ${m.email} from the ${words.group.one}`}
                            onClick={async () => {
                              if (
                                await attempt(() =>
                                  must(
                                    api.DELETE('/v1/orgs/{orgId}/groups/{id}/members/{userId}', {
                                      params: { path: { orgId, id: group.id, userId: m.userId } },
                                    }),
                                  ),
                                )
                              )
                                detail.reload()
                            }}
                          >
                            <IconTrash size={16} />
                          </ActionIcon>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {data.members.length === 0 && (
                <Alert title={`No ${member.many} in this ${words.group.one} yet`}>
                  {canManage ? `Add ${member.many} with Add.` : `Its ${member.many} will be listed here.`}
                </Alert>
              )}
              <Modal opened={adding} onClose={() => setAdding(false)} title={`Add ${member.many}`}>
                {adding && (
                  <AddMembers
                    orgId={orgId}
                    already={new Set(data.members.map((m) => m.userId))}
                    onAdd={async (userIds) => {
                      await attempt(async () => {
                        for (const userId of userIds)
                          await must(
                            api.PUT('/v1/orgs/{orgId}/groups/{id}/members/{userId}', {
                              params: { path: { orgId, id: group.id, userId } },
                            }),
                          )
                      }, `${member.plural} added`)
                      setAdding(false)
                      detail.reload()
                    }}
                  />
                )}
              </Modal>
            </Stack>
          )}
        </Loaded>
      </Tabs.Panel>
      <Tabs.Panel value="access" pt="md">
        <Loaded state={access}>
          {(data) => (
            <Stack>
              <Table aria-label={`${words.group.label} access`}>
                <Table.Tbody>
                  {data.bindings.map((b) => (
                    <Table.Tr key={b.id}>
                      <Table.Td>
                        {b.scope.type === 'org'
                          ? 'Organization'
                          : (data.apps.find((a) => a.id === b.scope.id)?.name ?? b.scope.id)}
                      </Table.Td>
                      <Table.Td>
                        {b.role === TEAM_ROLE ? "Team's level (per member)" : roleLabel(model, b.role)}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {data.bindings.length === 0 && (
                <Alert title={`This ${words.group.one} gives no access yet`}>
                  {canManage && top
                    ? `Pick ${an(top.one)} and ${an(role.one)} below: its ${member.many} get it at once.`
                    : `What its ${member.many} get through it will be listed here.`}
                </Alert>
              )}
              {canManage && top && (
                <Stack gap="xs">
                  <Select
                    label={typeLabel}
                    placeholder={`+ Add ${typeLabel}`}
                    searchable
                    data={[
                      // A team given the organization reaches every resource (seed 003: "all repositories").
                      ...(model?.teamLevels
                        ? [{ value: ALL, label: `Every ${typeLabel.toLowerCase()} (the organization)` }]
                        : []),
                      ...data.apps.map((a) => ({ value: a.id, label: a.name })),
                    ]}
                    value={appId}
                    onChange={setAppId}
                  />
                  <RolePicker
                    roles={appId === ALL ? appRoles.filter((r) => r.value === TEAM_ROLE) : appRoles}
                    confirm="Assign"
                    onConfirm={async (role) => {
                      if (!appId) return
                      if (
                        await attempt(
                          () =>
                            must(
                              api.POST('/v1/orgs/{orgId}/bindings', {
                                params: { path: { orgId } },
                                body: {
                                  principal: { type: 'group', id: group.id },
                                  role,
                                  ...(appId !== ALL && { resourceId: appId }),
                                },
                              }),
                            ),
                          `${typeLabel || 'Organization'} ${words.role.one} assigned`,
                        )
                      )
                        access.reload()
                    }}
                  />
                </Stack>
              )}
            </Stack>
          )}
        </Loaded>
      </Tabs.Panel>
    </Tabs>
  )
}

function AddMembers(props: {
  orgId: string
  already: Set<string>
  onAdd: (userIds: string[]) => Promise<void>
}) {
  const { member } = useWords()
  const members = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId: props.orgId } } })),
    [props.orgId],
  )
  const [search, setSearch] = useState('')
  const [chosen, setChosen] = useState<string[]>([])
  const q = search.toLowerCase()
  return (
    <Loaded state={members}>
      {(data) => (
        <Stack>
          <TextInput
            aria-label={`Search ${member.many}`}
            placeholder="Search by name"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
          />
          <ScrollArea.Autosize mah={320}>
            <Checkbox.Group value={chosen} onChange={setChosen}>
              <Stack gap="xs">
                {data.items
                  .filter((m) => m.userId && m.status === 'active' && !props.already.has(m.userId))
                  .filter((m) => !q || m.name.toLowerCase().includes(q) || m.email.toLowerCase().includes(q))
                  .map((m) => (
                    <Checkbox key={m.userId} value={m.userId!} label={`${m.name} <${m.email}>`} />
                  ))}
              </Stack>
            </Checkbox.Group>
          </ScrollArea.Autosize>
          {!data.items.some((m) => m.userId && m.status === 'active' && !props.already.has(m.userId)) && (
            <Alert title={`No ${member.many} left to add`}>
              Every active {member.one} is in it already; invite more from the {member.plural} tab.
            </Alert>
          )}
          <Button disabled={chosen.length === 0} onClick={() => props.onAdd(chosen)}>
            Add {member.many}
          </Button>
        </Stack>
      )}
    </Loaded>
  )
}
