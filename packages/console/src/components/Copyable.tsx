import { ActionIcon, Code, CopyButton, Group, Text, Tooltip } from '@mantine/core'
import { IconCheck, IconCopy } from '@tabler/icons-react'

/**
 * A labelled value an admin pastes elsewhere (a DNS record, an IdP's redirect URI), with a copy button
 * named after the label. `labelWidth` lines up a column of them.
 */
export function Copyable({
  label,
  value,
  labelWidth = 150,
}: {
  label: string
  value: string
  labelWidth?: number
}) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="sm" w={labelWidth} c="dimmed">
        {label}
      </Text>
      <Code style={{ wordBreak: 'break-all' }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'}>
            <ActionIcon variant="subtle" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
              {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  )
}
