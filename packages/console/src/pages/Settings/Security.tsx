import {
  Badge,
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  Stack,
  Switch,
  Table,
  Text,
  Title,
} from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { useEffect, useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useWords } from '../../words.ts'

type Policy = components['schemas']['SecurityPolicy']
const DEFAULT_PASSWORD = {
  minLength: 12,
  requireUpper: true,
  requireDigit: true,
  requireSpecial: false,
  rejectCommon: true,
}

/** 2FA enforcement, password policy, API key policy, and who does not comply yet (seed 001, SPEC 3). */
export function Security({ orgId }: { orgId: string }) {
  const { member } = useWords()
  const policy = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/security', { params: { path: { orgId } } })),
    [orgId],
  )
  const compliance = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/security/compliance', { params: { path: { orgId } } })),
    [orgId],
  )
  const [draft, setDraft] = useState<Policy | null>(null)
  useEffect(() => {
    if (policy.data) {
      const { requireMfa, passwordPolicy, apiKeyPolicy } = policy.data
      setDraft({ requireMfa, passwordPolicy, apiKeyPolicy })
    }
  }, [policy.data])
  return (
    <Stack maw={760}>
      <Loaded state={policy}>
        {() =>
          draft && (
            <Paper withBorder p="lg">
              <Stack>
                <Switch
                  label={`Require two-factor authentication for every ${member.one}`}
                  checked={draft.requireMfa}
                  onChange={(e) => setDraft({ ...draft, requireMfa: e.currentTarget.checked })}
                />
                <Switch
                  label="Password policy"
                  checked={!!draft.passwordPolicy}
                  onChange={(e) =>
                    setDraft({ ...draft, passwordPolicy: e.currentTarget.checked ? DEFAULT_PASSWORD : null })
                  }
                />
                {draft.passwordPolicy && (
                  <Group pl="xl">
                    <NumberInput
                      label="Minimum length"
                      min={8}
                      max={128}
                      value={draft.passwordPolicy.minLength}
                      onChange={(v) =>
                        setDraft({
                          ...draft,
                          passwordPolicy: { ...draft.passwordPolicy!, minLength: Number(v) || 8 },
                        })
                      }
                      w={140}
                    />
                    {(['requireUpper', 'requireDigit', 'requireSpecial', 'rejectCommon'] as const).map(
                      (k) => (
                        <Checkbox
                          key={k}
                          label={
                            {
                              requireUpper: 'Uppercase',
                              requireDigit: 'Digit',
                              requireSpecial: 'Special character',
                              rejectCommon: 'Reject common passwords',
                            }[k]
                          }
                          checked={draft.passwordPolicy![k]}
                          onChange={(e) =>
                            setDraft({
                              ...draft,
                              passwordPolicy: { ...draft.passwordPolicy!, [k]: e.currentTarget.checked },
                            })
                          }
                        />
                      ),
                    )}
                  </Group>
                )}
                <Switch
                  label="API keys must expire"
                  checked={!!draft.apiKeyPolicy?.requireExpiry}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      apiKeyPolicy: e.currentTarget.checked ? { requireExpiry: true, maxDays: 90 } : null,
                    })
                  }
                />
                {draft.apiKeyPolicy && (
                  <NumberInput
                    pl="xl"
                    label="Longest lifetime (days)"
                    min={1}
                    max={3650}
                    w={220}
                    value={draft.apiKeyPolicy.maxDays ?? ''}
                    onChange={(v) =>
                      setDraft({
                        ...draft,
                        apiKeyPolicy: { ...draft.apiKeyPolicy!, maxDays: v === '' ? null : Number(v) },
                      })
                    }
                  />
                )}
                <Group>
                  <Button
                    onClick={async () => {
                      if (
                        await attempt(
                          () =>
                            must(
                              api.PUT('/v1/orgs/{orgId}/security', {
                                params: { path: { orgId } },
                                body: draft,
                              }),
                            ),
                          'Security policy saved',
                        )
                      ) {
                        policy.reload()
                        compliance.reload()
                      }
                    }}
                  >
                    Save
                  </Button>
                </Group>
              </Stack>
            </Paper>
          )
        }
      </Loaded>
      <Title order={4}>{member.plural} and the policy</Title>
      <Loaded state={compliance}>
        {(data) => (
          <>
            <Text size="sm">
              {data.nonCompliant} {member.one}(s) do not comply yet; they lose access until they do.
            </Text>
            <Table aria-label="Compliance">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{member.label}</Table.Th>
                  <Table.Th>2FA</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.items.map((m) => (
                  <Table.Tr key={m.userId}>
                    <Table.Td>
                      {m.name}{' '}
                      <Text span c="dimmed" size="xs">
                        {m.email}
                      </Text>
                    </Table.Td>
                    <Table.Td>{m.mfaEnabled ? 'On' : 'Off'}</Table.Td>
                    <Table.Td>
                      <Badge color={m.compliant ? 'green' : 'red'} variant="light">
                        {m.compliant ? 'Compliant' : 'Non-compliant'}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </>
        )}
      </Loaded>
    </Stack>
  )
}
