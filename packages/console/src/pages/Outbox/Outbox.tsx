import { Alert, Anchor, Badge, Card, Code, Group, Stack, Text } from '@mantine/core'
import { api, must } from '../../api.ts'
import { Loaded, Page } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { Link } from '../../router.tsx'
import { mailParts } from './mail-links.ts'

/**
 * The local outbox: without SMTP, verification and invitation mail waits here. The server only lets a
 * local instance's console read it (docs/console.md); elsewhere the API refuses and this page says so.
 */
export function Outbox() {
  const outbox = useAsync(() => must(api.GET('/v1/outbox')), [])
  return (
    <Stack p="md" maw={900} mx="auto" w="100%">
      <Page title="Local outbox">
        <Text c="dimmed" size="sm">
          Mail this instance could not send because no SMTP server is configured (ORGKIT_SMTP_URL).{' '}
          <Link to="/">Back to the console</Link>
        </Text>
        <Loaded state={outbox}>
          {(data) =>
            data.items.length === 0 ? (
              <Alert title="No mail yet">
                Verification, invitation and password-reset mails land here while no SMTP server is set.
              </Alert>
            ) : (
              data.items.map((mail) => (
                <Card key={mail.id} withBorder component="article" aria-label={`Mail to ${mail.to}`}>
                  <Group justify="space-between">
                    <Text fw={600}>{mail.subject}</Text>
                    <Badge color={mail.sentAt ? 'green' : 'gray'}>{mail.sentAt ? 'sent' : 'not sent'}</Badge>
                  </Group>
                  <Text size="sm" c="dimmed">
                    To {mail.to} · {new Date(mail.createdAt).toLocaleString()}
                  </Text>
                  <Code block mt="xs" style={{ whiteSpace: 'pre-wrap' }}>
                    {mailParts(mail.text).map((part, i) =>
                      part.url ? (
                        // biome-ignore lint/suspicious/noArrayIndexKey: the parts never reorder
                        <Anchor key={i} href={part.url} fz="inherit">
                          {part.text}
                        </Anchor>
                      ) : (
                        part.text
                      ),
                    )}
                  </Code>
                </Card>
              ))
            )
          }
        </Loaded>
      </Page>
    </Stack>
  )
}
