import { Button, Select, Stack } from '@mantine/core'
import { useState } from 'react'
import { useWords } from '../words.ts'
import type { RoleOption } from './grantable-roles.ts'

/** One role from a list (the model's "Role" / "Access level"), confirmed with a button. */
export function RolePicker(props: {
  roles: RoleOption[]
  initial?: string
  confirm: string
  onConfirm: (role: string) => Promise<void> | void
}) {
  const words = useWords()
  const [role, setRole] = useState<string | null>(props.initial ?? null)
  const [busy, setBusy] = useState(false)
  return (
    <Stack>
      <Select
        label={words.role.label}
        data={props.roles}
        value={role}
        onChange={setRole}
        allowDeselect={false}
      />
      <Button
        disabled={!role}
        loading={busy}
        onClick={async () => {
          if (!role) return
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
