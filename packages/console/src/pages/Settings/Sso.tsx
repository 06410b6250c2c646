import { Stack, Text } from '@mantine/core'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { ConnectionCard } from './sso/ConnectionCard.tsx'
import { NewConnection } from './sso/NewConnection.tsx'
import { SsoPolicy } from './sso/SsoPolicy.tsx'

/**
 * Per-org single sign-on (issue 21.1): connections to the org's identity provider (OIDC or SAML) — create,
 * test, enable — with the URLs to give the IdP, the IdP-group mapping visible and editable, and the "SSO
 * required" policy with its break-glass owner. Needs org.manage_security, as the tab itself.
 */
export function Sso({ orgId }: { orgId: string }) {
  const connections = useAsync(
    async () =>
      (await must(api.GET('/v1/orgs/{orgId}/sso-connections', { params: { path: { orgId } } }))).items,
    [orgId],
  )
  const options = useAsync(async () => {
    const path = { params: { path: { orgId } } }
    const [groups, roles, members] = await Promise.all([
      must(api.GET('/v1/orgs/{orgId}/groups', path)),
      must(api.GET('/v1/orgs/{orgId}/roles', path)),
      must(api.GET('/v1/orgs/{orgId}/members', path)),
    ])
    return {
      groups: groups.items,
      roles: roles.items.filter((r) => r.scope === 'org'),
      members: members.items,
    }
  }, [orgId])
  return (
    <Stack>
      <Text size="sm">
        Let people sign in through your identity provider. People whose email is at one of your verified
        domains are routed to it from the sign-in page, join this organization with the default role on their
        first sign-in, and their IdP groups set their groups and role at every sign-in.
      </Text>
      <Loaded state={connections}>
        {(items) => (
          <Stack>
            {items.length === 0 && <Text c="dimmed">No connections yet.</Text>}
            {items.map((c) => (
              <ConnectionCard
                key={c.id}
                orgId={orgId}
                connection={c}
                options={options.data}
                onChange={connections.reload}
              />
            ))}
          </Stack>
        )}
      </Loaded>
      <NewConnection orgId={orgId} onCreated={connections.reload} />
      <SsoPolicy orgId={orgId} members={options.data?.members ?? []} />
    </Stack>
  )
}
