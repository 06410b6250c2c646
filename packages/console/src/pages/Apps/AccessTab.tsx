import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { IconMailForward, IconPlus, IconShield, IconTool, IconTrash, IconX } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { GrantAccess } from '../../components/GrantAccess.tsx'
import { roleOptions, useGrantableRoles } from '../../components/grantable-roles.ts'
import { Loaded } from '../../components/Page.tsx'
import { RolePicker } from '../../components/RolePicker.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { type Resource, roleLabel } from '../../types.ts'
import { an, useWords } from '../../words.ts'
import { ChannelPermissionsModal, type OverridePrincipal } from './ChannelPermissions.tsx'
import { InviteToResource } from './InviteToResource.tsx'
import { loadReach, ReachTable } from './ReachTable.tsx'

type Access = Awaited<ReturnType<typeof loadAccess>>
export type Entry = Access['entries'][number]
export type Principal = Entry['principal']

const loadAccess = (orgId: string, id: string) =>
  must(api.GET('/v1/orgs/{orgId}/resources/{id}/access', { params: { path: { orgId, id } } }))

/**
 * The app's Access tab (seed 001): who holds a role on the app or above it, when it was granted; everyone
 * who reaches the app and how (issue 26.4: org role, parent org, group, app role — from the engine); and
 * per-channel overrides of Read / History / Associate bundle for any of them (or a group holding a role).
 */
