import { Alert, Modal, SegmentedControl, Stack, Table, Text } from '@mantine/core'
import { type ReactNode, useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import type { Override, Resource } from '../../types.ts'
import { useWords } from '../../words.ts'
/** Whom the overrides are for: a person who reaches the app (however), or a group holding a role on it. */
export interface OverridePrincipal {
  type: 'user' | 'group'
  id: string
  email?: string | undefined
  name: string
}

const principalRef = (p: OverridePrincipal) => ({ type: p.type, id: p.id })

type Effect = 'default' | 'allow' | 'deny'

/** The most checks `POST /v1/check/batch` takes at once. */
const BATCH = 1000

/**
 * The chosen effect stands out: Deny red, Allow green, Default neutral — dark enough for white text at AA
 * (red.9 5.5:1; Mantine's green.9 is 4.36:1, so a darker green, 6.2:1).
 */
const EFFECT_COLOR: Record<Effect, string | undefined> = {
  default: undefined,
  allow: '#1f6f30',
  deny: 'red.9',
}

/**
 * Every channel × every overridable channel permission (capgo: Read, History, Associate bundle), each
 * Default / Allow / Deny: one `PUT …/resources/<channel>/overrides` per change. For anyone who reaches the
 * app (issue 26.4), not only who holds a role on it; `held` says how they reach it.
 */
export function ChannelPermissionsModal(props: {
  orgId: string
  app: Resource
  channelType: string
  principal: OverridePrincipal
  held: ReactNode
  overrides: Override[]
  canManage: boolean
  /** Whether the viewer may ask what someone else may do (`org.read_access`). */
  canAsk: boolean
  onClose: () => void
  onChanged: () => void
}) {
  const { orgId, app, channelType, principal, canManage } = props
  const { model } = useSession()
  const words = useWords()
  const outer = words.resource(app.type)?.one ?? ''
  const inner = words.resource(channelType) ?? { label: '', plural: '', one: '', many: '' }
  const [overrides, setOverrides] = useState(props.overrides)
  /** The revision of this dialog's last change: the decisions below are asked at least at it. */
  const [revision, setRevision] = useState<number | undefined>(undefined)
  const channels = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/resources', {
          params: { path: { orgId }, query: { type: channelType, parentId: app.id, limit: 200 } },
        }),
      ),
    [orgId, app.id, channelType],
  )
  const permissions = Object.entries(model?.permissions ?? {}).filter(
    ([, p]) => p.on === channelType && p.overridable,
  )
  // What the engine decides now for a person, cell by cell: under Default, what Default resolves to. Asked
  // only by who may check someone else (`org.read_access`; an app's own admin may set overrides without it).
  // A group is no subject of a check (its members are): its cells say nothing more than the text above them.
  const asks = principal.type === 'user' && props.canAsk
  const cells = (channels.data?.items ?? []).flatMap((channel) =>
    permissions.map(([permission]) => ({ permission, resource: { type: channelType, id: channel.id } })),
  )
  const decisions = useAsync(async () => {
    if (!asks) return null
    const answers = new Map<string, { allowed: boolean; error?: unknown }>()
    for (let at = 0; at < cells.length; at += BATCH) {
      const checks = cells.slice(at, at + BATCH)
      const { results } = await must(
        api.POST('/v1/check/batch', {
          body: { subject: { type: 'user', id: principal.id }, checks, atLeastRevision: revision },
        }),
      )
      for (const [i, c] of checks.entries()) answers.set(`${c.resource.id} ${c.permission}`, results[i]!)
    }
    return answers
  }, [asks, principal.id, revision, cells.map((c) => `${c.resource.id} ${c.permission}`).join()])
  const effectOf = (channelId: string, permission: string): Effect =>
    overrides.find(
      (o) =>
        o.resourceId === channelId &&
        o.permission === permission &&
        o.principal.type === principal.type &&
        o.principal.id === principal.id,
    )?.effect ?? 'default'
  const who = principal.email || principal.name
  return (
    <Modal opened onClose={props.onClose} title={`${inner.label} permissions`} size="xl">
      <Stack>
        <Text size="sm">
          {who}: {props.held}. Default follows that; Allow or Deny overrides it on one {inner.one}.
          {asks ? ' Under each, what that gives them now.' : ''}
        </Text>
        <Loaded state={channels}>
          {(data) =>
            data.items.length === 0 ? (
              <Alert title={`No ${inner.many} yet`}>
                This {outer} has no {inner.many}: add one on its {inner.plural} tab, then set permissions
                here.
              </Alert>
            ) : (
              <Table.ScrollContainer minWidth={600}>
                <Table aria-label={`${inner.label} permissions`}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>{inner.label}</Table.Th>
                      {permissions.map(([key, p]) => (
                        <Table.Th key={key}>{p.label}</Table.Th>
                      ))}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.items.map((channel) => (
                      <Table.Tr key={channel.id}>
                        <Table.Td>{channel.name}</Table.Td>
                        {permissions.map(([key, p]) => (
                          <Table.Td key={key}>
                            <SegmentedControl
                              size="xs"
                              disabled={!canManage}
                              aria-label={`${p.label} on ${channel.name}`}
                              value={effectOf(channel.id, key)}
                              color={EFFECT_COLOR[effectOf(channel.id, key)]}
                              data={[
                                { value: 'default', label: 'Default' },
                                { value: 'allow', label: 'Allow' },
                                { value: 'deny', label: 'Deny' },
                              ]}
                              onChange={async (value) => {
                                const effect = value as Effect
                                const ok = await attempt(async () => {
                                  const { revision } = await must(
                                    api.PUT('/v1/orgs/{orgId}/resources/{id}/overrides', {
                                      params: { path: { orgId, id: channel.id } },
                                      body: {
                                        principal: principalRef(principal),
                                        permission: key,
                                        effect,
                                      },
                                    }),
                                  )
                                  // Replies may come back out of order: the later revision stands.
                                  setRevision((seen) => Math.max(seen ?? 0, revision))
                                }, `${p.label} on ${channel.name}: ${value}`)
                                if (ok) {
                                  setOverrides((list) => [
                                    ...list.filter(
                                      (o) =>
                                        !(
                                          o.resourceId === channel.id &&
                                          o.permission === key &&
                                          o.principal.id === principal.id
                                        ),
                                    ),
                                    ...(effect === 'default'
                                      ? []
                                      : [
                                          {
                                            resourceId: channel.id,
                                            permission: key,
                                            principal: principalRef(principal),
                                            effect,
                                          },
                                        ]),
                                  ])
                                  props.onChanged()
                                }
                              }}
                            />
                            {/* Nothing while asked again, or when it could not be: never an answer gone stale. */}
                            {!decisions.loading && !decisions.error && (
                              <Decision answer={decisions.data?.get(`${channel.id} ${key}`)} />
                            )}
                          </Table.Td>
                        ))}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </Loaded>
      </Stack>
    </Modal>
  )
}

/** What the engine decides now in one cell, in words; nothing for a check that erred (it decided nothing). */
function Decision({ answer }: { answer: { allowed: boolean; error?: unknown } | undefined }) {
  if (!answer || answer.error !== undefined) return null
  return (
    <Text size="xs" c="dimmed" mt={4}>
      {answer.allowed ? 'Now: allowed' : 'Now: not allowed'}
    </Text>
  )
}
