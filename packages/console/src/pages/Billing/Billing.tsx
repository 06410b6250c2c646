import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useEffect, useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, type Can, useAsync } from '../../hooks.ts'
import { money, useBilling, usePlans } from './shared.ts'

const STATUS_COLOR = { open: 'orange', paid: 'green', void: 'gray' } as const

/** The billing email (org.update_billing to change it), the payment provider, and the invoices. */
export function Billing({ orgId, can }: { orgId: string; can: Can }) {
  return (
    <Stack>
      {can['org.read_billing'] && <BillingDetails orgId={orgId} canUpdate={!!can['org.update_billing']} />}
      {can['org.read_invoices'] && <Invoices orgId={orgId} />}
    </Stack>
  )
}

function BillingDetails({ orgId, canUpdate }: { orgId: string; canUpdate: boolean }) {
  const billing = useBilling(orgId)
  const [email, setEmail] = useState('')
  const [busy, setBusy] = useState(false)
  useEffect(() => setEmail(billing.data?.billingEmail ?? ''), [billing.data])
  const valid = email.trim() === '' || /^\S+@\S+\.\S+$/.test(email.trim())
  return (
    <Loaded state={billing}>
      {(b) => (
        <Card withBorder padding="lg">
          <Stack>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <div>
                <Text size="sm" c="dimmed">
                  Plan
                </Text>
                <Text fw={500}>{b.plan.name}</Text>
              </div>
              <div>
                <Text size="sm" c="dimmed">
                  Payment provider
                </Text>
                <Text fw={500} data-testid="payment-provider">
                  {b.provider === 'manual' ? 'Manual (invoices are marked paid by the operator)' : b.provider}
                </Text>
              </div>
              <div>
                <Text size="sm" c="dimmed">
                  Credit balance
                </Text>
                <Text fw={500}>{b.creditBalance} credits</Text>
              </div>
            </SimpleGrid>
            <form
              noValidate
              onSubmit={async (event) => {
                event.preventDefault()
                if (!valid) return
                setBusy(true)
                const value = email.trim() || null
                if (
                  await attempt(
                    () =>
                      must(
                        api.PATCH('/v1/orgs/{orgId}/billing', {
                          params: { path: { orgId } },
                          body: { billingEmail: value },
                        }),
                      ),
                    'Billing email saved',
                  )
                )
                  billing.reload()
                setBusy(false)
              }}
            >
              <Group align="flex-end">
                <TextInput
                  label="Billing email"
                  description="Invoices are sent here."
                  type="email"
                  value={email}
                  onChange={(e) => setEmail(e.currentTarget.value)}
                  readOnly={!canUpdate}
                  error={valid ? null : 'Enter a valid email'}
                  w={360}
                  maw="100%"
                />
                {canUpdate && (
                  <Button type="submit" loading={busy} disabled={!valid}>
                    Save
                  </Button>
                )}
              </Group>
            </form>
          </Stack>
        </Card>
      )}
    </Loaded>
  )
}

function Invoices({ orgId }: { orgId: string }) {
  const invoices = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/billing/invoices', { params: { path: { orgId } } })),
    [orgId],
  )
  const plans = usePlans()
  const planName = (key: string) => plans.data?.items.find((p) => p.key === key)?.name ?? key
  return (
    <Stack gap="xs">
      <Title order={4}>Invoices</Title>
      <Loaded state={invoices}>
        {(data) => (
          <Table.ScrollContainer minWidth={600}>
            <Table striped aria-label="Invoices">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Number</Table.Th>
                  <Table.Th>Period</Table.Th>
                  <Table.Th>Plan</Table.Th>
                  <Table.Th ta="right">Total</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.items.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={6}>
                      <Text size="sm" c="dimmed">
                        No invoices yet: one is issued after each month with something to charge.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
                {data.items.map((inv) => (
                  <Table.Tr key={inv.id}>
                    <Table.Td>{inv.number}</Table.Td>
                    <Table.Td>{inv.period}</Table.Td>
                    <Table.Td>{planName(inv.plan)}</Table.Td>
                    <Table.Td ta="right">{money(inv.total, inv.currency)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={STATUS_COLOR[inv.status]}>
                        {inv.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="sm" wrap="nowrap">
                        {/* A plain link: the session cookie authorizes the GET, the page is printable. */}
                        <Anchor
                          href={`/v1/orgs/${orgId}/billing/invoices/${inv.id}?format=html`}
                          target="_blank"
                          rel="noopener"
                          download={`invoice-${inv.number}.html`}
                        >
                          Download
                        </Anchor>
                        {inv.paymentUrl && inv.status === 'open' && (
                          <Anchor href={inv.paymentUrl} target="_blank" rel="noopener noreferrer">
                            Pay
                          </Anchor>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Loaded>
    </Stack>
  )
}
