import { Button, Group, Stack, Table, Text } from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { ConfirmRevoke } from '../../components/ConfirmRevoke.tsx'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { navigate } from '../../router.tsx'
import { useWords } from '../../words.ts'

type OrgApiKey = components['schemas']['OrgApiKey']
const day = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : '—')

/**
 * The org's API Keys tab (seed 001): the live keys of the people here that reach this org — owner, name,
 * prefix, limits, last use, expiry; never a secret — which `org.manage_apikeys` may revoke (issue 19.4).
 * Without it, where to manage one's own keys.
 */
export function OrgApiKeys({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const { member } = useWords()
  const keys = useAsync(
    async () =>
      canManage
        ? (await must(api.GET('/v1/orgs/{orgId}/api-keys', { params: { path: { orgId } } }))).items
        : [],
    [orgId, canManage],
  )
  const [revoking, setRevoking] = useState<OrgApiKey | null>(null)
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm">
          API keys belong to a person and never hold more than their owner. This organization's rules for keys
          (expiry) are on the Security tab.
        </Text>
        <Button variant="default" onClick={() => navigate('/account#api-keys')}>
          Manage my API keys
        </Button>
      </Group>
      {canManage && (
        <Loaded state={keys}>
          {(items) =>
            items.length === 0 ? (
              <Text c="dimmed">No {member.one} has an API key that reaches this organization.</Text>
            ) : (
              <Table.ScrollContainer minWidth={760}>
                <Table aria-label="Organization API keys">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Owner</Table.Th>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Prefix</Table.Th>
                      <Table.Th>Limits</Table.Th>
                      <Table.Th>Last used</Table.Th>
                      <Table.Th>Expires</Table.Th>
                      <Table.Th />
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {items.map((k) => (
                      <Table.Tr key={k.id}>
                        <Table.Td>
                          {k.owner.name}{' '}
                          <Text span c="dimmed" size="xs">
                            {k.owner.email}
                          </Text>
                        </Table.Td>
                        <Table.Td>{k.name}</Table.Td>
                        <Table.Td>
                          <code>{k.prefix}…</code>
                        </Table.Td>
                        <Table.Td>
                          {[
                            k.orgIds ? `${k.orgIds.length} org(s)` : 'all their orgs',
                            k.resourceIds && `${k.resourceIds.length} resource(s)`,
                            k.permissions && `${k.permissions.length} permission(s)`,
                          ]
                            .filter(Boolean)
                            .join(', ')}
                        </Table.Td>
                        <Table.Td>{day(k.lastUsedAt)}</Table.Td>
                        <Table.Td>{day(k.expiresAt)}</Table.Td>
                        <Table.Td>
                          <Button size="xs" color="red" variant="light" onClick={() => setRevoking(k)}>
                            Revoke
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </Loaded>
      )}
      <ConfirmRevoke
        item={revoking}
        title="Revoke this API key?"
        consequence={(k) => (
          <>
            {k.owner.name}'s key “{k.name}” stops working everywhere, at once. They can create another on
            their account page.
          </>
        )}
        revoke={(k) =>
          must(api.DELETE('/v1/orgs/{orgId}/api-keys/{keyId}', { params: { path: { orgId, keyId: k.id } } }))
        }
        done="API key revoked"
        onClose={() => setRevoking(null)}
        onRevoked={keys.reload}
      />
    </Stack>
  )
}
