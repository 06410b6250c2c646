import { Alert, Button, Paper, Select, Stack, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { Page } from '../../components/Page.tsx'
import { navigate } from '../../router.tsx'
import { useSession } from '../../session.tsx'

/** A new organization, or a sub-organization where the model allows them (SPEC 1, seed 000). */
export function CreateOrg() {
  const { model, orgs } = useSession()
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const form = useForm({
    initialValues: { name: '', parentId: null as string | null },
    validate: { name: (v) => (v.trim() ? null : 'Name the organization') },
  })
  return (
    <Page title="Create organization">
      <Paper withBorder p="lg" maw={520}>
        <form
          onSubmit={form.onSubmit(async (values) => {
            setBusy(true)
            setError(null)
            try {
              const org = await must(
                api.POST('/v1/orgs', {
                  body: { name: values.name.trim(), ...(values.parentId && { parentId: values.parentId }) },
                }),
              )
              orgs.reload()
              navigate(`/orgs/${org.id}/settings/members`)
            } catch (e) {
              setError(errorMessage(e))
            } finally {
              setBusy(false)
            }
          })}
        >
          <Stack>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <TextInput label="Organization name" required {...form.getInputProps('name')} />
            {model?.org.subOrgs && (
              <Select
                label="Parent organization"
                description="Optional: make it a sub-organization of one you manage"
                placeholder="None (a top-level organization)"
                clearable
                data={(orgs.data ?? []).map((o) => ({ value: o.id, label: o.name }))}
                {...form.getInputProps('parentId')}
              />
            )}
            <Button type="submit" loading={busy}>
              Create
            </Button>
          </Stack>
        </form>
      </Paper>
    </Page>
  )
}
