import {
  Alert,
  Button,
  Group,
  List,
  Menu,
  Modal,
  Select,
  Stack,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core'
import type { components } from '@orgkit/sdk'
import { IconChevronDown } from '@tabler/icons-react'
import { useState } from 'react'
import { api, must } from '../api.ts'
import { attempt, useAsync, useChecks } from '../hooks.ts'
import { useSession } from '../session.tsx'
import type { Resource } from '../types.ts'
import { useWords, type Words } from '../words.ts'
import { Loaded } from './Page.tsx'

type Impact = components['schemas']['ResourceImpact']

/** A name for the modals' close button (issue 26.6). */
export const CLOSE = { 'aria-label': 'Close' }

/** "1 channel", "3 channels". */
export const counted = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/** The permissions the API asks for (server's services/resources.ts and resource-transfer.ts), from the model. */
function permissionsFor(model: ReturnType<typeof useSession>['model'], type: string) {
  const actions = model?.resourceTypes[type]?.actions ?? {}
  const update = actions.update ?? 'org.update_settings'
  const remove = actions.delete ?? 'org.update_settings'
  const own = `${type}.transfer`
  return { update, remove, transfer: model?.permissions[own]?.on === type ? own : remove }
}

/**
 * Rename, transfer and delete one resource (an app on its page, a channel in its row), each behind a
 * confirmation that names what happens — counted by the API (GET …/impact) — and shown only to those the
 * engine lets do it.
 */
export function ResourceActions(props: {
  orgId: string
  resource: Resource
  /** After a rename, or a move that keeps it in this org. */
  onChanged: () => void
  /** After it was deleted (no org) or moved to another org. */
  onGone: (toOrgId: string | null) => void
}) {
  const { resource } = props
  const { model } = useSession()
  const words = useWords()
  const word = words.resource(resource.type)
  const perms = permissionsFor(model, resource.type)
  const checks = useChecks(
    model
      ? [...new Set(Object.values(perms))].map((permission) => ({
          permission,
          resource: { type: resource.type, id: resource.id },
        }))
      : [],
  )
  const can = (permission: string) => checks.data?.[`${permission}@${resource.id}`] === true
  const [mode, setMode] = useState<'rename' | 'transfer' | 'delete' | null>(null)
  if (!word || !Object.values(perms).some(can)) return null
  const close = () => setMode(null)
  return (
    <>
      <Menu position="bottom-end">
        <Menu.Target>
          <Button variant="default" rightSection={<IconChevronDown size={14} aria-hidden />}>
            Manage<VisuallyHidden> {resource.name}</VisuallyHidden>
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {can(perms.update) && <Menu.Item onClick={() => setMode('rename')}>Rename</Menu.Item>}
          {can(perms.transfer) && <Menu.Item onClick={() => setMode('transfer')}>Transfer</Menu.Item>}
          {can(perms.remove) && (
            <Menu.Item color="red" onClick={() => setMode('delete')}>
              Delete
            </Menu.Item>
          )}
        </Menu.Dropdown>
      </Menu>
      <Modal
        closeButtonProps={CLOSE}
        opened={mode === 'rename'}
        onClose={close}
        title={`Rename ${word.one} ${resource.name}`}
      >
        {mode === 'rename' && <Rename {...props} done={close} />}
      </Modal>
      <Modal
        closeButtonProps={CLOSE}
        opened={mode === 'delete'}
        onClose={close}
        title={`Delete ${word.one} ${resource.name}?`}
      >
        {mode === 'delete' && <Delete {...props} words={words} close={close} />}
      </Modal>
      <Modal
        closeButtonProps={CLOSE}
        opened={mode === 'transfer'}
        onClose={close}
        title={`Transfer ${word.one} ${resource.name}`}
      >
        {mode === 'transfer' && <Transfer {...props} words={words} close={close} />}
      </Modal>
    </>
  )
}

type Props = Parameters<typeof ResourceActions>[0]

function Rename({ orgId, resource, onChanged, done }: Props & { done: () => void }) {
  const [name, setName] = useState(resource.name)
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault()
        const ok = await attempt(
          () =>
            must(
              api.PATCH('/v1/orgs/{orgId}/resources/{id}', {
                params: { path: { orgId, id: resource.id } },
                body: { name: name.trim() },
              }),
            ),
          `Renamed to ${name.trim()}`,
        )
        if (ok) {
          done()
          onChanged()
        }
      }}
    >
      <Stack>
        <TextInput
          label="Name"
          required
          data-autofocus
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <Group justify="flex-end">
          <Button type="submit" disabled={!name.trim() || name.trim() === resource.name}>
            Rename
          </Button>
        </Group>
      </Stack>
    </form>
  )
}

/** The consequence in sentences: what goes with it, who stops reaching it, what is removed. */
function Consequence({ impact, words, verb }: { impact: Impact; words: Words; verb: 'deleted' | 'moved' }) {
  const below = impact.below.map((b) => {
    const w = words.resource(b.type)
    return counted(b.count, w?.one ?? b.type, w?.many ?? b.type)
  })
  const removed = [
    impact.roleGrants &&
      counted(impact.roleGrants, `${words.role.one} given on it`, `${words.role.many} given on it`),
    impact.overrides && counted(impact.overrides, 'allow / deny override', 'allow / deny overrides'),
    impact.invitations && counted(impact.invitations, 'open invitation', 'open invitations'),
  ].filter(Boolean)
  const keys = impact.apiKeysLosingAccess
  const one = (n: number) => n === 1
  const goes = one(impact.below.reduce((n, b) => n + b.count, 0))
  const { people, peopleLosingAccess: losing } = impact
  const who =
    losing === people
      ? `${counted(people, 'person', 'people')} who can open it now ${one(people) ? 'loses' : 'lose'} access`
      : `${losing} of the ${counted(people, 'person', 'people')} who can open it now ${one(losing) ? 'loses' : 'lose'} access`
  return (
    <List size="sm" spacing={4}>
      {below.length > 0 && (
        <List.Item>
          {below.join(' and ')}{' '}
          {verb === 'deleted' ? (goes ? 'is deleted' : 'are deleted') : goes ? 'moves' : 'move'} with it.
        </List.Item>
      )}
      <List.Item>
        {losing === 0
          ? `Everyone who can open it now keeps access.`
          : `${who}${keys ? `, and ${counted(keys, 'API key', 'API keys')} no longer reach it` : ''}.`}
      </List.Item>
      {removed.length > 0 && <List.Item>{removed.join(', ')}: removed.</List.Item>}
    </List>
  )
}

