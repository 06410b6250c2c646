import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Paper,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { IconCheck, IconCopy, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { roleLabel } from '../../types.ts'

type Connection = components['schemas']['SsoConnection']
type Mapping = Connection['mappings'][number]

/**
 * Per-org single sign-on (issue 21.1): connections to the org's identity provider (OIDC or SAML) — create,
 * test, enable — with the URLs to give the IdP, the IdP-group mapping visible and editable, and the "SSO
 * required" policy with its break-glass owner. Needs org.manage_security, as the tab itself.
 */
export function Sso({ orgId }: { orgId: string }) {
  const connections = useAsync(
    async () =>
      (await must(api.GET('/v1/orgs/{orgId}/sso-connections', { params: { path: { orgId } } }))).items,
    [orgId],
  )
  const options = useAsync(async () => {
    const path = { params: { path: { orgId } } }
    const [groups, roles, members] = await Promise.all([
      must(api.GET('/v1/orgs/{orgId}/groups', path)),
      must(api.GET('/v1/orgs/{orgId}/roles', path)),
      must(api.GET('/v1/orgs/{orgId}/members', path)),
    ])
    return {
      groups: groups.items,
      roles: roles.items.filter((r) => r.scope === 'org'),
      members: members.items,
    }
  }, [orgId])
  return (
    <Stack>
      <Text size="sm">
        Let people sign in through your identity provider. People whose email is at one of your verified
        domains are routed to it from the sign-in page, join this organization with the default role on their
        first sign-in, and their IdP groups set their groups and role at every sign-in.
      </Text>
      <Loaded state={connections}>
        {(items) => (
          <Stack>
            {items.length === 0 && <Text c="dimmed">No connections yet.</Text>}
            {items.map((c) => (
              <ConnectionCard
                key={c.id}
                orgId={orgId}
                connection={c}
                options={options.data}
                onChange={connections.reload}
              />
            ))}
          </Stack>
        )}
      </Loaded>
      <NewConnection orgId={orgId} onCreated={connections.reload} />
      <Policy orgId={orgId} members={options.data?.members ?? []} />
    </Stack>
  )
}

type Options = {
  groups: components['schemas']['Group'][]
  roles: components['schemas']['Role'][]
  members: components['schemas']['Member'][]
}

function Copyable({ label, value }: { label: string; value: string }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="sm" w={150} c="dimmed">
        {label}
      </Text>
      <Code style={{ wordBreak: 'break-all' }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'}>
            <ActionIcon variant="subtle" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
              {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  )
}

function ConnectionCard({
  orgId,
  connection: c,
  options,
  onChange,
}: {
  orgId: string
  connection: Connection
  options: Options | undefined
  onChange: () => void
}) {
  const path = { params: { path: { orgId, connectionId: c.id } } }
  const [error, setError] = useState<string | null>(null)
  const [testing, setTesting] = useState(false)
  const patch = (
    body: { enabled?: boolean; mappings?: Mapping[]; defaultRole?: string | null },
    done: string,
  ) =>
    attempt(
      () => must(api.PATCH('/v1/orgs/{orgId}/sso-connections/{connectionId}', { ...path, body })),
      done,
      setError,
    ).then((ok) => ok && onChange())
  return (
    <Paper withBorder p="md" aria-label={`SSO connection ${c.name}`} role="region">
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="xs">
            <Title order={4}>{c.name}</Title>
            <Badge variant="light">{c.kind.toUpperCase()}</Badge>
            <Badge color={c.enabled ? 'green' : 'gray'}>{c.enabled ? 'Enabled' : 'Disabled'}</Badge>
            {c.testedAt ? (
              <Badge color="green" variant="outline">
                Tested
              </Badge>
            ) : (
              <Badge color={c.testProblem ? 'red' : 'yellow'} variant="outline">
                {c.testProblem ? 'Test failed' : 'Not tested'}
              </Badge>
            )}
          </Group>
          <Group gap="xs">
            <Button
              variant="default"
              loading={testing}
              onClick={async () => {
                setTesting(true)
                setError(null)
                try {
                  const outcome = await must(
                    api.POST('/v1/orgs/{orgId}/sso-connections/{connectionId}/test', path),
                  )
                  if (!outcome.ok) setError(`The test failed: ${outcome.problem}`)
                  onChange()
                } catch (e) {
                  setError(errorMessage(e))
                } finally {
                  setTesting(false)
                }
              }}
            >
              Test connection
            </Button>
            <Switch
              label="Enabled"
              checked={c.enabled}
              onChange={(e) =>
                patch(
                  { enabled: e.currentTarget.checked },
                  e.currentTarget.checked ? 'Connection enabled' : 'Connection disabled',
                )
              }
            />
            <ActionIcon
              variant="subtle"
              color="red"
              aria-label={`Delete ${c.name}`}
              onClick={() =>
                attempt(
                  () => must(api.DELETE('/v1/orgs/{orgId}/sso-connections/{connectionId}', path)),
                  'Connection deleted',
                  setError,
                ).then((ok) => ok && onChange())
              }
            >
              <IconTrash size={16} />
            </ActionIcon>
          </Group>
        </Group>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {c.testProblem && !error && <Alert color="yellow">Last test: {c.testProblem}</Alert>}
        <Copyable label={c.kind === 'oidc' ? 'Redirect URI' : 'ACS URL'} value={c.callbackUrl} />
        {c.metadataUrl && <Copyable label="SP metadata URL" value={c.metadataUrl} />}
        {c.kind === 'oidc' && (
          <Text size="sm" c="dimmed">
            Issuer {String(c.config.issuer)} · client {String(c.config.clientId)}
          </Text>
        )}
        {options && (
          <MappingEditor
            connection={c}
            options={options}
            onSave={(mappings, defaultRole) => patch({ mappings, defaultRole }, 'Mapping saved')}
          />
        )}
      </Stack>
    </Paper>
  )
}

/** The rules, one row each (IdP group → a group or team, with a level, or → an org role), and the default role. */
function MappingEditor({
  connection,
  options,
  onSave,
}: {
  connection: Connection
  options: Options
  onSave: (mappings: Mapping[], defaultRole: string | null) => void
}) {
  const { model } = useSession()
  const [rules, setRules] = useState<Mapping[]>(connection.mappings)
  const [defaultRole, setDefaultRole] = useState<string | null>(connection.defaultRole)
  const [idpGroup, setIdpGroup] = useState('')
  const [target, setTarget] = useState<string | null>(null)
  const [level, setLevel] = useState<string | null>(null)
  const levels = Object.keys(model?.teamLevels ?? {})
  const builtIn = new Set((model?.org.groups ?? []).map((g) => g.name))
  const targets = [
    {
      group: 'Groups',
      items: options.groups
        .filter((g) => !builtIn.has(g.name))
        .map((g) => ({ value: `group:${g.id}`, label: g.name })),
    },
    {
      group: 'Organization roles',
      items: options.roles
        .filter((r) => !model?.org.ownerRoles.includes(r.key))
        .map((r) => ({ value: `role:${r.key}`, label: r.label || roleLabel(model, r.key) })),
    },
  ]
  const describe = (m: Mapping) =>
    'role' in m
      ? `role ${roleLabel(model, m.role)}`
      : `${options.groups.find((g) => g.id === m.groupId)?.name ?? 'a deleted group'}${m.level ? ` (${m.level})` : ''}`
  return (
    <Stack gap="xs">
      <Title order={5}>Mapping</Title>
      <Table aria-label="IdP group mapping">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>IdP group</Table.Th>
            <Table.Th>Gives</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rules.map((m, i) => (
            <Table.Tr key={`${m.idpGroup}→${'role' in m ? m.role : m.groupId}`}>
              <Table.Td>{m.idpGroup}</Table.Td>
              <Table.Td>{describe(m)}</Table.Td>
              <Table.Td>
                <ActionIcon
                  variant="subtle"
                  aria-label={`Remove rule ${m.idpGroup}`}
                  onClick={() => setRules(rules.filter((_, j) => j !== i))}
                >
                  <IconTrash size={14} />
                </ActionIcon>
              </Table.Td>
            </Table.Tr>
          ))}
          {rules.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={3}>
                <Text size="sm" c="dimmed">
                  No rules: people join with the default role and keep the groups you give them.
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      <Group align="flex-end">
        <TextInput label="IdP group" value={idpGroup} onChange={(e) => setIdpGroup(e.currentTarget.value)} />
        <Select label="Gives" data={targets} value={target} onChange={setTarget} searchable />
        {levels.length > 0 && target?.startsWith('group:') && (
          <Select label="Level" data={levels} value={level} onChange={setLevel} clearable />
        )}
        <Button
          variant="default"
          disabled={!idpGroup.trim() || !target}
          onClick={() => {
            const [kind, value] = [
              target!.slice(0, target!.indexOf(':')),
              target!.slice(target!.indexOf(':') + 1),
            ]
            setRules([
              ...rules,
              kind === 'role'
                ? { idpGroup: idpGroup.trim(), role: value }
                : { idpGroup: idpGroup.trim(), groupId: value, ...(level && { level }) },
            ])
            setIdpGroup('')
            setTarget(null)
            setLevel(null)
          }}
        >
          Add rule
        </Button>
      </Group>
      <Group align="flex-end">
        <Select
          label="Default role"
          description="What a person joins with, and holds when no rule gives a role"
          data={options.roles
            .filter((r) => !model?.org.ownerRoles.includes(r.key))
            .map((r) => ({ value: r.key, label: r.label || roleLabel(model, r.key) }))}
          value={defaultRole ?? model?.org.defaultRole ?? null}
          onChange={setDefaultRole}
        />
        <Button onClick={() => onSave(rules, defaultRole)}>Save mapping</Button>
      </Group>
    </Stack>
  )
}

function NewConnection({ orgId, onCreated }: { orgId: string; onCreated: () => void }) {
  const [kind, setKind] = useState<'oidc' | 'saml'>('oidc')
  const [name, setName] = useState('')
  const [issuer, setIssuer] = useState('')
  const [clientId, setClientId] = useState('')
  const [clientSecret, setClientSecret] = useState('')
  const [groupsClaim, setGroupsClaim] = useState('groups')
  const [metadataXml, setMetadataXml] = useState('')
  const [error, setError] = useState<string | null>(null)
  return (
    <Paper withBorder p="md">
      <form
        onSubmit={async (event) => {
          event.preventDefault()
          const config =
            kind === 'oidc'
              ? {
                  issuer,
                  clientId,
                  clientSecret,
                  groupsClaim,
                  scopes: groupsClaim === 'groups' ? ['groups'] : [],
                }
              : { metadataXml }
          const ok = await attempt(
            () =>
              must(
                api.POST('/v1/orgs/{orgId}/sso-connections', {
                  params: { path: { orgId } },
                  body: { kind, name, config },
                }),
              ),
            'Connection created: test it, then enable it',
            setError,
          )
          if (ok) {
            setName('')
            setClientSecret('')
            onCreated()
          }
        }}
      >
        <Stack gap="sm">
          <Title order={4}>New connection</Title>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group align="flex-end">
            <Select
              label="Protocol"
              data={[
                { value: 'oidc', label: 'OpenID Connect' },
                { value: 'saml', label: 'SAML 2.0' },
              ]}
              value={kind}
              onChange={(v) => v && setKind(v as 'oidc' | 'saml')}
              allowDeselect={false}
            />
            <TextInput
              label="Connection name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              required
            />
          </Group>
          {kind === 'oidc' ? (
            <>
              <TextInput
                label="Issuer URL"
                placeholder="https://your-tenant.okta.com"
                value={issuer}
                onChange={(e) => setIssuer(e.currentTarget.value)}
                required
              />
              <Group grow>
                <TextInput
                  label="Client ID"
                  value={clientId}
                  onChange={(e) => setClientId(e.currentTarget.value)}
                  required
                />
                <PasswordInput
                  label="Client secret"
                  value={clientSecret}
                  onChange={(e) => setClientSecret(e.currentTarget.value)}
                  required
                />
                <TextInput
                  label="Groups claim"
                  value={groupsClaim}
                  onChange={(e) => setGroupsClaim(e.currentTarget.value)}
                />
              </Group>
            </>
          ) : (
            <Textarea
              label="IdP metadata XML"
              autosize
              minRows={4}
              maxRows={12}
              value={metadataXml}
              onChange={(e) => setMetadataXml(e.currentTarget.value)}
              required
            />
          )}
          <Group>
            <Button type="submit">Create connection</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  )
}

/** "SSO required" for the org's verified domains, and the owner who keeps password sign-in. */
function Policy({ orgId, members }: { orgId: string; members: Options['members'] }) {
  const { me, model } = useSession()
  const path = { params: { path: { orgId } } }
  const policy = useAsync(async () => must(api.GET('/v1/orgs/{orgId}/sso-policy', path)), [orgId])
  const [error, setError] = useState<string | null>(null)
  const [breakGlass, setBreakGlass] = useState<string | null>(null)
  const owners = members.filter((m) => m.userId && m.roles.some((r) => model?.org.ownerRoles.includes(r)))
  return (
    <Paper withBorder p="md">
      <Loaded state={policy}>
        {(p) => {
          const chosen = breakGlass ?? p.breakGlassUserId ?? me?.id ?? null
          const save = (ssoRequired: boolean) =>
            attempt(
              () =>
                must(
                  api.PUT('/v1/orgs/{orgId}/sso-policy', {
                    ...path,
                    body: { ssoRequired, breakGlassUserId: chosen },
                  }),
                ),
              ssoRequired ? 'SSO is now required' : 'SSO is no longer required',
              setError,
            ).then((ok) => ok && policy.reload())
          return (
            <Stack gap="sm">
              <Title order={4}>SSO required</Title>
              <Text size="sm">
                When on, people whose email is at one of this organization's verified domains can't sign in or
                reset a password with a password: they sign in with SSO. The break-glass owner keeps password
                sign-in, in case the identity provider fails.
              </Text>
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <Select
                label="Break-glass owner"
                data={owners.map((m) => ({ value: m.userId!, label: `${m.name} <${m.email}>` }))}
                value={chosen}
                onChange={setBreakGlass}
              />
              <Switch
                label="Require SSO for our verified domains"
                checked={p.ssoRequired}
                onChange={(e) => save(e.currentTarget.checked)}
              />
            </Stack>
          )
        }}
      </Loaded>
    </Paper>
  )
}
