import { Alert, Paper, Select, Stack, Switch, Text, Title } from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../../api.ts'
import { Loaded } from '../../../components/Page.tsx'
import { attempt, useAsync } from '../../../hooks.ts'
import { useSession } from '../../../session.tsx'
import type { Options } from './types.ts'

/** "SSO required" for the org's verified domains, and the owner who keeps password sign-in. */
export function SsoPolicy({ orgId, members }: { orgId: string; members: Options['members'] }) {
  const { me, model } = useSession()
  const path = { params: { path: { orgId } } }
  const policy = useAsync(async () => must(api.GET('/v1/orgs/{orgId}/sso-policy', path)), [orgId])
  const [error, setError] = useState<string | null>(null)
  const [breakGlass, setBreakGlass] = useState<string | null>(null)
  const owners = members.filter((m) => m.userId && m.roles.some((r) => model?.org.ownerRoles.includes(r)))
  return (
    <Paper withBorder p="md">
      <Loaded state={policy}>
        {(p) => {
          const chosen = breakGlass ?? p.breakGlassUserId ?? me?.id ?? null
          const save = (ssoRequired: boolean) =>
            attempt(
              () =>
                must(
                  api.PUT('/v1/orgs/{orgId}/sso-policy', {
                    ...path,
                    body: { ssoRequired, breakGlassUserId: chosen },
                  }),
                ),
              ssoRequired ? 'SSO is now required' : 'SSO is no longer required',
              setError,
            ).then((ok) => ok && policy.reload())
          return (
            <Stack gap="sm">
              <Title order={4}>SSO required</Title>
              <Text size="sm">
                When on, people whose email is at one of this organization's verified domains can't sign in or
                reset a password with a password: they sign in with SSO. The break-glass owner keeps password
                sign-in, in case the identity provider fails.
              </Text>
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <Select
                label="Break-glass owner"
                data={owners.map((m) => ({ value: m.userId!, label: `${m.name} <${m.email}>` }))}
                value={chosen}
                onChange={setBreakGlass}
              />
              <Switch
                label="Require SSO for our verified domains"
                checked={p.ssoRequired}
                onChange={(e) => save(e.currentTarget.checked)}
              />
            </Stack>
          )
        }}
      </Loaded>
    </Paper>
  )
}
