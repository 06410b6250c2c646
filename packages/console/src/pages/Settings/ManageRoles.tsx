import { Badge, Group, Loader, NavLink, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import type { Member, Org, Role } from '../../types.ts'
import { RoleSetChoice } from './RoleSet.tsx'

/** The org and every org below it that the signed-in person sees, root first, depth-first. */
function subtree(orgs: Org[], rootId: string): { org: Org; depth: number }[] {
  const out: { org: Org; depth: number }[] = []
  const walk = (id: string, depth: number) => {
    const org = orgs.find((o) => o.id === id)
    if (!org) return
    out.push({ org, depth })
    for (const child of orgs.filter((o) => o.parentId === id).sort((a, b) => a.name.localeCompare(b.name)))
      walk(child.id, depth + 1)
  }
  walk(rootId, 0)
  return out
}

/**
 * Seed 004's Manage Roles modal: "the user's assigned organization and sub-organizations will be visible on
 * the left side", the roles across all modules on the right. In a sub-org the person only inherits, a role
 * given here makes them a direct member in the same call (PATCH …/members/{userId}); a module left empty
 * inherits ("None").
 */
export function ManageRoles(props: { orgId: string; member: Member; roles: Role[]; onDone: () => void }) {
  const { orgs } = useSession()
  const [scope, setScope] = useState(props.orgId)
  const tree = subtree(orgs.data ?? [], props.orgId)
  const place = useAsync(async () => {
    const reply = await must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId: scope } } }))
    return reply.items.find((m) => m.userId === props.member.userId) ?? null
  }, [scope, props.member.userId])
  return (
    <Group align="flex-start" wrap="nowrap" gap="lg">
      <Stack gap={2} w={220} aria-label="Organizations">
        {tree.map(({ org, depth }) => (
          <NavLink
            key={org.id}
            label={org.name}
            active={org.id === scope}
            pl={8 + depth * 16}
            onClick={() => setScope(org.id)}
            description={depth === 0 ? 'Organization' : 'Sub-organization'}
          />
        ))}
      </Stack>
      <Stack style={{ flex: 1 }}>
        {place.loading || place.data === undefined ? (
          <Loader size="sm" />
        ) : (
          <>
            <Group gap="xs">
              <Text size="sm">{props.member.email}</Text>
              <Badge variant="light" color={place.data?.source === 'inherited' ? 'gray' : 'blue'}>
                {place.data?.source === 'inherited' ? 'Inherited' : 'Member'}
              </Badge>
            </Group>
            <RoleSetChoice
              key={scope}
              roles={props.roles}
              initial={place.data?.source === 'inherited' ? [] : (place.data?.roles ?? [])}
              confirm="Confirm"
              onConfirm={async (roles) => {
                const ok = await attempt(
                  () =>
                    must(
                      api.PATCH('/v1/orgs/{orgId}/members/{userId}', {
                        params: { path: { orgId: scope, userId: props.member.userId! } },
                        body: { roles },
                      }),
                    ),
                  'Roles saved',
                )
                if (ok) {
                  place.reload()
                  if (scope === props.orgId) props.onDone()
                }
              }}
            />
          </>
        )}
      </Stack>
    </Group>
  )
}
