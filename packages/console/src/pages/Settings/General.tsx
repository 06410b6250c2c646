import { Avatar, Button, Group, Paper, Stack, Textarea, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useEffect } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { useSession } from '../../session.tsx'
import { OrgDangerZone } from './OrgDangerZone.tsx'
import { TeamSettings } from './TeamLevels.tsx'

/**
 * Name, logo and management email (seed 001's General tab), and the profile of seed 003's org settings: full
 * name, description, website, location. Read-only without org.update_settings.
 */
export function General({ orgId, canEdit }: { orgId: string; canEdit: boolean }) {
  const { orgs, model } = useSession()
  const org = useAsync(() => must(api.GET('/v1/orgs/{orgId}', { params: { path: { orgId } } })), [orgId])
  const form = useForm({
    initialValues: {
      name: '',
      managementEmail: '',
      logoUrl: '',
      fullName: '',
      description: '',
      website: '',
      location: '',
    },
    validate: {
      name: (v) => (v.trim() ? null : 'Name the organization'),
      managementEmail: (v) => (!v || /^\S+@\S+\.\S+$/.test(v) ? null : 'Enter a valid email'),
      logoUrl: (v) => (!v || /^https?:\/\/\S+$/.test(v) ? null : 'Enter an http(s) URL'),
      website: (v) => (!v || /^https?:\/\/\S+$/.test(v) ? null : 'Enter an http(s) URL'),
    },
  })
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset the form only when the org loads
  useEffect(() => {
    if (org.data)
      form.setValues({
        name: org.data.name,
        managementEmail: org.data.managementEmail ?? '',
        logoUrl: org.data.logoUrl ?? '',
        fullName: org.data.fullName,
        description: org.data.description,
        website: org.data.website ?? '',
        location: org.data.location,
      })
  }, [org.data])
  return (
    <Loaded state={org}>
      {(data) => (
        <Stack>
          <Paper withBorder p="lg" maw={560}>
            <form
              onSubmit={form.onSubmit(async (values) => {
                const ok = await attempt(
                  () =>
                    must(
                      api.PATCH('/v1/orgs/{orgId}', {
                        params: { path: { orgId } },
                        body: {
                          name: values.name.trim(),
                          managementEmail: values.managementEmail.trim() || null,
                          logoUrl: values.logoUrl.trim() || null,
                          fullName: values.fullName.trim(),
                          description: values.description.trim(),
                          website: values.website.trim() || null,
                          location: values.location.trim(),
                        },
                      }),
                    ),
                  'Settings saved',
                )
                if (ok) {
                  org.reload()
                  orgs.reload()
                }
              })}
            >
              <Stack>
                <Group>
                  <Avatar src={form.values.logoUrl || null} size="lg" radius="md" alt="Organization logo">
                    {data.name.slice(0, 2).toUpperCase()}
                  </Avatar>
                </Group>
                <TextInput label="Organization name" readOnly={!canEdit} {...form.getInputProps('name')} />
                <TextInput label="Full name" readOnly={!canEdit} {...form.getInputProps('fullName')} />
                <Textarea
                  label="Description"
                  autosize
                  minRows={2}
                  readOnly={!canEdit}
                  {...form.getInputProps('description')}
                />
                <TextInput label="Website" readOnly={!canEdit} {...form.getInputProps('website')} />
                <TextInput label="Location" readOnly={!canEdit} {...form.getInputProps('location')} />
                <TextInput label="Logo URL" readOnly={!canEdit} {...form.getInputProps('logoUrl')} />
                <TextInput
                  label="Management email"
                  type="email"
                  readOnly={!canEdit}
                  {...form.getInputProps('managementEmail')}
                />
                {canEdit && (
                  <Group>
                    <Button type="submit">Save</Button>
                  </Group>
                )}
                <TeamSettings orgId={orgId} model={model} org={data} canEdit={canEdit} onSaved={org.reload} />
              </Stack>
            </form>
          </Paper>
          <OrgDangerZone
            org={data}
            onChanged={() => {
              org.reload()
              orgs.reload()
            }}
          />
        </Stack>
      )}
    </Loaded>
  )
}
