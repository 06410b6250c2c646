import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { IconMailForward, IconPlus, IconShield, IconTool, IconTrash, IconX } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Captcha } from '../../components/Captcha.tsx'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { type Override, type Resource, roleLabel } from '../../types.ts'
import { an, useWords } from '../../words.ts'

type Access = Awaited<ReturnType<typeof loadAccess>>
type Entry = Access['entries'][number]
type Principal = Entry['principal']

const loadAccess = (orgId: string, id: string) =>
  must(api.GET('/v1/orgs/{orgId}/resources/{id}/access', { params: { path: { orgId, id } } }))

/**
 * The app's Access tab (seed 001): who holds a role on the app or above it, when it was granted, and
 * per-channel overrides of Read / History / Associate bundle through the channel-permissions modal.
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
  const access = useAsync(() => loadAccess(orgId, app.id), [orgId, app.id])
  const [channelsFor, setChannelsFor] = useState<Entry | null>(null)
  const [roleFor, setRoleFor] = useState<Entry | null>(null)
  const [adding, { open: openAdd, close: closeAdd }] = useDisclosure()
  // Seed 001: the pickers offer only the roles the signed-in person may give at this app (the server says).
  const roles = useAsync(
    async () =>
      (
        await must(
          api.GET('/v1/orgs/{orgId}/roles', {
            params: { path: { orgId }, query: { grantable: 'true', resourceId: app.id } },
          }),
        )
      ).items
        .filter((r) => r.scope === app.type)
        .sort((a, b) => b.priority - a.priority),
    [orgId, app.id, app.type],
  )
  const appRoles = (roles.data ?? [])
    .filter((r) => r.grantable)
    .map((r) => ({ value: r.key, label: r.label }))
  // What someone holds stays in the wrench's list (it may be kept), beside what the actor may give.
  const rolesFor = (held: string) =>
    (roles.data ?? [])
      .filter((r) => r.grantable || r.key === held)
      .map((r) => ({ value: r.key, label: r.label }))
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
          access.reload()
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
            <Alert title="Nobody has access yet">
              {canManage
                ? `Give ${an(words.member.one)} or ${an(words.group.one)} ${an(words.role.one)} on this ${words.resource(app.type)?.one ?? ''} with Add access.`
                : `No ${words.member.one} or ${words.group.one} holds ${an(words.role.one)} here.`}
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
                            {channelType && (
                              <Tooltip label={`${inner?.label} permissions`}>
                                <ActionIcon
                                  variant="subtle"
                                  aria-label={`${inner?.label} permissions for ${who}`}
                                  onClick={() => setChannelsFor(entry)}
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
      {channelsFor && channelType && access.data && (
        <ChannelPermissionsModal
          orgId={orgId}
          app={app}
          channelType={channelType}
          entry={channelsFor}
          overrides={access.data.overrides}
          canManage={canManage}
          onClose={() => setChannelsFor(null)}
          onChanged={access.reload}
        />
      )}
      <Modal
        opened={!!roleFor}
        onClose={() => setRoleFor(null)}
        title={`Select ${an(words.resource(app.type)?.one ?? '')} ${words.role.one}`}
      >
        {roleFor && (
          <RolePicker
            roles={rolesFor(roleFor.role)}
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
                access.reload()
              }
            }}
          />
        )}
      </Modal>
      <Modal
        opened={inviting}
        onClose={closeInvite}
        title={`Invite to ${words.resource(app.type)?.one ?? ''} ${app.name}`}
      >
        {inviting && (
          <InviteToResource
            orgId={orgId}
            resourceId={app.id}
            roles={appRoles}
            onSent={() => {
              closeInvite()
              pending.reload()
            }}
          />
        )}
      </Modal>
      <Modal opened={adding} onClose={closeAdd} title="Add access">
        {adding && (
          <AddAccess
            orgId={orgId}
            roles={appRoles}
            onAdd={async (principal, role) => {
              const ok = await attempt(
                () =>
                  must(
                    api.POST('/v1/orgs/{orgId}/bindings', {
                      params: { path: { orgId } },
                      body: { principal, role, resourceId: app.id },
                    }),
                  ),
                'Access granted',
              )
              if (ok) {
                closeAdd()
                access.reload()
              }
            }}
          />
        )}
      </Modal>
    </Stack>
  )
}

const principalRef = (p: Principal) => ({ type: p.type, id: p.id })

export function RolePicker(props: {
  roles: { value: string; label: string }[]
  initial?: string
  confirm: string
  onConfirm: (role: string) => Promise<void> | void
}) {
  const words = useWords()
  const [role, setRole] = useState<string | null>(props.initial ?? null)
  const [busy, setBusy] = useState(false)
  return (
    <Stack>
      <Select
        label={words.role.label}
        data={props.roles}
        value={role}
        onChange={setRole}
        allowDeselect={false}
      />
      <Button
        disabled={!role}
        loading={busy}
        onClick={async () => {
          if (!role) return
          setBusy(true)
          await props.onConfirm(role)
          setBusy(false)
        }}
      >
        {props.confirm}
      </Button>
    </Stack>
  )
}

/**
 * Seed 002: access to one resource for someone outside the org, by email. The invitation carries the
 * resource and a role there; on accepting, the person is an external account with that resource only.
 */
