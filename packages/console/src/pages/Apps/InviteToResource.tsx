import { Alert, Stack, TextInput } from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Captcha } from '../../components/Captcha.tsx'
import type { RoleOption } from '../../components/grantable-roles.ts'
import { RolePicker } from '../../components/RolePicker.tsx'
import { attempt } from '../../hooks.ts'

/**
 * Seed 002: access to one resource for someone outside the org, by email. The invitation carries the
 * resource and a role there; on accepting, the person is an external account with that resource only.
 */
export function InviteToResource(props: {
  orgId: string
  resourceId: string
  roles: RoleOption[]
  onSent: () => void
}) {
  const [email, setEmail] = useState('')
  const [captcha, setCaptcha] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  return (
    <Stack>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      <TextInput
        label="Email"
        type="email"
        required
        data-autofocus
        value={email}
        onChange={(e) => setEmail(e.currentTarget.value)}
      />
      <Captcha onSolved={setCaptcha} />
      <RolePicker
        roles={props.roles}
        confirm="Send invitation"
        onConfirm={async (role) => {
          if (!/^\S+@\S+\.\S+$/.test(email.trim())) {
            setError('Enter a valid email')
            return
          }
          const ok = await attempt(
            () =>
              must(
                api.POST('/v1/orgs/{orgId}/invitations', {
                  params: { path: { orgId: props.orgId } },
                  body: {
                    email: email.trim(),
                    role,
                    resourceId: props.resourceId,
                    ...(captcha && { captcha }),
                  },
                }),
              ),
            `Invitation sent to ${email.trim()} (without SMTP, it waits in the Local outbox)`,
            setError,
          )
          if (ok) props.onSent()
        }}
      />
    </Stack>
  )
}
