import { Alert, Button, Code, Stack, Text } from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'

type Report = Awaited<ReturnType<typeof verify>>
const verify = (orgId: string) =>
  must(api.GET('/v1/orgs/{orgId}/audit-logs/verify', { params: { path: { orgId } } }))

const BROKEN: Record<NonNullable<Report['firstBroken']>['reason'], string> = {
  content: 'its content was changed after it was written',
  link: 'it no longer follows the entry before it',
  gap: 'the entry before it is missing',
}

function Head({ head }: { head: components['schemas']['AuditHead'] }) {
  if (!head) return <Text size="sm">The log is empty.</Text>
  return (
    <Text size="sm">
      Head: entry #{head.seq}, hash <Code title={head.hash}>{head.hash.slice(0, 16)}…</Code> — keep it outside
      this server to detect later that newer entries were deleted.
    </Text>
  )
}

/** "Verify chain": the verdict in words, with the head it reached (not the raw report). */
export function AuditVerify({ orgId }: { orgId: string }) {
  const [report, setReport] = useState<Report | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  return (
    <Stack gap="xs">
      <Button
        variant="light"
        loading={busy}
        onClick={async () => {
          setBusy(true)
          setError(null)
          try {
            setReport(await verify(orgId))
          } catch (e) {
            setError(errorMessage(e))
          } finally {
            setBusy(false)
          }
        }}
      >
        Verify chain
      </Button>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      {report && (
        <Alert
          role="status"
          color={report.ok ? 'green' : 'red'}
          title={report.ok ? 'Chain intact' : 'Chain broken'}
          withCloseButton
          closeButtonLabel="Close the verdict"
          onClose={() => setReport(null)}
        >
          <Stack gap={4}>
            <Text size="sm">
              {report.ok
                ? `All ${report.checked.toLocaleString()} entries are unchanged and linked in order.`
                : report.firstBroken
                  ? `Entry #${report.firstBroken.seq} fails: ${BROKEN[report.firstBroken.reason]}. ${report.checked.toLocaleString()} entries checked.`
                  : 'The chain no longer reaches the head kept earlier: newer entries were deleted.'}
            </Text>
            <Head head={report.head} />
          </Stack>
        </Alert>
      )}
    </Stack>
  )
}