function InviteToResource(props: {
  orgId: string
  resourceId: string
  roles: { value: string; label: string }[]
  onSent: () => void
}) {
  const [email, setEmail] = useState('')
  const [captcha, setCaptcha] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  return (
    <Stack>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      <TextInput
        label="Email"
        type="email"
        required
        data-autofocus
        value={email}
        onChange={(e) => setEmail(e.currentTarget.value)}
      />
      <Captcha onSolved={setCaptcha} />
      <RolePicker
        roles={props.roles}
        confirm="Send invitation"
        onConfirm={async (role) => {
          if (!/^\S+@\S+\.\S+$/.test(email.trim())) {
            setError('Enter a valid email')
            return
          }
          const ok = await attempt(
            () =>
              must(
                api.POST('/v1/orgs/{orgId}/invitations', {
                  params: { path: { orgId: props.orgId } },
                  body: {
                    email: email.trim(),
                    role,
                    resourceId: props.resourceId,
                    ...(captcha && { captcha }),
                  },
                }),
              ),
            `Invitation sent to ${email.trim()}`,
            setError,
          )
          if (ok) props.onSent()
        }}
      />
    </Stack>
  )
}

function AddAccess(props: {
  orgId: string
  roles: { value: string; label: string }[]
  onAdd: (principal: { type: 'user' | 'group'; id: string }, role: string) => Promise<void>
}) {
  const { orgId } = props
  const words = useWords()
  const candidates = useAsync(async () => {
    const [members, groups] = await Promise.all([
      must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId } } })),
      must(api.GET('/v1/orgs/{orgId}/groups', { params: { path: { orgId } } })),
    ])
    return [
      ...members.items
        .filter((m) => m.userId && m.status === 'active')
        .map((m) => ({ value: `user:${m.userId}`, label: `${m.name} <${m.email}>` })),
      ...groups.items.map((g) => ({ value: `group:${g.id}`, label: `${words.group.label}: ${g.name}` })),
    ]
  }, [orgId, words.group.label])
  const [who, setWho] = useState<string | null>(null)
  return (
    <Loaded state={candidates}>
      {(data) => (
        <Stack>
          <Select
            label={`Email or ${words.group.one}`}
            placeholder={`Search ${words.member.many} and ${words.group.many}`}
            searchable
            data={data}
            value={who}
            onChange={setWho}
          />
          <RolePicker
            roles={props.roles}
            confirm="Assign"
            onConfirm={async (role) => {
              if (!who) return
              const [type, id] = who.split(':') as ['user' | 'group', string]
              await props.onAdd({ type, id }, role)
            }}
          />
        </Stack>
      )}
    </Loaded>
  )
}

type Effect = 'default' | 'allow' | 'deny'

