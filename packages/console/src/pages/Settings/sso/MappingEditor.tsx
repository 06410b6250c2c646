import { ActionIcon, Button, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { IconTrash } from '@tabler/icons-react'
import { useState } from 'react'
import { useSession } from '../../../session.tsx'
import { roleLabel } from '../../../types.ts'
import type { Connection, Mapping, Options } from './types.ts'

/** The rules, one row each (IdP group → a group or team, with a level, or → an org role), and the default role. */
export function MappingEditor({
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
