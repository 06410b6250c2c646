import '@mantine/charts/styles.css'
import { BarChart } from '@mantine/charts'
import { Card, Group, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import { api, must } from '../../api.ts'
import { Loaded } from '../../components/Page.tsx'
import { useAsync } from '../../hooks.ts'
import { useWords } from '../../words.ts'
import { limitText, usePlans } from './shared.ts'

function Meter({
  label,
  used,
  max,
  note,
}: {
  label: string
  used: number
  max: number | null
  note?: string
}) {
  const percent = max ? Math.min(100, (used / max) * 100) : 0
  const color = max && used >= max ? 'red' : percent >= 80 ? 'orange' : 'indigo'
  return (
    <Card withBorder padding="md" role="group" aria-label={label}>
      <Group justify="space-between" mb={6}>
        <Text fw={500}>{label}</Text>
        <Text size="sm" data-testid={`usage-${label}`}>
          {used} / {limitText(max)}
        </Text>
      </Group>
      <Progress value={max === null ? 0 : percent} color={color} aria-label={`${label} used`} />
      {note && (
        <Text size="xs" c="dimmed" mt={6}>
          {note}
        </Text>
      )}
    </Card>
  )
}

/** GET /v1/orgs/{orgId}/usage: seats and resources against the plan, and checks answered per day. */
export function Usage({ orgId }: { orgId: string }) {
  const words = useWords()
  const plans = usePlans()
  const usage = useAsync(
    () => must(api.GET('/v1/orgs/{orgId}/usage', { params: { path: { orgId }, query: { days: 30 } } })),
    [orgId],
  )
  return (
    <Loaded state={usage}>
      {(u) => (
        <Stack>
          <Text size="sm" c="dimmed">
            Plan: <b>{plans.data?.items.find((p) => p.key === u.plan)?.name ?? u.plan}</b>. A seat is a{' '}
            {words.member.one} or a pending invitation.
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
            <Meter
              label="Seats"
              used={u.seats.used}
              max={u.seats.max}
              note={`${u.seats.members} ${words.member.many}, ${u.seats.pendingInvitations} pending invitations`}
            />
            {Object.entries(u.resources).map(([type, r]) => (
              <Meter key={type} label={words.resource(type)?.plural ?? type} used={r.used} max={r.max} />
            ))}
          </SimpleGrid>
          <Card withBorder padding="md">
            <Group justify="space-between" mb="sm">
              <Title order={4}>Checks answered per day</Title>
              <Text size="sm">Today: {u.checks.today}</Text>
            </Group>
            <BarChart
              h={240}
              data={u.checks.daily.map((d) => ({ day: d.day.slice(5), Checks: d.count }))}
              dataKey="day"
              series={[{ name: 'Checks', color: 'indigo.6' }]}
              tickLine="y"
              role="img"
              aria-label="Checks answered per day"
            />
          </Card>
        </Stack>
      )}
    </Loaded>
  )
}