function Delete({ orgId, resource, onGone, words, close }: Props & { words: Words; close: () => void }) {
  const impact = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/resources/{id}/impact', { params: { path: { orgId, id: resource.id } } }),
      ),
    [orgId, resource.id],
  )
  const word = words.resource(resource.type)!
  return (
    <Loaded state={impact}>
      {(data) => (
        <Stack>
          <Alert color="red" title="This can't be undone">
            <Consequence impact={data} words={words} verb="deleted" />
          </Alert>
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              color="red"
              onClick={async () => {
                const ok = await attempt(
                  () =>
                    must(
                      api.DELETE('/v1/orgs/{orgId}/resources/{id}', {
                        params: { path: { orgId, id: resource.id } },
                      }),
                    ),
                  `${word.label} ${resource.name} deleted`,
                )
                if (ok) {
                  close()
                  onGone(null)
                }
              }}
            >
              Delete {word.one}
            </Button>
          </Group>
        </Stack>
      )}
    </Loaded>
  )
}

/**
 * Where it can go: for a type directly under the org, another org where the engine lets you create one;
 * for a child type, another parent of this org.
 */
function useDestinations(orgId: string, resource: Resource) {
  const { model, orgs } = useSession()
  const def = model?.resourceTypes[resource.type]
  const topLevel = def?.parent === 'org'
  const create = def?.actions?.create ?? 'org.update_settings'
  return useAsync(async () => {
    if (!def) return []
    if (topLevel) {
      const others = (orgs.data ?? []).filter((o) => o.id !== orgId)
      if (others.length === 0) return []
      const { results } = await must(
        api.POST('/v1/check/batch', {
          body: { checks: others.map((o) => ({ permission: create, resource: { org: o.id } })) },
        }),
      )
      return others.filter((_, i) => results[i]?.allowed).map((o) => ({ value: o.id, label: o.name }))
    }
    const parents = await must(
      api.GET('/v1/orgs/{orgId}/resources', {
        params: { path: { orgId }, query: { type: def.parent, limit: 200 } },
      }),
    )
    return parents.items
      .filter((p) => p.id !== resource.parentId)
      .map((p) => ({ value: p.id, label: p.name }))
  }, [orgId, resource.id, topLevel, orgs.data?.length])
}

function Transfer({
  orgId,
  resource,
  onChanged,
  onGone,
  words,
  close,
}: Props & { words: Words; close: () => void }) {
  const { model } = useSession()
  const def = model?.resourceTypes[resource.type]
  const topLevel = def?.parent === 'org'
  const word = words.resource(resource.type)!
  const parentWord = topLevel ? null : words.resource(def?.parent)
  const destinations = useDestinations(orgId, resource)
  const [to, setTo] = useState<string | null>(null)
  const impact = useAsync(
    async () =>
      to && topLevel
        ? must(
            api.GET('/v1/orgs/{orgId}/resources/{id}/impact', {
              params: { path: { orgId, id: resource.id }, query: { toOrgId: to } },
            }),
          )
        : null,
    [orgId, resource.id, to],
  )
  const where = topLevel ? 'organization' : (parentWord?.one ?? '')
  const label = destinations.data?.find((d) => d.value === to)?.label
  return (
    <Loaded state={destinations}>
      {(options) =>
        options.length === 0 ? (
          <Alert title={`Nowhere to move it`}>
            {topLevel
              ? `You can move a ${word.one} only to another organization where you may create ${word.many}.`
              : `This organization has no other ${parentWord?.one ?? ''} to move it to.`}
          </Alert>
        ) : (
          <Stack>
            <Select label={`To ${where}`} data={options} value={to} onChange={setTo} searchable />
            {to && topLevel && impact.data && (
              <Alert color="yellow" title={`Access in ${label} comes from its own roles`}>
                <Consequence impact={impact.data} words={words} verb="moved" />
              </Alert>
            )}
            {to && !topLevel && (
              <Text size="sm">
                Its own access settings stay; access through the {parentWord?.one} follows {label}.
              </Text>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button
                disabled={!to || (topLevel && !impact.data)}
                onClick={async () => {
                  if (!to) return
                  const ok = await attempt(
                    () =>
                      must(
                        api.POST('/v1/orgs/{orgId}/resources/{id}/transfer', {
                          params: { path: { orgId, id: resource.id } },
                          body: topLevel ? { toOrgId: to } : { toOrgId: orgId, parentId: to },
                        }),
                      ),
                    `${word.label} ${resource.name} moved to ${label}`,
                  )
                  if (!ok) return
                  close()
                  if (topLevel) onGone(to)
                  else onChanged()
                }}
              >
                Transfer to {label ?? `another ${where}`}
              </Button>
            </Group>
          </Stack>
        )
      }
    </Loaded>
  )
}
