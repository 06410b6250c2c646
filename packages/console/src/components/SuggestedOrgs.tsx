import { Alert, Button, Group, Text } from '@mantine/core'
import { api, must } from '../api.ts'
import { attempt, useAsync } from '../hooks.ts'
import { navigate } from '../router.tsx'
import { useSession } from '../session.tsx'

/**
 * Orgs the signed-in person may join because their verified email's domain is one the org verified
 * (issue 21.2): one line each, with Join. Nothing when there are none.
 */
export function SuggestedOrgs() {
  const { orgs } = useSession()
  const suggested = useAsync(async () => (await must(api.GET('/v1/me/suggested-orgs'))).items, [])
  const items = suggested.data ?? []
  if (items.length === 0) return null
  return (
    <>
      {items.map((s) => (
        <Alert key={s.orgId} color="blue" mb="md" title="An organization for your domain">
          <Group justify="space-between">
            <Text size="sm">
              People at {s.domain} use <b>{s.name}</b>. Your email is at {s.domain}, so you can join it.
            </Text>
            <Button
              size="xs"
              onClick={async () => {
                const ok = await attempt(
                  () => must(api.POST('/v1/orgs/{orgId}/join', { params: { path: { orgId: s.orgId } } })),
                  `You joined ${s.name}`,
                )
                if (!ok) return
                suggested.reload()
                orgs.reload()
                navigate(`/orgs/${s.orgId}/settings`)
              }}
            >
              Join {s.name}
            </Button>
          </Group>
        </Alert>
      ))}
    </>
  )
}
