import { Code, Stack, Table, Text, Tooltip, UnstyledButton } from '@mantine/core'
import type { components } from '@orgkit/sdk'
import type { Words } from '../../words.ts'

export type AuditEntry = components['schemas']['NamedAuditEntry']

/** `sso_connection` → `Sso connection`: a stored type the model has no word for. */
const humanize = (type: string) => {
  const text = type.replaceAll('_', ' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** What the model calls a kind of actor or target: its resource types, members, groups and roles. */
export function typeLabel(words: Words, type: string): string {
  if (type === 'org') return 'Organization'
  if (type === 'group') return words.group.label
  if (type === 'role') return words.role.label
  if (type === 'user') return 'Person'
  if (type === 'api_key') return 'API key'
  if (type === 'platform') return 'Platform token'
  if (type === 'directory') return 'SCIM directory'
  return words.resource(type)?.label ?? humanize(type)
}

/**
 * A person or a thing by name, its id on hover and focus; a click keeps only the entries about it. Without
 * a name (nothing calls it anything now), the id's first characters.
 */
export function NamedRef({
  words,
  type,
  id,
  name,
  onFilter,
}: {
  words: Words
  type: string
  id: string | null
  name: string | null
  onFilter?: (() => void) | undefined
}) {
  const label = typeLabel(words, type)
  if (!id) return <Text size="sm">{label}</Text>
  const shown = name ?? `${id.slice(0, 8)}…`
  return (
    <Stack gap={0}>
      <Tooltip label={`${label} ${id}`} withArrow>
        <UnstyledButton
          onClick={onFilter}
          aria-label={`${shown} (${label.toLowerCase()} ${id}): show only the entries about it`}
          style={{ textDecoration: onFilter ? 'underline dotted' : undefined }}
        >
          <Text size="sm" fw={500}>
            {shown}
          </Text>
        </UnstyledButton>
      </Tooltip>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
    </Stack>
  )
}

const show = (value: unknown) =>
  value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)

/** The fields an entry changed, each with its value before and after (a creation has no before, …). */
export function changedFields(
  before: unknown,
  after: unknown,
): { field: string; before: string; after: string }[] {
  const b = before && typeof before === 'object' ? (before as Record<string, unknown>) : {}
  const a = after && typeof after === 'object' ? (after as Record<string, unknown>) : {}
  const scalar = (v: unknown) => v !== null && v !== undefined && typeof v !== 'object'
  if (scalar(before) || scalar(after)) return [{ field: 'value', before: show(before), after: show(after) }]
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((field) => show(b[field]) !== show(a[field]))
    .map((field) => ({ field, before: show(b[field]), after: show(a[field]) }))
}

/** An entry opened: what changed, before and after, and how the change came in. */
export function AuditEntryDetail({ entry }: { entry: AuditEntry }) {
  const changes = changedFields(entry.before, entry.after)
  return (
    <Stack gap="xs" p="xs">
      {changes.length === 0 ? (
        <Text size="sm">This entry records no field changes.</Text>
      ) : (
        <Table aria-label={`Changes of entry ${entry.seq}`} withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Field</Table.Th>
              <Table.Th>Before</Table.Th>
              <Table.Th>After</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {changes.map((c) => (
              <Table.Tr key={c.field}>
                <Table.Td>
                  <Code>{c.field}</Code>
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-word' }}>
                  {c.before ? <del>{c.before}</del> : <Text size="sm">—</Text>}
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-word' }}>
                  {c.after ? <ins>{c.after}</ins> : <Text size="sm">—</Text>}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Text size="xs" c="dimmed">
        Entry #{entry.seq}
        {entry.actor.via && ` · via ${entry.actor.via.replace('_', ' ')}`}
        {entry.ip && ` · from ${entry.ip}`}
        {entry.requestId && ` · request ${entry.requestId}`}
      </Text>
    </Stack>
  )
}
