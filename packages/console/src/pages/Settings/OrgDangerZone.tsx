import {
  Alert,
  Button,
  Group,
  List,
  Modal,
  Paper,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { CLOSE, counted } from '../../components/ManageResource.tsx'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync, useOrgPermissions } from '../../hooks.ts'
import { navigate } from '../../router.tsx'
import { useSession } from '../../session.tsx'
import { type Org, roleLabel } from '../../types.ts'
import { useWords } from '../../words.ts'

const PERMISSIONS = ['org.delete', 'org.transfer', 'org.update_settings'] as const

/**
 * The org's own fate, under General: transfer ownership to a member, move it under another org (where the
 * model has sub-organizations) and delete it — each confirmed with what it does, counted by the API.
 */
export function OrgDangerZone({ org, onChanged }: { org: Org; onChanged: () => void }) {
  const { model, me } = useSession()
  const can = useOrgPermissions(org.id, PERMISSIONS)
  const [mode, setMode] = useState<'transfer' | 'move' | 'delete' | null>(null)
  const close = () => setMode(null)
  const mayTransfer = !!can.data?.['org.transfer'] && (org.creatorId === null || org.creatorId === me?.id)
  const mayMove = !!model?.org.subOrgs && !!can.data?.['org.update_settings']
  const mayDelete = !!can.data?.['org.delete']
  if (!mayTransfer && !mayMove && !mayDelete) return null
  return (
    <Paper withBorder p="lg" maw={560}>
      <Stack>
        <Title order={4}>Ownership and deletion</Title>
        <Group>
          {mayTransfer && (
            <Button variant="default" onClick={() => setMode('transfer')}>
              Transfer ownership
            </Button>
          )}
          {mayMove && (
            <Button variant="default" onClick={() => setMode('move')}>
              Move organization
            </Button>
          )}
          {mayDelete && (
            <Button color="red" variant="outline" onClick={() => setMode('delete')}>
              Delete organization
            </Button>
          )}
        </Group>
      </Stack>
      <Modal
        closeButtonProps={CLOSE}
        opened={mode === 'transfer'}
        onClose={close}
        title={`Transfer ${org.name}`}
      >
        {mode === 'transfer' && (
          <TransferOwnership
            org={org}
            close={close}
            onChanged={onChanged}
            role={roleLabel(model, model?.org.creatorRole ?? '')}
          />
        )}
      </Modal>
      <Modal closeButtonProps={CLOSE} opened={mode === 'move'} onClose={close} title={`Move ${org.name}`}>
        {mode === 'move' && <Move org={org} close={close} onChanged={onChanged} />}
      </Modal>
      <Modal
        closeButtonProps={CLOSE}
        opened={mode === 'delete'}
        onClose={close}
        title={`Delete ${org.name}?`}
      >
        {mode === 'delete' && <Delete org={org} close={close} />}
      </Modal>
    </Paper>
  )
}

interface Props {
  org: Org
  close: () => void
}

