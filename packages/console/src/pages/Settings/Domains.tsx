import { Alert, Badge, Button, Group, Paper, Select, Stack, Text, TextInput } from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { useState } from 'react'
import { api, codeOf, errorMessage, must } from '../../api.ts'
import { Copyable } from '../../components/Copyable.tsx'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { roleLabel } from '../../types.ts'

type Domain = components['schemas']['Domain']
type JoinMode = Domain['joinMode']

const JOIN_MODES: { value: JoinMode; label: string }[] = [
  { value: 'off', label: 'Off: nobody joins through this domain' },
  { value: 'suggest', label: 'Suggest: people there see this organization and may join' },
  { value: 'auto', label: 'Automatic: people there join when they verify their email or sign in' },
]

/**
 * Verified domains (issue 21.2): claim one, publish its TXT record, verify, then choose whether people with
 * a verified email there join, and as what. Needs org.manage_security, as the tab itself.
 */
export function Domains({ orgId }: { orgId: string }) {
  const domains = useAsync(
    async () => (await must(api.GET('/v1/orgs/{orgId}/domains', { params: { path: { orgId } } }))).items,
    [orgId],
  )
  const [name, setName] = useState('')
  const [error, setError] = useState<string | null>(null)
  return (
    <Stack>
      <Text size="sm">
        Prove your organization controls a domain with a DNS TXT record. Then people whose verified email is
        at that domain can be offered this organization, or join it automatically. No other organization can
        claim a domain you verified.
      </Text>
      <form
        onSubmit={async (event) => {
          event.preventDefault()
          const ok = await attempt(
            () =>
              must(
                api.POST('/v1/orgs/{orgId}/domains', { params: { path: { orgId } }, body: { domain: name } }),
              ),
            'Domain added: publish its TXT record, then verify',
            setError,
          )
          if (ok) {
            setName('')
            domains.reload()
          }
        }}
      >
        <Group align="flex-end">
          <TextInput
            label="Domain"
            placeholder="example.com"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            required
          />
          <Button type="submit">Add domain</Button>
        </Group>
      </form>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      <Loaded state={domains}>
        {(items) =>
          items.length === 0 ? (
            <Text c="dimmed">No domains yet.</Text>
          ) : (
            <Stack>
              {items.map((d) => (
                <DomainCard key={d.id} orgId={orgId} domain={d} onChange={domains.reload} />
              ))}
            </Stack>
          )
        }
      </Loaded>
    </Stack>
  )
}

/** What verification found, in words: the code says which case, `details` the specifics. */
function verifyProblem(error: unknown): string {
  const code = codeOf(error)
  const details = (error as { problem?: { details?: { found?: string[] } } }).problem?.details
  if (code === 'DOMAIN_RECORD_MISSING')
    return 'No TXT record there yet. DNS changes can take a few minutes to show: publish it and verify again.'
  if (code === 'DOMAIN_RECORD_MISMATCH')
    return `TXT records were found, but not this one. Found: ${(details?.found ?? []).join(' · ')}`
  if (code === 'DNS_UNAVAILABLE') return 'DNS did not answer. Nothing changed: try again in a moment.'
  if (code === 'DOMAIN_TAKEN') return 'Another organization has verified this domain.'
  return errorMessage(error)
}

function DomainCard({ orgId, domain, onChange }: { orgId: string; domain: Domain; onChange: () => void }) {
  const { model } = useSession()
  const path = { orgId, domainId: domain.id }
  const [problem, setProblem] = useState<string | null>(null)
  const [verifying, setVerifying] = useState(false)
  const roles = useAsync(
    async () =>
      domain.status === 'verified'
        ? (
            await must(
              api.GET('/v1/orgs/{orgId}/roles', {
                params: { path: { orgId }, query: { grantable: 'true' } },
              }),
            )
          ).items
            .filter((r) => r.scope === 'org')
            .sort((a, b) => b.priority - a.priority)
        : [],
    [orgId, domain.status],
  )
  const update = (body: { joinMode?: JoinMode; defaultRole?: string | null }) =>
    attempt(
      () => must(api.PATCH('/v1/orgs/{orgId}/domains/{domainId}', { params: { path }, body })),
      'Saved',
    ).then((ok) => ok && onChange())
  return (
    <Paper withBorder p="md" aria-label={`Domain ${domain.unicode}`}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="xs">
            <Text fw={600}>{domain.unicode}</Text>
            {domain.status === 'verified' ? (
              <Badge color="green">Verified</Badge>
            ) : (
              <Badge color="orange">Pending</Badge>
            )}
          </Group>
          <Button
            size="xs"
            color="red"
            variant="light"
            onClick={async () => {
              const ok = await attempt(
                () => must(api.DELETE('/v1/orgs/{orgId}/domains/{domainId}', { params: { path } })),
                'Domain removed',
              )
              if (ok) onChange()
            }}
          >
            Remove
          </Button>
        </Group>
        {domain.status === 'pending' ? (
          <>
            <Text size="sm">Add this TXT record at your DNS provider, then verify:</Text>
            <Copyable labelWidth={60} label="Name" value={domain.txtRecord.name} />
            <Copyable labelWidth={60} label="Value" value={domain.txtRecord.value} />
            <Group>
              <Button
                size="xs"
                loading={verifying}
                onClick={async () => {
                  setVerifying(true)
                  setProblem(null)
                  try {
                    await must(api.POST('/v1/orgs/{orgId}/domains/{domainId}/verify', { params: { path } }))
                    onChange()
                  } catch (error) {
                    setProblem(verifyProblem(error))
                  } finally {
                    setVerifying(false)
                  }
                }}
              >
                Verify
              </Button>
            </Group>
            {problem && (
              <Alert color="yellow" role="alert" title="Not verified yet">
                {problem}
              </Alert>
            )}
          </>
        ) : (
          <Group align="flex-end">
            <Select
              label="Who joins through this domain"
              data={JOIN_MODES}
              value={domain.joinMode}
              onChange={(v) => v && v !== domain.joinMode && update({ joinMode: v as JoinMode })}
              allowDeselect={false}
              w={420}
            />
            <Loaded state={roles}>
              {(list) => (
                <Select
                  label="As"
                  data={[
                    { value: '', label: `${roleLabel(model, model?.org.defaultRole ?? '')} (the default)` },
                    ...list.map((r) => ({ value: r.key, label: r.label })),
                  ]}
                  value={domain.defaultRole ?? ''}
                  onChange={(v) => {
                    const next = v || null
                    if (next !== domain.defaultRole) update({ defaultRole: next })
                  }}
                  allowDeselect={false}
                  w={260}
                />
              )}
            </Loaded>
          </Group>
        )}
      </Stack>
    </Paper>
  )
}
