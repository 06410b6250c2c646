import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  List,
  Modal,
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
import { navigate } from '../../router.tsx'
import { useWords } from '../../words.ts'

type Policy = components['schemas']['SecurityPolicy']
type Preview = components['schemas']['SecurityPreview']
const UNMET = { mfa: 'no two-factor authentication', password: "password doesn't meet it" } as const
const PASSWORD = {
  ok: '',
  fails: "password doesn't meet it",
  unknown: 'password not checked since it was set (known at their next sign-in)',
  none: 'no password (signs in through the host product)',
} as const
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
  const policy_ = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/security', { params: { path: { orgId } } })),
    [orgId],
  )
  const compliance = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/security/compliance', { params: { path: { orgId } } })),
    [orgId],
  )
  const [draft, setDraft] = useState<Policy | null>(null)
  // Issue 19.4: before saving, who the policy would gate (confirm), and whether it would gate you (refused).
  const [confirm, setConfirm] = useState<Preview | null>(null)
  const [blocked, setBlocked] = useState<NonNullable<Preview['you']> | null>(null)
  const save = async (policy: Policy) => {
    const saved = await attempt(
      () => must(api.PUT('/v1/orgs/{orgId}/security', { params: { path: { orgId } }, body: policy })),
      'Security policy saved',
    )
    setConfirm(null)
    if (saved) {
      policy_.reload()
      compliance.reload()
    }
  }
  const review = async (policy: Policy) => {
    setBlocked(null)
    let preview: Preview | undefined
    const asked = await attempt(async () => {
      preview = await must(
        api.POST('/v1/orgs/{orgId}/security/preview', { params: { path: { orgId } }, body: policy }),
      )
    })
    if (!asked || !preview) return
    if (preview.you && preview.you.unmet.length > 0) setBlocked(preview.you)
    else if (preview.items.length > 0) setConfirm(preview)
    else await save(policy)
  }
  useEffect(() => {
    if (policy_.data) {
      const { requireMfa, passwordPolicy, apiKeyPolicy } = policy_.data
      setDraft({ requireMfa, passwordPolicy, apiKeyPolicy })
    }
  }, [policy_.data])
  return (
    <Stack maw={760}>
      <Loaded state={policy_}>
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
                {blocked && (
                  <Alert color="red" title="You don't meet this policy yourself" data-testid="policy-self">
                    <Text size="sm" mb="sm">
                      Saving it would lock you out. First:{' '}
                      {blocked.unmet
                        .map((u) =>
                          u === 'mfa' ? 'enrol two-factor authentication' : 'change your password',
                        )
                        .join(' and ')}
                      .
                    </Text>
                    <Group>
                      {blocked.unmet.includes('mfa') && (
                        <Button size="xs" onClick={() => navigate('/account#two-factor')}>
                          Enrol two-factor authentication
                        </Button>
                      )}
                      {blocked.unmet.includes('password') && (
                        <Button size="xs" onClick={() => navigate('/account#password')}>
                          Change your password
                        </Button>
                      )}
                    </Group>
                  </Alert>
                )}
                <Group>
                  <Button onClick={() => review(draft)}>Save</Button>
                </Group>
              </Stack>
            </Paper>
          )
        }
      </Loaded>
      <Modal
        opened={!!confirm}
        onClose={() => setConfirm(null)}
        title={`${confirm?.nonCompliant ?? 0} ${member.one}(s) would lose access until they comply`}
        size="lg"
      >
        {confirm && draft && (
          <Stack>
            <List size="sm" data-testid="policy-preview">
              {confirm.items.map((i) => (
                <List.Item key={i.userId}>
                  <b>{i.name}</b> ({i.email}):{' '}
                  {i.unmet.map((u) => (u === 'password' ? PASSWORD[i.password] : UNMET[u])).join(', ')}
                </List.Item>
              ))}
            </List>
            <Text size="sm" c="dimmed">
              They still see the organization, and are told what to do first.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirm(null)}>
                Cancel
              </Button>
              <Button color="red" onClick={() => save(draft)}>
                Save anyway
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
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