function TransferOwnership({ org, close, onChanged, role }: Props & { onChanged: () => void; role: string }) {
  const { me } = useSession()
  const members = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId: org.id } } })),
    [org.id],
  )
  const [to, setTo] = useState<string | null>(null)
  return (
    <Loaded state={members}>
      {(data) => {
        const options = data.items
          .filter((m) => m.status === 'active' && m.source === 'direct' && m.userId && m.userId !== me?.id)
          .map((m) => ({ value: m.userId!, label: `${m.name || m.email} (${m.email})` }))
        const name = options.find((o) => o.value === to)?.label
        return options.length === 0 ? (
          <Alert title="No one to transfer it to">
            Ownership goes to an active member: invite them first.
          </Alert>
        ) : (
          <Stack>
            <Select label="New owner" data={options} value={to} onChange={setTo} searchable />
            {name && (
              <Text size="sm">
                {name} becomes the owner, with the {role} role. You keep your own role and can step down
                later, as long as someone else owns it.
              </Text>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button
                disabled={!to}
                onClick={async () => {
                  const ok = await attempt(
                    () =>
                      must(
                        api.POST('/v1/orgs/{orgId}/transfer', {
                          params: { path: { orgId: org.id } },
                          body: { userId: to! },
                        }),
                      ),
                    `${org.name} now belongs to ${name}`,
                  )
                  if (ok) {
                    close()
                    onChanged()
                  }
                }}
              >
                Transfer ownership
              </Button>
            </Group>
          </Stack>
        )
      }}
    </Loaded>
  )
}

const TOP = 'top'

function Move({ org, close, onChanged }: Props & { onChanged: () => void }) {
  const { orgs } = useSession()
  const options = [
    { value: TOP, label: 'No parent (a top-level organization)' },
    ...(orgs.data ?? []).filter((o) => o.id !== org.id).map((o) => ({ value: o.id, label: o.name })),
  ].filter((o) => o.value !== (org.parentId ?? TOP))
  const [to, setTo] = useState<string | null>(null)
  const label = options.find((o) => o.value === to)?.label
  return (
    <Stack>
      <Select label="Under" data={options} value={to} onChange={setTo} />
      {to && (
        <Text size="sm">
          {to === TOP
            ? `${org.name} stops inheriting from its parent: people with access there only reach it through their own roles here.`
            : `People with access to ${label} reach ${org.name} through inheritance, as with any sub-organization. You need to own both.`}
        </Text>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={close}>
          Cancel
        </Button>
        <Button
          disabled={!to}
          onClick={async () => {
            const ok = await attempt(
              () =>
                must(
                  api.PATCH('/v1/orgs/{orgId}', {
                    params: { path: { orgId: org.id } },
                    body: { parentId: to === TOP ? null : to },
                  }),
                ),
              to === TOP ? `${org.name} is a top-level organization` : `${org.name} moved under ${label}`,
            )
            if (ok) {
              close()
              onChanged()
              orgs.reload()
            }
          }}
        >
          Move
        </Button>
      </Group>
    </Stack>
  )
}

function Delete({ org, close }: Props) {
  const { orgs } = useSession()
  const words = useWords()
  const impact = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/impact', { params: { path: { orgId: org.id } } })),
    [org.id],
  )
  const [typed, setTyped] = useState('')
  return (
    <Loaded state={impact}>
      {(data) =>
        data.subOrgs > 0 ? (
          <Alert color="yellow" title="It has sub-organizations">
            Delete or move its {counted(data.subOrgs, 'sub-organization', 'sub-organizations')} first.
          </Alert>
        ) : (
          <Stack>
            <Alert color="red" title="This can't be undone">
              <List size="sm" spacing={4}>
                {data.resources.length > 0 && (
                  <List.Item>
                    Deleted with it:{' '}
                    {data.resources
                      .map((r) => {
                        const w = words.resource(r.type)
                        return counted(r.count, w?.one ?? r.type, w?.many ?? r.type)
                      })
                      .join(' and ')}
                    .
                  </List.Item>
                )}
                <List.Item>
                  Lose access: {counted(data.members, words.member.one, words.member.many)}
                  {data.externals > 0 &&
                    ` and ${counted(data.externals, 'person', 'people')} from outside it`}
                  .
                </List.Item>
                {data.apiKeys > 0 && (
                  <List.Item>No longer reach it: {counted(data.apiKeys, 'API key', 'API keys')}.</List.Item>
                )}
                {data.invitations > 0 && (
                  <List.Item>
                    Withdrawn: {counted(data.invitations, 'open invitation', 'open invitations')}.
                  </List.Item>
                )}
              </List>
            </Alert>
            <TextInput
              label={`Type ${org.name} to confirm`}
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button
                color="red"
                disabled={typed.trim() !== org.name}
                onClick={async () => {
                  const ok = await attempt(
                    () => must(api.DELETE('/v1/orgs/{orgId}', { params: { path: { orgId: org.id } } })),
                    `${org.name} deleted`,
                  )
                  if (ok) {
                    close()
                    orgs.reload()
                    navigate('/')
                  }
                }}
              >
                Delete organization
              </Button>
            </Group>
          </Stack>
        )
      }
    </Loaded>
  )
}
