import { ActionIcon, Alert, Badge, Group, Stack, Table, Text, Tooltip } from '@mantine/core'
import { IconShield } from '@tabler/icons-react'
import { api, must } from '../../api.ts'
import { useSession } from '../../session.tsx'
import { type Resource, roleLabel } from '../../types.ts'
import { useWords } from '../../words.ts'

export type ReachData = Awaited<ReturnType<typeof loadReach>>
export type Reached = ReachData['people'][number]
type Path = Reached['paths'][number]

export const loadReach = (orgId: string, id: string) =>
  must(api.GET('/v1/orgs/{orgId}/resources/{id}/reach', { params: { path: { orgId, id } } }))

/**
 * Everyone who reaches the app and every way each does (issue 26.4): an org role (this org's or a parent
 * org's), a role on the app, their own or a group's, an allow override — as the engine decides. Each row
 * opens the channel permissions for that person, whoever gave them access.
 */
export function ReachTable(props: {
  orgId: string
  app: Resource
  data: ReachData
  channelLabel: string | undefined
  onChannels: (person: Reached) => void
}) {
  const { orgId, app, data, channelLabel } = props
  const words = useWords()
  const appWord = words.resource(app.type)?.one ?? ''
  if (data.people.length === 0)
    return <Alert title="Nobody reaches it yet">No one may see this {appWord} yet.</Alert>
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped aria-label={`How people reach this ${appWord}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{words.member.label}</Table.Th>
            <Table.Th>How</Table.Th>
            {channelLabel && <Table.Th>{channelLabel} permissions</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.people.map((person) => {
            const who = person.user.email || person.user.name
            return (
              <Table.Tr key={person.user.id} data-email={person.user.email}>
                <Table.Td>
                  <Group gap="xs">
                    <Text size="sm">{who}</Text>
                    {person.user.external && (
                      <Badge variant="light" color="blue" title="External account">
                        external
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Stack gap={4}>
                    {person.paths.map((path) => (
                      <PathLine
                        key={`${path.kind}:${path.bindingId ?? path.scope.id}`}
                        path={path}
                        orgId={orgId}
                        app={app}
                      />
                    ))}
                  </Stack>
                </Table.Td>
                {channelLabel && (
                  <Table.Td>
                    <Tooltip label={`${channelLabel} permissions`}>
                      <ActionIcon
                        variant="subtle"
                        aria-label={`${channelLabel} permissions for ${who}`}
                        onClick={() => props.onChannels(person)}
                      >
                        <IconShield size={18} />
                      </ActionIcon>
                    </Tooltip>
                  </Table.Td>
                )}
              </Table.Tr>
            )
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )
}

/** One way in, as a sentence: "Member on the organization Acme, through the group QA". */
function PathLine({ path, orgId, app }: { path: Path; orgId: string; app: Resource }) {
  const { model } = useSession()
  const words = useWords()
  const where =
    path.scope.type === 'org'
      ? `${path.scope.id === orgId ? 'the organization' : 'the parent organization'} ${path.scope.name}`
      : path.scope.id === app.id
        ? `this ${words.resource(app.type)?.one ?? ''}`
        : `${words.scope(path.scope.type)} ${path.scope.name}`
  const kind =
    path.kind === 'override'
      ? 'Override'
      : path.scope.type === 'org'
        ? path.scope.id === orgId
          ? `Organization ${words.role.one}`
          : 'Inherited'
        : `${words.resource(path.scope.type)?.label ?? ''} ${words.role.one}`
  const held = path.kind === 'override' ? 'Allowed' : roleLabel(model, path.role ?? '')
  return (
    <Group gap="xs" wrap="nowrap">
      <Badge variant="outline" color={path.through.type === 'group' ? 'grape' : 'gray'}>
        {kind}
      </Badge>
      <Text size="sm">
        {held} on {where}
        {path.through.type === 'group' && `, through the ${words.group.one} ${path.through.name}`}
      </Text>
    </Group>
  )
}
