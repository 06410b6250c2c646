import { Alert, Button, MultiSelect, Stack, Switch, Text, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import type { components } from '@orgkit/sdk'
import { useState } from 'react'
import { api, codeOf, errorMessage, must, OrgkitApiError } from '../../api.ts'
import { useAsync, useOrgPermissions } from '../../hooks.ts'

type EventType = components['schemas']['WebhookEventType']
export type WebhookValues = { url: string; description: string; all: boolean; events: string[] }

/** The server's event catalogue (GET /v1/webhook-event-types), loaded once per screen. */
export function useEventCatalogue() {
  return useAsync(() => must(api.GET('/v1/webhook-event-types')), [])
}

/** The catalogue as picker groups: per family, "every <family> event" first, then each type. */
function pickerData(types: EventType[], billing: boolean) {
  const families = new Map<string, { value: string; label: string }[]>()
  for (const t of types) {
    if (t.billing && !billing) continue
    const family = t.type.split('.')[0]!
    if (!families.has(family)) families.set(family, [{ value: `${family}.*`, label: `${family}.*` }])
    families.get(family)!.push({ value: t.type, label: t.type })
  }
  return [...families].map(([group, items]) => ({ group, items }))
}

/** What "the receiver is on a private network" means for the person typing the URL, said where they typed it. */
export const PRIVATE_NETWORK =
  'This address is on a private network (localhost, a LAN or link-local), and this server only sends events to public addresses. Use a public URL — to test on your machine, a tunnel such as ngrok or smee.io gives one — or ask whoever runs this server to allow private receivers.'

/** The field error for a refused URL, or null for any other failure. */
export function urlProblem(error: unknown): string | null {
  if (!(error instanceof OrgkitApiError) || codeOf(error) !== 'VALIDATION_FAILED') return null
  const details = error.problem.details as { field?: string; reason?: string } | undefined
  if (details?.reason === 'private_network') return PRIVATE_NETWORK
  return details?.field === 'url' ? (error.problem.detail ?? null) : null
}

/**
 * An endpoint's URL, description and events (every event, or chosen from the server's catalogue; billing
 * ones only for those who may read the billing audit). A refused URL is explained under the field.
 */
export function WebhookForm({
  orgId,
  initial,
  submitLabel,
  onSubmit,
}: {
  orgId: string
  initial?: { url: string; description: string; events: string[] | null }
  submitLabel: string
  onSubmit: (body: { url: string; description: string; events: string[] | null }) => Promise<void>
}) {
  const catalogue = useEventCatalogue()
  const can = useOrgPermissions(orgId, ['org.read_billing_audit'])
  const [failure, setFailure] = useState<string | null>(null)
  const form = useForm<WebhookValues>({
    initialValues: {
      url: initial?.url ?? '',
      description: initial?.description ?? '',
      all: initial ? initial.events === null : true,
      events: initial?.events ?? [],
    },
    validate: {
      url: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? null : 'Enter an http(s) URL'),
      events: (v, values) =>
        values.all || v.length > 0 ? null : 'Choose at least one event, or every event',
    },
  })
  const described = new Map(catalogue.data?.items.map((t) => [t.type, t.description]))
  return (
    <form
      onSubmit={form.onSubmit(async (values) => {
        setFailure(null)
        try {
          await onSubmit({
            url: values.url.trim(),
            description: values.description.trim(),
            events: values.all ? null : values.events,
          })
        } catch (error) {
          const problem = urlProblem(error)
          if (problem) form.setFieldError('url', problem)
          else setFailure(errorMessage(error))
        }
      })}
    >
      <Stack>
        <TextInput label="Endpoint URL" required data-autofocus {...form.getInputProps('url')} />
        <TextInput
          label="Description"
          description="What receives these events, for whoever reads this list next"
          {...form.getInputProps('description')}
        />
        <Switch label="Send every event" {...form.getInputProps('all', { type: 'checkbox' })} />
        {!form.values.all && (
          <MultiSelect
            label="Events"
            description="A family (member.*) takes its future events too"
            placeholder="Choose events"
            searchable
            data={pickerData(catalogue.data?.items ?? [], !!can.data?.['org.read_billing_audit'])}
            renderOption={({ option }) => (
              <Stack gap={0}>
                <Text size="sm">{option.value}</Text>
                <Text size="xs" c="dimmed">
                  {option.value.endsWith('.*')
                    ? `Every ${option.value.slice(0, -2)} event`
                    : described.get(option.value)}
                </Text>
              </Stack>
            )}
            {...form.getInputProps('events')}
          />
        )}
        {failure && (
          <Alert color="red" role="alert">
            {failure}
          </Alert>
        )}
        <Button type="submit">{submitLabel}</Button>
      </Stack>
    </form>
  )
}
