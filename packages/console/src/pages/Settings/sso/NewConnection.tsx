import {
  Alert,
  Button,
  Group,
  Paper,
  PasswordInput,
  Select,
  Stack,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../../api.ts'
import { attempt } from '../../../hooks.ts'

/** The form for a new OIDC or SAML connection (created disabled: test it, then enable it). */
export function NewConnection({ orgId, onCreated }: { orgId: string; onCreated: () => void }) {
  const [kind, setKind] = useState<'oidc' | 'saml'>('oidc')
  const [name, setName] = useState('')
  const [issuer, setIssuer] = useState('')
  const [clientId, setClientId] = useState('')
  const [clientSecret, setClientSecret] = useState('')
  const [groupsClaim, setGroupsClaim] = useState('groups')
  const [metadataXml, setMetadataXml] = useState('')
  const [error, setError] = useState<string | null>(null)
  return (
    <Paper withBorder p="md">
      <form
        onSubmit={async (event) => {
          event.preventDefault()
          const config =
            kind === 'oidc'
              ? {
                  issuer,
                  clientId,
                  clientSecret,
                  groupsClaim,
                  scopes: groupsClaim === 'groups' ? ['groups'] : [],
                }
              : { metadataXml }
          const ok = await attempt(
            () =>
              must(
                api.POST('/v1/orgs/{orgId}/sso-connections', {
                  params: { path: { orgId } },
                  body: { kind, name, config },
                }),
              ),
            'Connection created: test it, then enable it',
            setError,
          )
          if (ok) {
            setName('')
            setClientSecret('')
            onCreated()
          }
        }}
      >
        <Stack gap="sm">
          <Title order={4}>New connection</Title>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group align="flex-end">
            <Select
              label="Protocol"
              data={[
                { value: 'oidc', label: 'OpenID Connect' },
                { value: 'saml', label: 'SAML 2.0' },
              ]}
              value={kind}
              onChange={(v) => v && setKind(v as 'oidc' | 'saml')}
              allowDeselect={false}
            />
            <TextInput
              label="Connection name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              required
            />
          </Group>
          {kind === 'oidc' ? (
            <>
              <TextInput
                label="Issuer URL"
                placeholder="https://your-tenant.okta.com"
                value={issuer}
                onChange={(e) => setIssuer(e.currentTarget.value)}
                required
              />
              <Group grow>
                <TextInput
                  label="Client ID"
                  value={clientId}
                  onChange={(e) => setClientId(e.currentTarget.value)}
                  required
                />
                <PasswordInput
                  label="Client secret"
                  value={clientSecret}
                  onChange={(e) => setClientSecret(e.currentTarget.value)}
                  required
                />
                <TextInput
                  label="Groups claim"
                  value={groupsClaim}
                  onChange={(e) => setGroupsClaim(e.currentTarget.value)}
                />
              </Group>
            </>
          ) : (
            <Textarea
              label="IdP metadata XML"
              autosize
              minRows={4}
              maxRows={12}
              value={metadataXml}
              onChange={(e) => setMetadataXml(e.currentTarget.value)}
              required
            />
          )}
          <Group>
            <Button type="submit">Create connection</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  )
}
