import { Badge, Button, Card, Group, NumberInput, Stack, Table, Text, Title } from '@mantine/core'
import { useState } from 'react'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { attempt, useAsync } from '../../hooks.ts'
import { money, usePlans } from './shared.ts'

const KIND_COLOR = { purchase: 'green', grant: 'blue', consumption: 'orange', refund: 'gray' } as const

/** The credit balance and ledger (newest first); billing managers buy credits (POST kind purchase). */
export function Credits({ orgId, canUpdate }: { orgId: string; canUpdate: boolean }) {
  const ledger = useAsync(
    () =>
      must(
        api.GET('/v1/orgs/{orgId}/billing/credits', { params: { path: { orgId }, query: { limit: 100 } } }),
      ),
    [orgId],
  )
  const plans = usePlans()
  const [amount, setAmount] = useState<number | string>(100)
  const [busy, setBusy] = useState(false)
  const count = typeof amount === 'number' ? amount : Number.parseInt(amount, 10)
  const valid = Number.isInteger(count) && count > 0
  const buy = async () => {
    setBusy(true)
    const ok = await attempt(
      () =>
        must(
          api.POST('/v1/orgs/{orgId}/billing/credits', {
            params: { path: { orgId } },
            body: { kind: 'purchase', amount: count, description: 'Bought in the console' },
          }),
        ),
      `${count} credits bought`,
    )
    setBusy(false)
    if (ok) ledger.reload()
  }
  return (
    <Loaded state={ledger}>
      {(data) => (
        <Stack>
          <Card withBorder padding="lg">
            <Group justify="space-between" align="flex-end" wrap="wrap">
              <div>
                <Text size="sm" c="dimmed">
                  Balance
                </Text>
                <Title order={2} data-testid="credit-balance">
                  {data.balance} credits
                </Title>
              </div>
              {canUpdate && (
                <Group align="flex-end">
                  <NumberInput
                    label="Credits to buy"
                    min={1}
                    step={100}
                    allowDecimal={false}
                    value={amount}
                    onChange={setAmount}
                    w={140}
                    description={
                      plans.data && valid ? money(count * plans.data.creditPrice, plans.data.currency) : ' '
                    }
                  />
                  <Button onClick={buy} loading={busy} disabled={!valid}>
                    Buy credits
                  </Button>
                </Group>
              )}
            </Group>
          </Card>
          <Table.ScrollContainer minWidth={600}>
            <Table striped aria-label="Credit ledger">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Kind</Table.Th>
                  <Table.Th>Description</Table.Th>
                  <Table.Th ta="right">Amount</Table.Th>
                  <Table.Th ta="right">Balance after</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.items.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={5}>
                      <Text size="sm" c="dimmed">
                        No credit movements yet.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
                {data.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>{new Date(e.createdAt).toLocaleString()}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={KIND_COLOR[e.kind]}>
                        {e.kind}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{e.description}</Table.Td>
                    <Table.Td ta="right">{e.amount > 0 ? `+${e.amount}` : e.amount}</Table.Td>
                    <Table.Td ta="right">{e.balanceAfter}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {data.nextCursor && (
            <Text size="xs" c="dimmed">
              Showing the newest 100 entries.
            </Text>
          )}
        </Stack>
      )}
    </Loaded>
  )
}
