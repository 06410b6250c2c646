import { Alert, Badge, Button, Group, Radio, Stack, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Captcha } from '../../components/Captcha.tsx'
import { attempt } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { type Role, roleLabel } from '../../types.ts'

/** Seed 001's "Select a role" modal: each org role with what it means. */
export function RoleChoice(props: {
  roles: Role[]
  initial?: string | undefined
  confirm: string
  onConfirm: (role: string) => void | Promise<void>
}) {
  const [role, setRole] = useState<string>(props.initial ?? props.roles[props.roles.length - 1]?.key ?? '')
  const [busy, setBusy] = useState(false)
  return (
    <Stack>
      <Radio.Group value={role} onChange={setRole} aria-label="Role">
        <Stack gap="sm">
          {props.roles.map((r) => (
            <Radio key={r.key} value={r.key} label={r.label} description={r.description} />
          ))}
        </Stack>
      </Radio.Group>
      <Button
        loading={busy}
        disabled={!role}
        onClick={async () => {
          setBusy(true)
          await props.onConfirm(role)
          setBusy(false)
        }}
      >
        {props.confirm}
      </Button>
    </Stack>
  )
}

/**
 * The org roles an invitation gives (as the server decides): those chosen, and the model's default role
 * unless a chosen role holds its slot or already covers it (seed 004: "added to the team as a Member with
 * read only access", plus the module roles).
 */
export function joinsWith(defaultRole: string | undefined, chosen: string[], all: Role[]): string[] {
  const roles = chosen.map((k) => all.find((r) => r.key === k)).filter((r): r is Role => !!r)
  const base = all.find((r) => r.key === defaultRole)
  if (!base || chosen.includes(base.key)) return chosen
  const covered = roles.some(
    (r) => r.slot === base.slot || base.permissions.every((p) => r.permissions.includes(p)),
  )
  return covered ? chosen : [base.key, ...chosen]
}

export function InviteForm(props: { orgId: string; roles: string[]; all: Role[]; onSent: () => void }) {
  const { orgId, onSent } = props
  const { model } = useSession()
  const [role, ...more] = props.roles
  const joins = joinsWith(model?.org.defaultRole, props.roles, props.all)
  const [captcha, setCaptcha] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const form = useForm({
    initialValues: { email: '', firstName: '', lastName: '' },
    validate: { email: (v) => (/^\S+@\S+\.\S+$/.test(v) ? null : 'Enter a valid email') },
  })
  return (
    <form
      noValidate
      onSubmit={form.onSubmit(async (values) => {
        setBusy(true)
        const ok = await attempt(
          () =>
            must(
              api.POST('/v1/orgs/{orgId}/invitations', {
                params: { path: { orgId } },
                body: {
                  email: values.email.trim(),
                  role: role!,
                  ...(more.length > 0 && { roles: more }),
                  ...(values.firstName.trim() && { firstName: values.firstName.trim() }),
                  ...(values.lastName.trim() && { lastName: values.lastName.trim() }),
                  ...(captcha && { captcha }),
                },
              }),
            ),
          `Invitation sent to ${values.email} (without SMTP, it waits in the Local outbox)`,
          setError,
        )
        setBusy(false)
        if (ok) onSent()
      })}
    >
      <Stack>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group gap={6} aria-label="Joins as">
          <Text size="sm">{joins.length > 1 ? 'Joins as:' : 'Role:'}</Text>
          {joins.map((r) => (
            <Badge key={r} variant="light">
              {roleLabel(model, r)}
            </Badge>
          ))}
        </Group>
        <TextInput label="Email" type="email" required data-autofocus {...form.getInputProps('email')} />
        <Group grow>
          <TextInput label="First name" {...form.getInputProps('firstName')} />
          <TextInput label="Last name" {...form.getInputProps('lastName')} />
        </Group>
        <Captcha onSolved={setCaptcha} />
        <Button type="submit" loading={busy} disabled={!captcha}>
          Send invitation
        </Button>
        {!captcha && (
          <Text size="xs" c="dimmed">
            Tick "I'm not a robot" above to send it.
          </Text>
        )}
      </Stack>
    </form>
  )
}
