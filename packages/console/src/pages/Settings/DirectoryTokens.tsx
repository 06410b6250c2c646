import { Alert, Badge, Button, Code, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { ConfirmRevoke } from '../../components/ConfirmRevoke.tsx'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useWords } from '../../words.ts'

type ScimToken = components['schemas']['ScimToken']
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—')

/**
 * The org's Directory tab (issue 21.3): SCIM directory tokens — made (the secret and the SCIM base URL shown
 * once), listed without secrets, revoked — and what the directory maps to here: its people join with the
 * org's default role, its groups are the org's groups below, their roles set on the Groups tab. Super
 * Admins only (`org.manage_security`), as the API.
 */
export function DirectoryTokens({ orgId }: { orgId: string }) {
  const { member } = useWords()
  const tokens = useAsync(
    async () => (await must(api.GET('/v1/orgs/{orgId}/scim-tokens', { params: { path: { orgId } } }))).items,
    [orgId],
  )
  const groups = useAsync(
    async () =>
      (await must(api.GET('/v1/orgs/{orgId}/groups', { params: { path: { orgId } } }))).items.filter(
        (g) => g.managedBy === 'directory',
      ),
    [orgId],
  )
  const [name, setName] = useState('')
  const [made, setMade] = useState<{ token: string; scimBaseUrl: string } | null>(null)
  const [revoking, setRevoking] = useState<ScimToken | null>(null)
  return (
    <Stack>
      <Text size="sm">
        An identity provider (Okta, Microsoft Entra ID…) provisions this organization over SCIM 2.0 with a
        directory token: the people it assigns become {member.many} with the default role, the people it
        deactivates lose every access here at once, and its groups are this organization's groups.
      </Text>
      <Group align="flex-end">
        <TextInput
          label="New directory token"
          placeholder="Okta"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <Button
          disabled={name.trim() === ''}
          onClick={async () => {
            let answer: { token: string; scimBaseUrl: string } | null = null
            const ok = await attempt(async () => {
              answer = await must(
                api.POST('/v1/orgs/{orgId}/scim-tokens', {
                  params: { path: { orgId } },
                  body: { name: name.trim() },
                }),
              )
            })
            if (ok && answer) {
              setMade(answer)
              setName('')
              tokens.reload()
            }
          }}
        >
          Create token
        </Button>
      </Group>
      {made && (
        <Alert
          color="yellow"
          title="Your directory token (shown once)"
          withCloseButton
          onClose={() => setMade(null)}
        >
          <Stack gap="xs">
            <Text size="sm">
              SCIM base URL: <Code aria-label="SCIM base URL">{made.scimBaseUrl}</Code>
            </Text>
            <Text size="sm">
              Token: <Code aria-label="Directory token">{made.token}</Code>
            </Text>
            <Text size="xs">
              Give both to the identity provider (Okta: HTTP Header, Bearer; Entra: Secret token). It is never
              shown again.
            </Text>
          </Stack>
        </Alert>
      )}
      <Loaded state={tokens}>
        {(items) =>
          items.length === 0 ? (
            <Text c="dimmed">No directory token yet.</Text>
          ) : (
            <Table.ScrollContainer minWidth={600}>
              <Table aria-label="Directory tokens">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Token</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Last used</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((t) => (
                    <Table.Tr key={t.id}>
                      <Table.Td>{t.name}</Table.Td>
                      <Table.Td>
                        <Code>{t.prefix}…</Code>
                      </Table.Td>
                      <Table.Td>{when(t.createdAt)}</Table.Td>
                      <Table.Td>{when(t.lastUsedAt)}</Table.Td>
                      <Table.Td>
                        {t.revokedAt ? (
                          <Badge color="red">revoked</Badge>
                        ) : (
                          <Button size="xs" color="red" variant="light" onClick={() => setRevoking(t)}>
                            Revoke
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Loaded>
      <Title order={5}>What the directory maps to</Title>
      <Table aria-label="Directory mapping">
        <Table.Tbody>
          <Table.Tr>
            <Table.Td>A user, active</Table.Td>
            <Table.Td>
              A {member.one} with the default role, matched to an account by email (made when there is none)
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Td>A user, deactivated or deleted</Table.Td>
            <Table.Td>
              No access to this organization; reactivated, back with the default role and groups
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Td>A group</Table.Td>
            <Table.Td>
              A group of this organization: bind roles to it on the Groups tab; its members follow the
              directory
            </Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <Loaded state={groups}>
        {(items) =>
          items.length === 0 ? (
            <Text c="dimmed">The directory has pushed no group yet.</Text>
          ) : (
            <Table aria-label="Directory groups">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Directory group</Table.Th>
                  <Table.Th>Organization role</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((g) => (
                  <Table.Tr key={g.id}>
                    <Table.Td>{g.name}</Table.Td>
                    <Table.Td>{g.role ?? '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </Loaded>
      <ConfirmRevoke
        item={revoking}
        title="Revoke this directory token?"
        consequence={(t) => (
          <>
            “{t.name}” stops working at once: the identity provider can't provision this organization with it
            any more. What it provisioned stays.
          </>
        )}
        revoke={(t) =>
          must(api.DELETE('/v1/orgs/{orgId}/scim-tokens/{id}', { params: { path: { orgId, id: t.id } } }))
        }
        done="Directory token revoked"
        onClose={() => setRevoking(null)}
        onRevoked={tokens.reload}
      />
    </Stack>
  )
}
