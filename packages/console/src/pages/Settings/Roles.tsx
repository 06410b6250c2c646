import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  Radio,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import type { ProblemCode } from '@orgkit/sdk'
import { IconPencil, IconPlus, IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { api, codeOf, errorMessage, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import type { Model, Role } from '../../types.ts'
import { useWords } from '../../words.ts'

/** What the API's refusals mean here, beyond the general sentences of api.ts. */
const ROLE_HINTS: Partial<Record<ProblemCode, string>> = {
  ESCALATION: 'You cannot define a role holding permissions you lack.',
  RANK_TOO_LOW: 'You cannot define a role ranking above your own.',
  PLAN_FEATURE_UNAVAILABLE: "Custom roles are not part of this organization's plan.",
  ALREADY_EXISTS: 'A role with this key exists already.',
}
const roleError = (error: unknown) => errorMessage(error, ROLE_HINTS)

/** Scopes a role may be bound at: the org and each resource type, with the model's labels. */
const scopesOf = (model: Model) => [
  { value: 'org', label: 'Organization' },
  ...Object.entries(model.resourceTypes).map(([key, t]) => ({ value: key, label: t.label })),
]

/**
 * Issue #8's custom roles: the model's built-in roles (read-only) and the org's own, whose permissions
 * come from the model's catalogue grouped by module. Writing needs org.update_user_roles, as the API does.
 */
export function Roles({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const { model } = useSession()
  const { role: word } = useWords()
  const roles = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/roles', { params: { path: { orgId } } })),
    [orgId],
  )
  const [editing, setEditing] = useState<Role | 'new' | null>(null)
  const [deleting, setDeleting] = useState<Role | null>(null)
  const scopeLabel = (scope: string) =>
    scope === 'org' ? 'Organization' : (model?.resourceTypes[scope]?.label ?? scope)
  const slotLabel = (slot: string) => model?.slots?.[slot]?.label ?? slot
  const table = (items: Role[], name: string, custom: boolean) => (
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label={name} striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{word.label}</Table.Th>
            <Table.Th>Key</Table.Th>
            <Table.Th>Scope</Table.Th>
            <Table.Th>Slot</Table.Th>
            <Table.Th>Permissions</Table.Th>
            {custom && canManage && <Table.Th />}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((r) => (
            <Table.Tr key={r.key} data-role={r.key}>
              <Table.Td>
                <Text fw={500}>{r.label}</Text>
                {r.description && (
                  <Text size="xs" c="dimmed">
                    {r.description}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {r.key}
                </Text>
              </Table.Td>
              <Table.Td>{scopeLabel(r.scope)}</Table.Td>
              <Table.Td>{slotLabel(r.slot)}</Table.Td>
              <Table.Td>
                <Badge variant="light">{r.permissions.length}</Badge>
              </Table.Td>
              {custom && canManage && (
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button
                      size="xs"
                      variant="subtle"
                      leftSection={<IconPencil size={14} />}
                      aria-label={`Edit role ${r.label}`}
                      onClick={() => setEditing(r)}
                    >
                      Edit
                    </Button>
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      leftSection={<IconTrash size={14} />}
                      aria-label={`Delete role ${r.label}`}
                      onClick={() => setDeleting(r)}
                    >
                      Delete
                    </Button>
                  </Group>
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )
  return (
    <Loaded state={roles}>
      {({ items }) => {
        const custom = items.filter((r) => !r.builtIn)
        return (
          <Stack>
            <Group justify="space-between">
              <Title order={4}>Custom {word.many}</Title>
              {canManage && (
                <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
                  New {word.one}
                </Button>
              )}
            </Group>
            {custom.length === 0 ? (
              <Alert title={`No custom ${word.many} yet`}>
                {canManage
                  ? `The built-in ones below come with the model; make one of your own with New ${word.one}.`
                  : `Only the built-in ${word.many} below are in use here.`}
              </Alert>
            ) : (
              table(custom, `Custom ${word.many}`, true)
            )}
            <Title order={4}>Built-in {word.many}</Title>
            <Text size="sm" c="dimmed">
              Defined by the {model?.label ?? model?.name ?? ''} model; read-only.
            </Text>
            {table(
              items.filter((r) => r.builtIn),
              `Built-in ${word.many}`,
              false,
            )}
            {editing && model && (
              <RoleEditor
                orgId={orgId}
                model={model}
                role={editing === 'new' ? null : editing}
                onClose={() => setEditing(null)}
                onSaved={() => {
                  setEditing(null)
                  roles.reload()
                }}
              />
            )}
            {deleting && (
              <DeleteRole
                orgId={orgId}
                role={deleting}
                others={items.filter((r) => r.scope === deleting.scope && r.key !== deleting.key)}
                onClose={() => setDeleting(null)}
                onDeleted={() => {
                  setDeleting(null)
                  roles.reload()
                }}
              />
            )}
          </Stack>
        )
      }}
    </Loaded>
  )
}

function RoleEditor({
  orgId,
  model,
  role,
  onClose,
  onSaved,
}: {
  orgId: string
  model: Model
  role: Role | null
  onClose: () => void
  onSaved: () => void
}) {
  const [problem, setProblem] = useState<string | null>(null)
  const form = useForm({
    initialValues: {
      key: role?.key ?? '',
      label: role?.label ?? '',
      description: role?.description ?? '',
      scope: role?.scope ?? 'org',
      slot: role?.slot ?? '',
      priority: role?.priority ?? 10,
      permissions: role?.permissions ?? ([] as string[]),
    },
    validate: {
      key: (v) => (role || /^[a-z][a-z0-9_]*$/.test(v) ? null : 'Lowercase letters, digits and _'),
      label: (v) => (v.trim() ? null : 'Name the role'),
      slot: (v) => (v ? null : 'Pick a slot'),
    },
  })
  const scope = form.values.scope
  // Slots already used by built-in roles of this scope, then any other slot of the model.
  const slotKeys = Object.keys(model.slots ?? {})
  const usedHere = new Set(
    Object.values(model.roles)
      .filter((r) => r.scope === scope)
      .map((r) => r.slot),
  )
  const slots = [...slotKeys.filter((s) => usedHere.has(s)), ...slotKeys.filter((s) => !usedHere.has(s))].map(
    (s) => ({ value: s, label: model.slots?.[s]?.label ?? s }),
  )
  // A role bound at a scope may hold permissions of that type and of every type below it.
  const below = (type: string): boolean =>
    type === scope || (type !== 'org' && below(model.resourceTypes[type]?.parent ?? 'org'))
  const applicable = Object.entries(model.permissions).filter(([, p]) => below(p.on))
  const modules = [...new Set(applicable.map(([, p]) => p.module))]
  const toggle = (key: string, on: boolean) =>
    form.setFieldValue(
      'permissions',
      on ? [...form.values.permissions, key] : form.values.permissions.filter((p) => p !== key),
    )
  return (
    <Modal opened onClose={onClose} title={role ? `Edit ${role.label}` : 'New role'} size="lg">
      <form
        onSubmit={form.onSubmit(async (v) => {
          setProblem(null)
          const permissions = v.permissions.filter(
            (p) => model.permissions[p] && below(model.permissions[p].on),
          )
          try {
            if (role)
              await must(
                api.PATCH('/v1/orgs/{orgId}/roles/{key}', {
                  params: { path: { orgId, key: role.key } },
                  body: {
                    label: v.label.trim(),
                    description: v.description,
                    slot: v.slot,
                    priority: v.priority,
                    permissions,
                  },
                }),
              )
            else
              await must(
                api.POST('/v1/orgs/{orgId}/roles', {
                  params: { path: { orgId } },
                  body: {
                    key: v.key,
                    label: v.label.trim(),
                    description: v.description,
                    scope: v.scope,
                    slot: v.slot,
                    priority: v.priority,
                    permissions,
                  },
                }),
              )
            onSaved()
          } catch (error) {
            setProblem(roleError(error))
          }
        })}
      >
        <Stack>
          {problem && (
            <Alert color="red" role="alert" title="The server refused this role">
              {problem}
            </Alert>
          )}
          <TextInput label="Label" {...form.getInputProps('label')} />
          <TextInput label="Key" disabled={!!role} {...form.getInputProps('key')} />
          <Textarea label="Description" {...form.getInputProps('description')} />
          <Group grow>
            <Select
              label="Scope"
              data={scopesOf(model)}
              disabled={!!role}
              allowDeselect={false}
              {...form.getInputProps('scope')}
            />
            <Select label="Slot" data={slots} allowDeselect={false} {...form.getInputProps('slot')} />
            <NumberInput label="Priority" min={0} max={1_000_000} {...form.getInputProps('priority')} />
          </Group>
          <Text fw={500}>Permissions</Text>
          {modules.map((m) => (
            <fieldset key={m} style={{ border: 'none', padding: 0, margin: 0 }}>
              <Text component="legend" size="sm" fw={600} c="dimmed" mb={4}>
                {model.modules?.[m]?.label ?? m}
              </Text>
              <Group gap="md">
                {applicable
                  .filter(([, p]) => p.module === m)
                  .map(([key, p]) => (
                    <Checkbox
                      key={key}
                      label={`${p.label} (${key})`}
                      checked={form.values.permissions.includes(key)}
                      onChange={(e) => toggle(key, e.currentTarget.checked)}
                    />
                  ))}
              </Group>
            </fieldset>
          ))}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit">{role ? 'Save role' : 'Create role'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}

/** DELETE …/roles/{key}: in use, the API answers ROLE_IN_USE and wants `bindings=delete|reassign&to=`. */
function DeleteRole({
  orgId,
  role,
  others,
  onClose,
  onDeleted,
}: {
  orgId: string
  role: Role
  others: Role[]
  onClose: () => void
  onDeleted: () => void
}) {
  const [inUse, setInUse] = useState<number | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const [choice, setChoice] = useState<'reassign' | 'delete'>('reassign')
  const [to, setTo] = useState<string | null>(null)
  const run = async () => {
    setProblem(null)
    try {
      await must(
        api.DELETE('/v1/orgs/{orgId}/roles/{key}', {
          params: {
            path: { orgId, key: role.key },
            query:
              inUse === null
                ? {}
                : choice === 'reassign'
                  ? { bindings: 'reassign', ...(to ? { to } : {}) }
                  : { bindings: 'delete' },
          },
        }),
      )
      onDeleted()
    } catch (error) {
      if (codeOf(error) === 'ROLE_IN_USE') {
        const count = (error as { problem: { details?: { bindings?: number } } }).problem.details?.bindings
        setInUse(typeof count === 'number' ? count : 0)
      } else setProblem(roleError(error))
    }
  }
  return (
    <Modal opened onClose={onClose} title={`Delete ${role.label}`}>
      <Stack>
        {inUse === null ? (
          <Text size="sm">Delete the custom role {role.label}? This can't be undone.</Text>
        ) : (
          <>
            <Alert color="yellow" title="This role is in use">
              {inUse > 0 ? `${inUse} binding(s) hold it` : 'Some bindings hold it'}: say what happens to them.
              [ROLE_IN_USE]
            </Alert>
            <Radio.Group
              value={choice}
              onChange={(v) => setChoice(v as 'reassign' | 'delete')}
              label="Its bindings"
            >
              <Stack gap="xs" mt="xs">
                <Radio value="reassign" label="Reassign them to another role" />
                <Radio value="delete" label="Delete them (those people lose this access)" />
              </Stack>
            </Radio.Group>
            {choice === 'reassign' && (
              <Select
                label="Reassign to"
                data={others.map((r) => ({ value: r.key, label: r.label }))}
                value={to}
                onChange={setTo}
              />
            )}
          </>
        )}
        {problem && (
          <Alert color="red" role="alert">
            {problem}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" onClick={run} disabled={inUse !== null && choice === 'reassign' && !to}>
            Delete role
          </Button>
        </Group>
      </Stack>
    </Modal>
  )
}
