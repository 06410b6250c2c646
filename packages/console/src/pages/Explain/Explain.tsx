import { Alert, Badge, Button, Code, Group, Paper, Select, Stack, Table, Text } from '@mantine/core'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { Loaded, Page } from '../../components/Page.tsx'
import { useAsync, useOrgPermissions } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { roleLabel } from '../../types.ts'
import { an, useWords } from '../../words.ts'

interface Fact {
  kind: 'policy' | 'key' | 'override' | 'binding'
  [key: string]: unknown
}
interface Explanation {
  allowed: boolean
  reason: string
  decidedBy: Fact | null
  facts: Fact[]
}

/** "Why can this person do this?": the engine's own walk (POST /v1/explain), fact by fact. */
export function Explain({ orgId }: { orgId: string }) {
  const { model, me, orgs } = useSession()
  const { group } = useWords()
  const members = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId } } })),
    [orgId],
  )
  // Names for the ids the engine's facts carry.
  const names = useAsync(async () => {
    const [all, groups] = await Promise.all([
      must(api.GET('/v1/orgs/{orgId}/resources', { params: { path: { orgId }, query: { limit: 200 } } })),
      must(api.GET('/v1/orgs/{orgId}/groups', { params: { path: { orgId } } })).catch(() => ({ items: [] })),
    ])
    const map = new Map<string, string>()
    for (const r of all.items) map.set(r.id, r.name)
    for (const g of groups.items) map.set(g.id, `${group.one} ${g.name}`)
    return map
  }, [orgId, group.one])
  const label = (type: string, id: string) =>
    type === 'org'
      ? `organization ${orgs.data?.find((o) => o.id === id)?.name ?? id.slice(0, 8)}`
      : `${model?.resourceTypes[type]?.label.toLowerCase() ?? type} ${names.data?.get(id) ?? id.slice(0, 8)}`
  // Anyone may ask about themselves; about others, who may read the org's access (SPEC 6).
  const can = useOrgPermissions(orgId, ['org.read_access'])
  const othersToo = can.data?.['org.read_access'] === true
  const [userId, setUserId] = useState<string | null>(me?.id ?? null)
  const [permission, setPermission] = useState<string | null>(null)
  const [resourceId, setResourceId] = useState<string | null>(null)
  const [result, setResult] = useState<Explanation | null>(null)
  const [error, setError] = useState<string | null>(null)
  const on = permission ? model?.permissions[permission]?.on : undefined
  const resources = useAsync(async () => {
    if (!on || on === 'org') return []
    const { items } = await must(
      api.GET('/v1/orgs/{orgId}/resources', { params: { path: { orgId }, query: { type: on, limit: 200 } } }),
    )
    // An inner resource (capgo: a channel) reads better with its parent's name in front.
    const parents = new Map<string, string>()
    if (items.some((r) => r.parentId)) {
      const all = await must(
        api.GET('/v1/orgs/{orgId}/resources', { params: { path: { orgId }, query: { limit: 200 } } }),
      )
      for (const r of all.items) parents.set(r.id, r.name)
    }
    return items.map((r) => ({
      value: r.id,
      label: r.parentId ? `${parents.get(r.parentId) ?? '…'} / ${r.name}` : r.name,
    }))
  }, [orgId, on])
  const permissionOptions = Object.entries(model?.permissions ?? {}).map(([key, p]) => ({
    value: key,
    label: `${key} — ${p.label}`,
  }))
  const nameOf = (id: unknown) => {
    const m = members.data?.items.find((x) => x.userId === id)
    return m ? m.email : String(id)
  }
  const describe = (fact: Fact): string => {
    switch (fact.kind) {
      case 'binding': {
        const p = fact.principal as { type: string; id: string }
        const scope = fact.scope as { type: string; id: string }
        const who = p.type === 'group' ? (names.data?.get(p.id) ?? `${an(group.one)}`) : nameOf(p.id)
        return `${who} holds ${roleLabel(model, String(fact.role ?? fact.roleKey))} on ${label(scope.type, scope.id)} (${fact.status})`
      }
      case 'override': {
        const p = fact.principal as { type: string; id: string }
        const on = String(fact.resourceId)
        const who = p.type === 'group' ? (names.data?.get(p.id) ?? `${an(group.one)}`) : nameOf(p.id)
        return `override ${String(fact.effect).toUpperCase()} for ${who} on ${names.data?.get(on) ?? on.slice(0, 8)}`
      }
      case 'policy':
        return `org security policy: ${String(fact.rule)}`
      case 'key':
        return `API key limit: ${String(fact.rule)}`
    }
  }
  const run = async () => {
    if (!permission || !userId) return
    setError(null)
    try {
      const resource = on === 'org' ? { org: orgId } : { type: on!, id: resourceId! }
      setResult(
        (await must(
          api.POST('/v1/explain', { body: { subject: { type: 'user', id: userId }, permission, resource } }),
        )) as unknown as Explanation,
      )
    } catch (e) {
      setResult(null)
      setError(errorMessage(e))
    }
  }
  return (
    <Page title="Why can this person do this?">
      <Paper withBorder p="lg">
        <Loaded state={members}>
          {(data) => (
            <Stack>
              <Group grow align="end" wrap="wrap">
                <Select
                  label="Person"
                  searchable
                  // Choosing the chosen person again keeps them (Mantine's default cleared it, and Explain with it).
                  allowDeselect={false}
                  data={
                    othersToo || !me
                      ? data.items
                          .filter((m) => m.userId)
                          .map((m) => ({ value: m.userId!, label: `${m.name} <${m.email}>` }))
                      : [{ value: me.id, label: `${me.name} <${me.email}>` }]
                  }
                  value={userId}
                  onChange={setUserId}
                  description={othersToo ? undefined : 'You can ask about yourself here.'}
                  miw={220}
                />
                <Select
                  label="Permission"
                  searchable
                  data={permissionOptions}
                  value={permission}
                  onChange={(v) => {
                    setPermission(v)
                    setResourceId(null)
                    setResult(null)
                  }}
                  miw={220}
                />
                {on && on !== 'org' && (
                  <Select
                    label={model?.resourceTypes[on]?.label ?? on}
                    searchable
                    data={resources.data ?? []}
                    value={resourceId}
                    onChange={setResourceId}
                    miw={200}
                  />
                )}
              </Group>
              <Group>
                <Button onClick={run} disabled={!userId || !permission || (on !== 'org' && !resourceId)}>
                  Explain
                </Button>
              </Group>
            </Stack>
          )}
        </Loaded>
      </Paper>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      {result && (
        <Paper withBorder p="lg" aria-live="polite" data-testid="explain-result">
          <Stack>
            <Group>
              <Badge size="xl" color={result.allowed ? 'green' : 'red'}>
                {result.allowed ? 'Allowed' : 'Denied'}
              </Badge>
              <Code>{result.reason}</Code>
            </Group>
            <Text>
              Decided by: <b>{result.decidedBy ? describe(result.decidedBy) : 'nothing grants it'}</b>
            </Text>
            {result.facts.length > 0 && (
              <Table aria-label="What the engine looked at">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>#</Table.Th>
                    <Table.Th>Fact</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {result.facts.map((fact, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: facts are an ordered walk
                    <Table.Tr key={i}>
                      <Table.Td>{i + 1}</Table.Td>
                      <Table.Td>{describe(fact)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Stack>
        </Paper>
      )}
    </Page>
  )
}
