import { Alert, Badge, Button, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import { modals } from '@mantine/modals'
import { notifications } from '@mantine/notifications'
import { useState } from 'react'
import { api, errorMessage, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useSession } from '../../session.tsx'
import { FEATURES, limitText, money, useBilling, usePlans } from './shared.ts'

/** The plan catalogue (GET /v1/plans) with the org's plan marked; changing it needs org.update_billing. */
export function Plans({ orgId, canUpdate }: { orgId: string; canUpdate: boolean }) {
  const { model } = useSession()
  const catalogue = usePlans()
  const billing = useBilling(orgId)
  const [busy, setBusy] = useState<string | null>(null)
  // A refused change stays on screen (a downgrade names every limit the org is over), not in a toast.
  const [problem, setProblem] = useState<string | null>(null)

  const change = (key: string, name: string) =>
    modals.openConfirmModal({
      title: 'Change plan',
      children: (
        <Text size="sm">
          Move this organization to the {name} plan? The new price applies from the next invoice.
        </Text>
      ),
      labels: { confirm: `Switch to ${name}`, cancel: 'Cancel' },
      onConfirm: async () => {
        setBusy(key)
        setProblem(null)
        try {
          await must(
            api.PUT('/v1/orgs/{orgId}/billing/plan', { params: { path: { orgId } }, body: { plan: key } }),
          )
          notifications.show({ color: 'green', message: `The organization is on the ${name} plan` })
          billing.reload()
        } catch (error) {
          setProblem(errorMessage(error))
        } finally {
          setBusy(null)
        }
      },
    })

  const typeLabel = (type: string) => model?.resourceTypes[type]?.label ?? type
  return (
    <Loaded state={catalogue}>
      {(plans) => (
        <Loaded state={billing}>
          {(current) => (
            <Stack>
              {problem && (
                <Alert
                  color="red"
                  role="alert"
                  title="The plan was not changed"
                  withCloseButton
                  onClose={() => setProblem(null)}
                >
                  {problem}
                </Alert>
              )}
              <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
                {plans.items.map((plan) => {
                  const isCurrent = plan.key === current.plan.key
                  return (
                    <Card
                      key={plan.key}
                      withBorder
                      padding="lg"
                      aria-label={`Plan ${plan.name}`}
                      role="region"
                      style={
                        isCurrent
                          ? { borderColor: 'var(--mantine-color-indigo-6)', borderWidth: 2 }
                          : undefined
                      }
                    >
                      <Stack gap="xs" h="100%">
                        <Group justify="space-between" wrap="nowrap">
                          <Title order={4}>{plan.name}</Title>
                          {isCurrent && <Badge>Current plan</Badge>}
                        </Group>
                        <Text size="xl" fw={700}>
                          {money(plan.price, plans.currency)}
                          <Text span size="sm" c="dimmed" fw={400}>
                            {' '}
                            / month
                          </Text>
                        </Text>
                        <List size="sm" spacing={4}>
                          <List.Item>Seats: {limitText(plan.seats)}</List.Item>
                          {Object.keys(plan.resources).map((type) => (
                            <List.Item key={type}>
                              {typeLabel(type)}s: {limitText(plan.resources[type])}
                            </List.Item>
                          ))}
                          {Object.keys(plan.resources).length === 0 && (
                            <List.Item>Resources: Unlimited</List.Item>
                          )}
                          {plan.features.map((f) => (
                            <List.Item key={f}>{FEATURES[f] ?? f}</List.Item>
                          ))}
                        </List>
                        <div style={{ flex: 1 }} />
                        {canUpdate && !isCurrent && (
                          <Button
                            variant="light"
                            loading={busy === plan.key}
                            onClick={() => change(plan.key, plan.name)}
                          >
                            Switch to {plan.name}
                          </Button>
                        )}
                      </Stack>
                    </Card>
                  )
                })}
              </SimpleGrid>
              {!canUpdate && (
                <Text size="sm" c="dimmed">
                  Only people who manage billing can change the plan.
                </Text>
              )}
            </Stack>
          )}
        </Loaded>
      )}
    </Loaded>
  )
}
