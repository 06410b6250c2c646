import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  CloseButton,
  Group,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core'
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react'
import { Fragment, useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { useWords } from '../../words.ts'
import { AuditEntryDetail, NamedRef, typeLabel } from './AuditEntry.tsx'
import { AuditVerify } from './AuditVerify.tsx'

interface Filters {
  actorId?: string | undefined
  action?: string | undefined
  targetType?: string | undefined
  targetId?: string | undefined
  from?: string | undefined
  to?: string | undefined
}

/** A `datetime-local` value (the browser's time zone) as the ISO instant the API filters on. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined)

const defined = (f: Filters) =>
  Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== '')) as Filters

/**
 * The org's hash-chained audit log, readable: who and what by name (the id on hover), what changed as a
 * before/after table, filters by person, action (the server's list), target (a click on it) and time,
 * the chain's verdict, and the export of what the filters keep.
 */
export function AuditLogs({ orgId }: { orgId: string }) {
  const words = useWords()
  const [filters, setFilters] = useState<Filters>({})
  const [targetName, setTargetName] = useState('')
  const [cursor, setCursor] = useState<string | undefined>()
  const [open, setOpen] = useState<string | null>(null)
  const query = defined(filters)
  const log = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/audit-logs', {
          params: { path: { orgId }, query: { ...query, ...(cursor && { cursor }) } },
        }),
      ),
    [orgId, JSON.stringify(query), cursor],
  )
  const actions = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/audit-logs/actions', { params: { path: { orgId } } })),
    [orgId],
  )
  const members = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId } } })),
    [orgId],
  )
  const filter = (next: Filters) => {
    setCursor(undefined)
    setFilters((f) => ({ ...f, ...next }))
  }
  const described = new Map(actions.data?.items.map((a) => [a.action, a.description]))
  const people = (members.data?.items ?? [])
    .filter((m) => m.userId)
    .map((m) => ({ value: m.userId!, label: m.name ? `${m.name} (${m.email})` : m.email }))
  const exportQuery = new URLSearchParams(query as Record<string, string>).toString()
  return (
    <Stack>
      <Group align="end" wrap="wrap">
        <Select
          label="Actor"
          placeholder="Anyone"
          searchable
          clearable
          data={
            filters.actorId && !people.some((p) => p.value === filters.actorId)
              ? [...people, { value: filters.actorId, label: filters.actorId }]
              : people
          }
          value={filters.actorId ?? null}
          onChange={(v) => filter({ actorId: v ?? undefined })}
        />
        <Select
          label="Action"
          placeholder="Any action"
          searchable
          clearable
          data={(actions.data?.items ?? []).map((a) => ({ value: a.action, label: a.action }))}
          renderOption={({ option }) => (
            <Stack gap={0}>
              <Text size="sm">{option.value}</Text>
              <Text size="xs" c="dimmed">
                {described.get(option.value)}
              </Text>
            </Stack>
          )}
          value={filters.action ?? null}
          onChange={(v) => filter({ action: v ?? undefined })}
        />
        <TextInput
          type="datetime-local"
          label="From"
          onChange={(e) => filter({ from: instant(e.currentTarget.value) })}
        />
        <TextInput
          type="datetime-local"
          label="To"
          onChange={(e) => filter({ to: instant(e.currentTarget.value) })}
        />
        <AuditVerify orgId={orgId} />
        <Anchor href={`/v1/orgs/${orgId}/audit-logs/export?format=csv&${exportQuery}`}>Export CSV</Anchor>
        <Anchor href={`/v1/orgs/${orgId}/audit-logs/export?format=json&${exportQuery}`}>Export JSON</Anchor>
      </Group>
      {filters.targetId && (
        <Group gap="xs">
          <Badge variant="light" tt="none" size="lg" aria-label={`Target: ${targetName}`}>
            Target: {targetName}
          </Badge>
          <CloseButton
            aria-label="Show entries about anything"
            onClick={() => filter({ targetType: undefined, targetId: undefined })}
          />
        </Group>
      )}
      <Loaded state={log}>
        {(data) => (
          <>
            {data.items.length === 0 && (
              <Alert title="No entries">
                {Object.keys(query).length > 0
                  ? 'No entry matches these filters: clear one to see more.'
                  : 'Every change in this organization is logged here; none yet.'}
              </Alert>
            )}
            <Table.ScrollContainer minWidth={760}>
              <Table striped aria-label="Audit log">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th w={40}>
                      <VisuallyHidden>Details</VisuallyHidden>
                    </Table.Th>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Actor</Table.Th>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>Target</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.items.map((e) => (
                    <Fragment key={e.id}>
                      <Table.Tr>
                        <Table.Td>
                          <ActionIcon
                            variant="subtle"
                            aria-expanded={open === e.id}
                            aria-label={`Changes of entry ${e.seq}`}
                            onClick={() => setOpen(open === e.id ? null : e.id)}
                          >
                            {open === e.id ? <IconChevronDown size={16} /> : <IconChevronRight size={16} />}
                          </ActionIcon>
                        </Table.Td>
                        <Table.Td>{new Date(e.createdAt).toLocaleString()}</Table.Td>
                        <Table.Td>
                          <NamedRef
                            words={words}
                            {...e.actor}
                            onFilter={e.actor.id ? () => filter({ actorId: e.actor.id! }) : undefined}
                          />
                        </Table.Td>
                        <Table.Td>
                          <Tooltip label={described.get(e.action) ?? e.action} withArrow>
                            <Badge variant="light" tt="none">
                              {e.action}
                            </Badge>
                          </Tooltip>
                        </Table.Td>
                        <Table.Td>
                          <NamedRef
                            words={words}
                            {...e.target}
                            onFilter={() => {
                              setTargetName(
                                `${e.target.name ?? e.target.id} (${typeLabel(words, e.target.type).toLowerCase()})`,
                              )
                              filter({ targetType: e.target.type, targetId: e.target.id ?? undefined })
                            }}
                          />
                        </Table.Td>
                      </Table.Tr>
                      {open === e.id && (
                        <Table.Tr>
                          <Table.Td colSpan={5}>
                            <AuditEntryDetail entry={e} />
                          </Table.Td>
                        </Table.Tr>
                      )}
                    </Fragment>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {data.nextCursor && (
              <Group>
                <Button variant="default" onClick={() => setCursor(data.nextCursor ?? undefined)}>
                  Older entries
                </Button>
              </Group>
            )}
          </>
        )}
      </Loaded>
    </Stack>
  )
}
