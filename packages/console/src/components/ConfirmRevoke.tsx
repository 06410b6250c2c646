import { Button, Group, Modal, Stack, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import { attempt } from '../hooks.ts'

/**
 * "Revoke this …?" for a credential: what stops working, Cancel, and a red Revoke that runs `revoke`,
 * toasts `done` and closes. `item` null keeps it closed; `onRevoked` runs only when the revoke succeeded.
 */
export function ConfirmRevoke<T>(props: {
  item: T | null
  title: string
  consequence: (item: T) => ReactNode
  revoke: (item: T) => Promise<unknown>
  done: string
  onClose: () => void
  onRevoked: () => void
}) {
  const { item } = props
  return (
    <Modal opened={item !== null} onClose={props.onClose} title={props.title}>
      {item !== null && (
        <Stack>
          <Text size="sm">{props.consequence(item)}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button
              color="red"
              onClick={async () => {
                const ok = await attempt(() => props.revoke(item), props.done)
                props.onClose()
                if (ok) props.onRevoked()
              }}
            >
              Revoke
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  )
}
