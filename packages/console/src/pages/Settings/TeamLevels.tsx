import { Badge, Group, Select, Switch, Text } from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { attempt } from '../../hooks.ts'
import type { Model } from '../../types.ts'

/** The group binding role whose meaning is the team's (or the member's) level (SPEC 1.3, seed 003). */
export const TEAM_ROLE = 'team'

/**
 * The model's team levels (`teamLevels`: read / write / admin in the teams preset), labelled by the role a
 * level means on a resource ("Read", "Write", "Admin"). Empty for models without teams.
 */
export function teamLevels(model: Model | undefined): { value: string; label: string }[] {
  return Object.entries(model?.teamLevels ?? {}).map(([key, byScope]) => {
    const role = Object.entries(byScope).find(([scope]) => scope !== 'org')?.[1] ?? Object.values(byScope)[0]
    return { value: key, label: (role && model?.roles[role]?.label) || key }
  })
}

/** A group's role in the list: a team level's label, a role's label, or the key. */
export function groupRoleLabel(model: Model | undefined, role: string): string {
  return teamLevels(model).find((l) => l.value === role)?.label ?? model?.roles[role]?.label ?? role
}

/** The team's own level (PATCH …/groups/{id} `role`): every member's under single-role teams. */
export function TeamLevelSelect(props: {
  orgId: string
  groupId: string
  model: Model | undefined
  value: string | null
  canManage: boolean
  onSaved?: () => void
}) {
  const [value, setValue] = useState(props.value)
  return (
    <Select
      label="Team level"
      description="Read, Write or Admin on the repositories the team is given (all of them when given the organization)"
      data={teamLevels(props.model)}
      value={value}
      allowDeselect={false}
      disabled={!props.canManage}
      onChange={async (role) => {
        if (!role) return
        const ok = await attempt(
          () =>
            must(
              api.PATCH('/v1/orgs/{orgId}/groups/{id}', {
                params: { path: { orgId: props.orgId, id: props.groupId } },
                body: { role },
              }),
            ),
          'Team level saved',
        )
        if (ok) {
          setValue(role)
          props.onSaved?.()
        }
      }}
    />
  )
}

/**
 * The level ranked highest (seed 003's Admin), by the priority of the role it means at the org: its holders
 * are the team's administrators, who set their own team's members' levels.
 */
export function topTeamLevel(model: Model | undefined): string | null {
  const levels = Object.entries(model?.teamLevels ?? {})
  const priority = (byScope: Record<string, string>) => model?.roles[byScope.org ?? '']?.priority ?? -1
  return levels.sort(([, a], [, b]) => priority(b) - priority(a))[0]?.[0] ?? null
}

/**
 * A member's own level in a team (PUT …/members/{userId} `memberRole`); "Team level" follows the team. With
 * single-role teams on, the level is suspended (seed 003): shown, kept for later, not editable.
 */
export function MemberLevelSelect(props: {
  orgId: string
  groupId: string
  userId: string
  email: string
  model: Model | undefined
  value: string | null
  canManage: boolean
  suspended?: boolean
}) {
  const [value, setValue] = useState(props.value ?? '')
  const select = (
    <Select
      aria-label={`Level of ${props.email}`}
      size="xs"
      w={140}
      data={[{ value: '', label: 'Team level' }, ...teamLevels(props.model)]}
      value={value}
      allowDeselect={false}
      disabled={!props.canManage || props.suspended}
      onChange={async (level) => {
        const memberRole = level || null
        const ok = await attempt(
          () =>
            must(
              api.PUT('/v1/orgs/{orgId}/groups/{id}/members/{userId}', {
                params: { path: { orgId: props.orgId, id: props.groupId, userId: props.userId } },
                body: { memberRole },
              }),
            ),
          'Level saved',
        )
        if (ok) setValue(level ?? '')
      }}
    />
  )
  if (!props.suspended) return select
  return (
    <Group gap="xs" wrap="nowrap">
      {select}
      <Badge variant="light" color="gray" title="Single-role teams are on: every member has the team's level">
        Suspended
      </Badge>
    </Group>
  )
}

/**
 * Seed 003's two General settings, shown only for a model with teams: single-role teams (`singleRoleTeams`)
 * and, when a resource type has `teamAccessSetting`, the Permissions setting (`resourceAdminsGrantTeamAccess`).
 */
export function TeamSettings(props: {
  orgId: string
  model: Model | undefined
  org: { singleRoleTeams: boolean; resourceAdminsGrantTeamAccess: boolean }
  canEdit: boolean
  onSaved: () => void
}) {
  const { model } = props
  const resourceType = Object.values(model?.resourceTypes ?? {}).find((t) => t.teamAccessSetting)
  if (!model || (!model.teamLevels && !resourceType)) return null
  const save = (body: { singleRoleTeams?: boolean; resourceAdminsGrantTeamAccess?: boolean }) =>
    attempt(
      () => must(api.PATCH('/v1/orgs/{orgId}', { params: { path: { orgId: props.orgId } }, body })),
      'Settings saved',
    ).then((ok) => ok && props.onSaved())
  const label = resourceType?.label.toLowerCase() ?? 'resource'
  return (
    <>
      {model.teamLevels && (
        <Switch
          label="Single-role teams"
          description="Every member of a team has the team's level. Turned on the first time, every team is set to Read; turned off, members get back their own levels."
          checked={props.org.singleRoleTeams}
          disabled={!props.canEdit}
          onChange={(e) => save({ singleRoleTeams: e.currentTarget.checked })}
        />
      )}
      {resourceType && (
        <Switch
          label="Permissions"
          description={`Allow admins of a ${label} to give teams access to that ${label} only (off: only owners give teams access).`}
          checked={props.org.resourceAdminsGrantTeamAccess}
          disabled={!props.canEdit}
          onChange={(e) => save({ resourceAdminsGrantTeamAccess: e.currentTarget.checked })}
        />
      )}
      <Text size="xs" c="dimmed">
        These switches save at once.
      </Text>
    </>
  )
}