export function AccessTab(props: {
  orgId: string
  app: Resource
  channelType: string | undefined
  canManage: boolean
  canRead: boolean
}) {
  const { orgId, app, channelType, canManage } = props
  const { model } = useSession()
  const words = useWords()
  const inner = words.childOf(app.type)
  const appWord = words.resource(app.type)?.one ?? ''
  const access = useAsync(() => loadAccess(orgId, app.id), [orgId, app.id])
  const reach = useAsync(() => loadReach(orgId, app.id), [orgId, app.id])
  const changed = () => {
    access.reload()
    reach.reload()
  }
  const [channelsFor, setChannelsFor] = useState<{ principal: OverridePrincipal; held: string } | null>(null)
  const [roleFor, setRoleFor] = useState<Entry | null>(null)
  const [adding, { open: openAdd, close: closeAdd }] = useDisclosure()
  // Seed 001: the pickers offer only the roles the signed-in person may give at this app (the server says);
  // what someone holds stays in the wrench's list (it may be kept).
  const roles = useGrantableRoles(orgId, app.type, app.id)
  // Seed 002: invitations by email to this resource, pending until the person accepts (read with the
  // members; someone without org.read_members sees none).
  const pending = useAsync(
    async () =>
      (await api.GET('/v1/orgs/{orgId}/invitations', { params: { path: { orgId } } })).data?.items.filter(
        (i) => i.resourceId === app.id,
      ) ?? [],
    [orgId, app.id],
  )
  const [inviting, { open: openInvite, close: closeInvite }] = useDisclosure()
  const revokeInvitation = (id: string, email: string) =>
    modals.openConfirmModal({
      title: 'Revoke invitation',
      children: <Text size="sm">Revoke the invitation sent to {email}? Its link stops working.</Text>,
      labels: { confirm: 'Revoke', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        if (
          await attempt(
            () =>
              must(
                api.DELETE('/v1/orgs/{orgId}/invitations/{id}', {
                  params: { path: { orgId, id } },
                }),
              ),
            'Invitation revoked',
          )
        )
          pending.reload()
      },
    })

  const remove = (entry: Entry) =>
    modals.openConfirmModal({
      title: 'Remove access',
      children: (
        <Text size="sm">
          Remove {roleLabel(model, entry.role)} from {entry.principal.email ?? entry.principal.name}? This
          can't be undone.
        </Text>
      ),
      labels: { confirm: 'Remove', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        if (
          await attempt(
            () =>
              must(
                api.DELETE('/v1/orgs/{orgId}/bindings/{id}', {
                  params: { path: { orgId, id: entry.bindingId } },
                }),
              ),
            'Access removed',
          )
        )
          changed()
      },
    })

  return (
    <Stack>
      {canManage && (
        <Group>
          <Button leftSection={<IconPlus size={16} />} onClick={openAdd}>
            Add access
          </Button>
          <Button variant="light" leftSection={<IconMailForward size={16} />} onClick={openInvite}>
            Invite by email
          </Button>
        </Group>
      )}
      {!!pending.data?.length && (
        <Table.ScrollContainer minWidth={640}>
          <Table striped aria-label="Pending invitations">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Invited</Table.Th>
                <Table.Th>{words.role.label}</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {pending.data.map((i) => (
                <Table.Tr key={i.id} data-email={i.email}>
                  <Table.Td>{i.email}</Table.Td>
                  <Table.Td>{roleLabel(model, i.role)}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={i.status === 'pending' ? 'yellow' : 'gray'}>
                      {i.status === 'pending' ? 'Pending' : 'Expired'}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {canManage && (
                      <Tooltip label="Revoke invitation">
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          aria-label={`Revoke invitation to ${i.email}`}
                          onClick={() => revokeInvitation(i.id, i.email)}
                        >
                          <IconX size={18} />
                        </ActionIcon>
                      </Tooltip>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Loaded state={access}>
        {(data) =>
          data.entries.length === 0 ? (
            // This table lists roles given on the app itself; whoever reaches it through an org role (its
            // owners, say) is in the list below, so an empty table is not "nobody has access".
            <Alert title={`No one has ${an(words.role.one)} on this ${appWord} itself yet`}>
              {canManage
                ? `Give ${an(words.member.one)} or ${an(words.group.one)} ${an(words.role.one)} on this ${appWord} with Add access.`
                : `No ${words.member.one} or ${words.group.one} holds ${an(words.role.one)} on this ${appWord} itself.`}
            </Alert>
          ) : (
            <Table.ScrollContainer minWidth={640}>
              <Table striped aria-label="Access">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Email</Table.Th>
                    <Table.Th>{words.role.label}</Table.Th>
                    <Table.Th>Granted at</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.entries.map((entry) => {
                    const who = entry.principal.email ?? entry.principal.name
                    return (
                      <Table.Tr key={entry.bindingId}>
                        <Table.Td>
                          <Group gap="xs">
                            <Text size="sm">{who}</Text>
                            {entry.principal.type === 'group' && (
                              <Badge variant="light">{words.group.one}</Badge>
                            )}
                            {entry.principal.external && (
                              <Badge variant="light" color="blue" title="External account">
                                external
                              </Badge>
                            )}
                            {entry.inherited && (
                              <Badge variant="outline" color="gray">
                                from {words.scope(entry.scope.type)}
                              </Badge>
                            )}
                          </Group>
                        </Table.Td>
                        <Table.Td>{roleLabel(model, entry.role)}</Table.Td>
                        <Table.Td>{new Date(entry.grantedAt).toLocaleString()}</Table.Td>
                        <Table.Td>
                          <Group gap={4} wrap="nowrap">
                            {channelType && entry.principal.type === 'group' && (
                              <Tooltip label={`${inner?.label} permissions`}>
                                <ActionIcon
                                  variant="subtle"
                                  aria-label={`${inner?.label} permissions for ${who}`}
                                  onClick={() =>
                                    setChannelsFor({
                                      principal: entry.principal,
                                      held: `${words.group.one} with ${roleLabel(model, entry.role)} on ${words.scope(entry.scope.type)}`,
                                    })
                                  }
                                >
                                  <IconShield size={18} />
                                </ActionIcon>
                              </Tooltip>
                            )}
                            {canManage && !entry.inherited && (
                              <>
                                <Tooltip label="Edit role">
                                  <ActionIcon
                                    variant="subtle"
                                    aria-label={`Edit role of ${who}`}
                                    onClick={() => setRoleFor(entry)}
                                  >
                                    <IconTool size={18} />
                                  </ActionIcon>
                                </Tooltip>
                                <Tooltip label="Remove">
                                  <ActionIcon
                                    variant="subtle"
                                    color="red"
                                    aria-label={`Remove access of ${who}`}
                                    onClick={() => remove(entry)}
                                  >
                                    <IconTrash size={18} />
                                  </ActionIcon>
                                </Tooltip>
                              </>
                            )}
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                    )
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Loaded>
      <Title order={4}>Who reaches this {appWord}, and how</Title>
      <Loaded state={reach}>
        {(data) => (
          <ReachTable
            orgId={orgId}
            app={app}
            data={data}
            channelLabel={channelType ? inner?.label : undefined}
            onChannels={(person) =>
              setChannelsFor({
                principal: { type: 'user', ...person.user },
                held: person.paths
                  .map((p) => (p.kind === 'override' ? 'an override' : roleLabel(model, p.role ?? '')))
                  .join(', '),
              })
            }
          />
        )}
      </Loaded>
      {channelsFor && channelType && access.data && (
        <ChannelPermissionsModal
          orgId={orgId}
          app={app}
          channelType={channelType}
          principal={channelsFor.principal}
          held={channelsFor.held}
          overrides={access.data.overrides}
          canManage={canManage}
          canAsk={props.canRead}
          onClose={() => setChannelsFor(null)}
          onChanged={changed}
        />
      )}
      <Modal
        opened={!!roleFor}
        onClose={() => setRoleFor(null)}
        title={`Select ${an(appWord)} ${words.role.one}`}
      >
        {roleFor && (
          <RolePicker
            roles={roleOptions(roles.data, roleFor.role)}
            initial={roleFor.role}
            confirm="Confirm"
            onConfirm={async (role) => {
              // The wrench changes the binding's role in place: one write, never two roles or none.
              const ok = await attempt(
                () =>
                  must(
                    api.PATCH('/v1/orgs/{orgId}/bindings/{id}', {
                      params: { path: { orgId, id: roleFor.bindingId } },
                      body: { role },
                    }),
                  ),
                'Role changed',
              )
              if (ok) {
                setRoleFor(null)
                changed()
              }
            }}
          />
        )}
      </Modal>
      <Modal opened={inviting} onClose={closeInvite} title={`Invite to ${appWord} ${app.name}`}>
        {inviting && (
          <InviteToResource
            orgId={orgId}
            resourceId={app.id}
            roles={roleOptions(roles.data)}
            onSent={() => {
              closeInvite()
              pending.reload()
            }}
          />
        )}
      </Modal>
      <Modal opened={adding} onClose={closeAdd} title="Add access">
        {adding && (
          <GrantAccess
            orgId={orgId}
            resource={app}
            onDone={() => {
              closeAdd()
              changed()
            }}
          />
        )}
      </Modal>
    </Stack>
  )
}
