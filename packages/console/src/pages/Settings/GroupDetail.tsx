import {
  ActionIcon,
  Alert,
  Button,
  Checkbox,
  Group,
  Modal,
  ScrollArea,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
} from '@mantine/core'
import { IconPlus, IconSearch, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { groupOrgRoleOptions, roleOptions, useGrantableRoles } from '../../components/grantable-roles.ts'
import { Loaded } from '../../components/Page.tsx'
import { RolePicker } from '../../components/RolePicker.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { type Group as GroupT, roleLabel } from '../../types.ts'
import { an, useWords } from '../../words.ts'
import { MemberLevelSelect, TEAM_ROLE, TeamLevelSelect, topTeamLevel } from './TeamLevels.tsx'

/** The Access Control picker's value for the organization itself (no resourceId). */
const ALL = 'org'

/** A group's drawer: its members (and, outside the teams preset, its organization role) and its access. */
export function GroupDetail(props: {
  orgId: string
  group: GroupT
  canManage: boolean
  /** The group's row changed (its organization role). */
  onChanged: () => void
}) {
  const { orgId, group, canManage } = props
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
  // Only the roles the signed-in person may give at the chosen one (seed 001), once it is chosen.
  const grantable = useGrantableRoles(orgId, type, appId === ALL ? null : appId)
  const appRoles = [
    // Teams (seed 003): the team's access resolves to each member's level, or the team's.
    ...(model?.teamLevels ? [{ value: TEAM_ROLE, label: "Team's level (per member)" }] : []),
    ...roleOptions(grantable.data),
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
              {!model?.teamLevels && (
                <GroupOrgRole
                  orgId={orgId}
                  group={group}
                  value={data.role ?? null}
                  canManage={canManage}
                  onSaved={props.onChanged}
                />
              )}
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

/**
 * A group's organization role, changed in place (issue 19.2: it is the group's org-scope binding, one PATCH,
 * never a window with two roles or none). Offers what the signed-in person may give and the role it holds;
 * a model group's (DEFAULT, ADMIN) is its own for good, so it is shown, not offered.
 */
function GroupOrgRole(props: {
  orgId: string
  group: GroupT
  value: string | null
  canManage: boolean
  onSaved: () => void
}) {
  const { model } = useSession()
  const words = useWords()
  const grantable = useGrantableRoles(props.orgId, 'org')
  const [value, setValue] = useState(props.value)
  const builtIn = model?.org.groups?.some((g) => g.name === props.group.name)
  const options = groupOrgRoleOptions(grantable.data, model, props.value)
  const label = `Organization ${words.role.one}`
  // Nothing to offer (seed 002: both organization roles are DEFAULT's and ADMIN's): said, not a picker.
  if (builtIn || !props.canManage || options.length === 0)
    return (
      <Text size="sm">
        {label}: {props.value ? roleLabel(model, props.value) : 'None'}
      </Text>
    )
  return (
    <Select
      label={label}
      placeholder="None"
      clearable
      data={options}
      value={value}
      onChange={async (role) => {
        const ok = await attempt(
          () =>
            must(
              api.PATCH('/v1/orgs/{orgId}/groups/{id}', {
                params: { path: { orgId: props.orgId, id: props.group.id } },
                body: { role: role ?? null },
              }),
            ),
          `${label} saved`,
        )
        if (ok) {
          setValue(role)
          props.onSaved()
        }
      }}
    />
  )
}
