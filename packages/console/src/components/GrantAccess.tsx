import { Select, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../api.ts'
import { attempt, useAsync } from '../hooks.ts'
import { useWords } from '../words.ts'
import { roleOptions, useGrantableRoles } from './grantable-roles.ts'
import { Loaded } from './Page.tsx'
import { RolePicker } from './RolePicker.tsx'

export interface PrincipalChoice {
  type: 'user' | 'group'
  id: string
  /** Shown above the pickers: an email, or a group's name. */
  label: string
}

/**
 * Seed 001's app access dialog, one for every screen that gives a role on a resource: the Members tab (a
 * person given: pick an app), the app's Access tab (the app given: pick a person or a group) and a group's
 * Access Control tab. Whatever is not given is picked; the roles offered are those the signed-in person
 * may give at the chosen resource. A role the principal already holds there changes in place (one PATCH,
 * never two roles or none); otherwise it is granted.
 */
export function GrantAccess(props: {
  orgId: string
  principal?: PrincipalChoice
  resource?: { id: string; type: string }
  onDone: () => void
}) {
  const { orgId } = props
  const words = useWords()
  const type = props.resource?.type ?? words.top?.type ?? ''
  const typeWords = words.resource(type)
  const [who, setWho] = useState<string | null>(null)
  const [resourceId, setResourceId] = useState<string | null>(props.resource?.id ?? null)
  const choices = useAsync(async () => {
    const [members, groups, resources] = await Promise.all([
      props.principal ? null : must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId } } })),
      props.principal ? null : must(api.GET('/v1/orgs/{orgId}/groups', { params: { path: { orgId } } })),
      props.resource
        ? null
        : must(
            api.GET('/v1/orgs/{orgId}/resources', {
              params: { path: { orgId }, query: { type, limit: 200 } },
            }),
          ),
    ])
    return {
      principals: [
        ...(members?.items ?? [])
          .filter((m) => m.userId && m.status === 'active')
          .map((m) => ({ value: `user:${m.userId}`, label: `${m.name} <${m.email}>` })),
        ...(groups?.items ?? []).map((g) => ({
          value: `group:${g.id}`,
          label: `${words.group.label}: ${g.name}`,
        })),
      ],
      resources: (resources?.items ?? []).map((r) => ({ value: r.id, label: r.name })),
    }
  }, [orgId, type, !props.principal, !props.resource, words.group.label])
  const roles = useGrantableRoles(orgId, type, resourceId)
  const principal = (): PrincipalChoice | null => {
    if (props.principal) return props.principal
    if (!who) return null
    const [kind, id] = who.split(':') as ['user' | 'group', string]
    return { type: kind, id, label: who }
  }
  const assign = async (role: string) => {
    const p = principal()
    if (!p || !resourceId) return
    const ok = await attempt(async () => {
      const held = await must(
        api.GET('/v1/orgs/{orgId}/bindings', {
          params: {
            path: { orgId },
            query: { ...(p.type === 'user' ? { userId: p.id } : { groupId: p.id }), resourceId },
          },
        }),
      )
      // A team's own binding (seed 003's `team`) is not a role held: it stays beside the one given.
      const current = held.items.find(
        (b) =>
          b.principal.type === p.type &&
          b.principal.id === p.id &&
          b.scope.id === resourceId &&
          b.role !== 'team',
      )
      if (current)
        return must(
          api.PATCH('/v1/orgs/{orgId}/bindings/{id}', {
            params: { path: { orgId, id: current.id } },
            body: { role },
          }),
        )
      return must(
        api.POST('/v1/orgs/{orgId}/bindings', {
          params: { path: { orgId } },
          body: { principal: { type: p.type, id: p.id }, role, resourceId },
        }),
      )
    }, `${typeWords?.label ?? ''} ${words.role.one} assigned`.trim())
    if (ok) props.onDone()
  }
  return (
    <Loaded state={choices}>
      {(data) => (
        <Stack>
          {props.principal ? (
            <Text size="sm">{props.principal.label}</Text>
          ) : (
            <Select
              label={`Email or ${words.group.one}`}
              placeholder={`Search ${words.member.many} and ${words.group.many}`}
              searchable
              data={data.principals}
              value={who}
              onChange={setWho}
            />
          )}
          {!props.resource && (
            <Select
              label={typeWords?.label ?? type}
              searchable
              placeholder={`Search ${typeWords?.many ?? ''}`}
              nothingFoundMessage={`No ${typeWords?.many ?? ''} yet`}
              data={data.resources}
              value={resourceId}
              onChange={setResourceId}
            />
          )}
          <RolePicker roles={roleOptions(roles.data)} confirm="Assign" onConfirm={assign} />
        </Stack>
      )}
    </Loaded>
  )
}
