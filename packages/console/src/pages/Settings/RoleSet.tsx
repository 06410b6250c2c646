import { Button, Checkbox, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { useSession } from '../../session.tsx'
import type { Role } from '../../types.ts'

/** Whether a member may hold org roles of several slots at once (seed 004: Owner / Member + module roles). */
export const severalSlots = (roles: Role[]) => new Set(roles.map((r) => r.slot)).size > 1

/**
 * A member's org roles when the model combines them (seed 004's module roles): every org role, grouped
 * by the model's slot, as checkboxes; the server says what may be combined (PATCH …/members `roles`).
 */
export function RoleSetChoice(props: {
  roles: Role[]
  initial: string[]
  confirm: string
  /** What the choice means here (default: how roles combine in a sub-organization). */
  note?: string
  onConfirm: (roles: string[]) => void | Promise<void>
}) {
  const { model } = useSession()
  const [chosen, setChosen] = useState<string[]>(props.initial)
  const [busy, setBusy] = useState(false)
  const slots = [...new Set(props.roles.map((r) => r.slot))]
  return (
    <Stack>
      {slots.map((slot) => (
        <Checkbox.Group
          key={slot}
          label={model?.slots?.[slot]?.label ?? slot}
          value={chosen.filter((k) => props.roles.some((r) => r.key === k && r.slot === slot))}
          onChange={(inSlot) =>
            setChosen([
              ...chosen.filter((k) => !props.roles.some((r) => r.key === k && r.slot === slot)),
              ...inSlot,
            ])
          }
        >
          <Stack gap={4} mt={4}>
            {props.roles
              .filter((r) => r.slot === slot)
              .map((r) => (
                <Checkbox key={r.key} value={r.key} label={r.label} />
              ))}
          </Stack>
        </Checkbox.Group>
      ))}
      <Text size="xs" c="dimmed">
        {props.note ??
          "Several roles combine; in a sub-organization, a module left empty inherits the parent's roles."}
      </Text>
      <Button
        loading={busy}
        disabled={chosen.length === 0}
        onClick={async () => {
          setBusy(true)
          await props.onConfirm(chosen)
          setBusy(false)
        }}
      >
        {props.confirm}
      </Button>
    </Stack>
  )
}