/**
 * Every channel × every overridable channel permission (capgo: Read, History, Associate bundle), each
 * Default / Allow / Deny: one `PUT …/resources/<channel>/overrides` per change.
 */
function ChannelPermissionsModal(props: {
  orgId: string
  app: Resource
  channelType: string
  entry: Entry
  overrides: Override[]
  canManage: boolean
  onClose: () => void
  onChanged: () => void
}) {
  const { orgId, app, channelType, entry, canManage } = props
  const { model } = useSession()
  const words = useWords()
  const outer = words.resource(app.type)?.one ?? ''
  const inner = words.resource(channelType) ?? { label: '', plural: '', one: '', many: '' }
  const [overrides, setOverrides] = useState(props.overrides)
  const channels = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/resources', {
          params: { path: { orgId }, query: { type: channelType, parentId: app.id, limit: 200 } },
        }),
      ),
    [orgId, app.id, channelType],
  )
  const permissions = Object.entries(model?.permissions ?? {}).filter(
    ([, p]) => p.on === channelType && p.overridable,
  )
  const effectOf = (channelId: string, permission: string): Effect =>
    overrides.find(
      (o) =>
        o.resourceId === channelId &&
        o.permission === permission &&
        o.principal.type === entry.principal.type &&
        o.principal.id === entry.principal.id,
    )?.effect ?? 'default'
  const who = entry.principal.email ?? entry.principal.name
  return (
    <Modal opened onClose={props.onClose} title={`${inner.label} permissions`} size="xl">
      <Stack>
        <Text size="sm">
          {who} — {outer} {words.role.one} <Badge variant="light">{roleLabel(model, entry.role)}</Badge>.
          Default inherits from the {outer} {words.role.one}; Allow or Deny overrides it on one {inner.one}.
        </Text>
        <Loaded state={channels}>
          {(data) =>
            data.items.length === 0 ? (
              <Alert title={`No ${inner.many} yet`}>
                This {outer} has no {inner.many}: add one on its {inner.plural} tab, then set permissions
                here.
              </Alert>
            ) : (
              <Table.ScrollContainer minWidth={600}>
                <Table aria-label={`${inner.label} permissions`}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>{inner.label}</Table.Th>
                      {permissions.map(([key, p]) => (
                        <Table.Th key={key}>{p.label}</Table.Th>
                      ))}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.items.map((channel) => (
                      <Table.Tr key={channel.id}>
                        <Table.Td>{channel.name}</Table.Td>
                        {permissions.map(([key, p]) => (
                          <Table.Td key={key}>
                            <SegmentedControl
                              size="xs"
                              disabled={!canManage}
                              aria-label={`${p.label} on ${channel.name}`}
                              value={effectOf(channel.id, key)}
                              data={[
                                { value: 'default', label: 'Default' },
                                { value: 'allow', label: 'Allow' },
                                { value: 'deny', label: 'Deny' },
                              ]}
                              onChange={async (value) => {
                                const effect = value as Effect
                                const ok = await attempt(
                                  () =>
                                    must(
                                      api.PUT('/v1/orgs/{orgId}/resources/{id}/overrides', {
                                        params: { path: { orgId, id: channel.id } },
                                        body: {
                                          principal: principalRef(entry.principal),
                                          permission: key,
                                          effect,
                                        },
                                      }),
                                    ),
                                  `${p.label} on ${channel.name}: ${value}`,
                                )
                                if (ok) {
                                  setOverrides((list) => [
                                    ...list.filter(
                                      (o) =>
                                        !(
                                          o.resourceId === channel.id &&
                                          o.permission === key &&
                                          o.principal.id === entry.principal.id
                                        ),
                                    ),
                                    ...(effect === 'default'
                                      ? []
                                      : [
                                          {
                                            resourceId: channel.id,
                                            permission: key,
                                            principal: principalRef(entry.principal),
                                            effect,
                                          },
                                        ]),
                                  ])
                                  props.onChanged()
                                }
                              }}
                            />
                          </Table.Td>
                        ))}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </Loaded>
      </Stack>
    </Modal>
  )
}
