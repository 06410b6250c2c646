import {
  ActionIcon,
  Alert,
  Avatar,
  Badge,
  Button,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core'
import { modals } from '@mantine/modals'
import {
  IconMailForward,
  IconPlus,
  IconSearch,
  IconShield,
  IconTool,
  IconTrash,
  IconX,
} from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { GrantAccess } from '../../components/GrantAccess.tsx'
import { useGrantableRoles } from '../../components/grantable-roles.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, type Can, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { type Member, roleLabel } from '../../types.ts'
import { an, useWords } from '../../words.ts'
import { InviteForm, RoleChoice } from './InviteMember.tsx'
import { ManageRoles } from './ManageRoles.tsx'
import { RoleSetChoice, severalSlots } from './RoleSet.tsx'

const initials = (name: string) =>
  name
    .split(/\s+/)
    .map((w) => w[0])
    .join('')
    .slice(0, 2)
    .toUpperCase()

/** Seed 001's Members tab: sorted by role priority (the server's order), Active / Pending, search. */
export function Members({ orgId, can }: { orgId: string; can: Can }) {
  const { model, me } = useSession()
  const words = useWords()
  const { top, member } = words
  const inner = words.childOf(top?.type)
  const members = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId } } })),
    [orgId],
  )
  // Seed 001: the pickers offer only the roles the signed-in person may give here (the server says which).
  const roles = useGrantableRoles(orgId, 'org')
  const [search, setSearch] = useState('')
  const [inviteRoles, setInviteRoles] = useState<string[] | null>(null)
  const [choosingRole, setChoosingRole] = useState(false)
  const [editing, setEditing] = useState<Member | null>(null)
  const [appAccessFor, setAppAccessFor] = useState<Member | null>(null)
  const canInvite = can['org.invite_user']
  const canEdit = can['org.update_user_roles']

  /**
   * The org's owners as the server counts them for LAST_OWNER: active direct members holding an owner role,
   * their own or through a group (the list's roles carry both).
   */
  const owners = (items: readonly Member[]) =>
    items.filter(
      (m) =>
        m.status === 'active' &&
        m.source === 'direct' &&
        m.roles.some((r) => model?.org.ownerRoles.includes(r)),
    )
  const remove = (member: Member) => {
    const left = owners(members.data?.items ?? [])
    // The last owner can't go (the server refuses: LAST_OWNER): said before a delete dialog, with what to do.
    if (left.length === 1 && left[0]!.userId === member.userId) {
      const role = member.roles
        .filter((r) => model?.org.ownerRoles.includes(r))
        .map((r) => roleLabel(model, r))
        .join(' / ')
      const you = member.userId === me?.id
      return modals.open({
        title: you ? 'You are the last owner' : `${member.name || member.email} is the last owner`,
        children: (
          <Stack>
            <Text size="sm">
              {you ? 'You are' : `${member.name || member.email} is`} the only {role} of this organization,
              and it must always have one. Make someone else {an(role)} first (Edit role), then{' '}
              {you ? 'you can leave' : 'remove them'}.
            </Text>
            <Group justify="flex-end">
              <Button onClick={() => modals.closeAll()}>OK</Button>
            </Group>
          </Stack>
        ),
      })
    }
    return modals.openConfirmModal({
      title: 'Confirm Delete',
      children: (
        <Text size="sm">
          Remove {member.name} ({member.email}) from the organization? This revokes all their access to it
          {top && `, its ${top.many}${inner ? ` and ${inner.many}` : ''}`} immediately. This action is not
          reversible.
        </Text>
      ),
      labels: { confirm: 'Delete', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        if (
          await attempt(
            () =>
              must(
                api.DELETE('/v1/orgs/{orgId}/members/{userId}', {
                  params: { path: { orgId, userId: member.userId! } },
                }),
              ),
            `${member.name} removed`,
          )
        )
          members.reload()
      },
    })
  }
  const revoke = (member: Member) =>
    modals.openConfirmModal({
      title: 'Revoke invitation',
      children: <Text size="sm">Revoke the invitation sent to {member.email}? Its link stops working.</Text>,
      labels: { confirm: 'Revoke', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        if (
          await attempt(
            () =>
              must(
                api.DELETE('/v1/orgs/{orgId}/invitations/{id}', {
                  params: { path: { orgId, id: member.invitationId! } },
                }),
              ),
            'Invitation revoked',
          )
        )
          members.reload()
      },
    })

  const q = search.trim().toLowerCase()
  const matches = (m: Member) => !q || m.name.toLowerCase().includes(q) || m.email.toLowerCase().includes(q)
  const noneShown = !!members.data && !members.data.items.some(matches)
  return (
    <Stack>
      <Group justify="space-between">
        <TextInput
          aria-label={`Search ${member.many}`}
          placeholder="Search by name or email"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={320}
          maw="100%"
        />
        {canInvite && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setChoosingRole(true)}>
            Add
          </Button>
        )}
      </Group>
      <Loaded state={members}>
        {(data) => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover aria-label={member.plural}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{member.label}</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.items.filter(matches).map((m) => (
                  <Table.Tr key={m.userId ?? m.invitationId ?? m.email} data-email={m.email}>
                    <Table.Td>
                      <Group gap="sm" wrap="nowrap">
                        <Avatar color="indigo" radius="xl" aria-hidden>
                          {initials(m.name || m.email)}
                        </Avatar>
                        <div>
                          <Text size="sm" fw={500}>
                            {m.name || m.email}
                            {m.userId === me?.id && ' (you)'}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {m.email}
                          </Text>
                        </div>
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs">
                        <Text size="sm">{m.roles.map((r) => roleLabel(model, r)).join(', ') || '—'}</Text>
                        {/* Seed 002: "You may assign each account multiple Roles": every group they are in. */}
                        {m.groups.map((g) => (
                          <Badge key={g.id} variant="outline" color="gray" title={words.group.label}>
                            {g.name}
                          </Badge>
                        ))}
                        {m.status === 'active' ? (
                          <Badge color="green" variant="light">
                            Active
                          </Badge>
                        ) : (
                          <Badge color="orange">Pending</Badge>
                        )}
                        {m.source !== 'direct' && (
                          <Tooltip
                            label={
                              m.source === 'inherited'
                                ? `A ${member.one} through a parent organization`
                                : `Holds access to ${top?.many ?? 'resources'} here without being ${an(member.one)}`
                            }
                          >
                            <Badge color="gray" variant="outline">
                              {m.source}
                            </Badge>
                          </Tooltip>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        {m.status === 'active' && m.source === 'direct' && canEdit && (
                          <>
                            <Tooltip label="Edit role">
                              <ActionIcon
                                variant="subtle"
                                aria-label={`Edit role of ${m.email}`}
                                onClick={() => setEditing(m)}
                              >
                                <IconTool size={18} />
                              </ActionIcon>
                            </Tooltip>
                            {top && (
                              <Tooltip label={`${top.label} access`}>
                                <ActionIcon
                                  variant="subtle"
                                  aria-label={`${top.label} access of ${m.email}`}
                                  onClick={() => setAppAccessFor(m)}
                                >
                                  <IconShield size={18} />
                                </ActionIcon>
                              </Tooltip>
                            )}
                            <Tooltip label="Remove">
                              <ActionIcon
                                variant="subtle"
                                color="red"
                                aria-label={`Remove ${m.email}`}
                                onClick={() => remove(m)}
                              >
                                <IconTrash size={18} />
                              </ActionIcon>
                            </Tooltip>
                          </>
                        )}
                        {m.status === 'pending' && m.invitationId && canInvite && (
                          <>
                            <Tooltip label="Resend invitation">
                              <ActionIcon
                                variant="subtle"
                                aria-label={`Resend invitation to ${m.email}`}
                                onClick={() =>
                                  attempt(
                                    () =>
                                      must(
                                        api.POST('/v1/orgs/{orgId}/invitations/{id}/resend', {
                                          params: { path: { orgId, id: m.invitationId! } },
                                        }),
                                      ),
                                    'Invitation sent again',
                                  )
                                }
                              >
                                <IconMailForward size={18} />
                              </ActionIcon>
                            </Tooltip>
                            <Tooltip label="Revoke invitation">
                              <ActionIcon
                                variant="subtle"
                                color="red"
                                aria-label={`Revoke invitation to ${m.email}`}
                                onClick={() => revoke(m)}
                              >
                                <IconX size={18} />
                              </ActionIcon>
                            </Tooltip>
                          </>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Loaded>
      {noneShown && (
        <Alert title={q ? `No ${member.many} match “${search.trim()}”` : `No ${member.many} yet`}>
          {q
            ? 'Search by another name or email.'
            : canInvite
              ? `Invite the first with Add.`
              : `Nobody belongs to this organization yet.`}
        </Alert>
      )}
      <Modal opened={choosingRole} onClose={() => setChoosingRole(false)} title="Select a role">
        <Loaded state={roles}>
          {(all) => {
            const list = all.filter((r) => r.grantable)
            // Seed 004: several module roles at once, ticked; otherwise one role, chosen.
            return severalSlots(list) ? (
              <RoleSetChoice
                roles={list}
                initial={list.some((r) => r.key === model?.org.defaultRole) ? [model!.org.defaultRole] : []}
                confirm="Confirm"
                note={`The invitee joins as ${an(roleLabel(model, model?.org.defaultRole ?? ''))} with read only access, plus the roles ticked.`}
                onConfirm={(chosen) => {
                  setChoosingRole(false)
                  setInviteRoles(chosen)
                }}
              />
            ) : (
              <RoleChoice
                roles={list}
                confirm="Confirm"
                onConfirm={(role) => {
                  setChoosingRole(false)
                  setInviteRoles([role])
                }}
              />
            )
          }}
        </Loaded>
      </Modal>
      <Modal opened={!!inviteRoles} onClose={() => setInviteRoles(null)} title={`Invite ${an(member.one)}`}>
        {inviteRoles && (
          <InviteForm
            orgId={orgId}
            roles={inviteRoles}
            all={roles.data ?? []}
            onSent={() => {
              setInviteRoles(null)
              members.reload()
            }}
          />
        )}
      </Modal>
      <Modal
        opened={!!editing}
        onClose={() => setEditing(null)}
        title={roles.data && severalSlots(roles.data) ? 'Manage Roles' : 'Select a role'}
        size={roles.data && severalSlots(roles.data) ? 'xl' : 'md'}
      >
        {editing && (
          <Loaded state={roles}>
            {(all) => {
              // What they hold stays visible (and may be kept); nothing else the actor may not give.
              const list = all.filter((r) => r.grantable || editing.roles.includes(r.key))
              const save = async (roles: string[]) => {
                const ok = await attempt(
                  () =>
                    must(
                      api.PATCH('/v1/orgs/{orgId}/members/{userId}', {
                        params: { path: { orgId, userId: editing.userId! } },
                        body: { roles },
                      }),
                    ),
                  'Role changed',
                )
                if (ok) {
                  setEditing(null)
                  members.reload()
                }
              }
              return severalSlots(list) ? (
                <ManageRoles
                  orgId={orgId}
                  member={editing}
                  roles={list}
                  onDone={() => {
                    setEditing(null)
                    members.reload()
                  }}
                />
              ) : (
                <RoleChoice
                  roles={list}
                  initial={editing.roles[0]}
                  confirm="Confirm"
                  onConfirm={(role) => save([role])}
                />
              )
            }}
          </Loaded>
        )}
      </Modal>
      <Modal opened={!!appAccessFor} onClose={() => setAppAccessFor(null)} title={`${top?.label} access`}>
        {appAccessFor && (
          <GrantAccess
            orgId={orgId}
            principal={{ type: 'user', id: appAccessFor.userId!, label: appAccessFor.email }}
            onDone={() => setAppAccessFor(null)}
          />
        )}
      </Modal>
    </Stack>
  )
}
