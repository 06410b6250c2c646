import { AppShell, Burger, Button, Group, Menu, NavLink, Select, Stack, Text, Title } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import {
  IconChevronDown,
  IconHelpCircle,
  IconLogout,
  IconMail,
  IconPlus,
  IconSettings,
  IconUser,
} from '@tabler/icons-react'
import type { ReactNode } from 'react'
import { api } from '../api.ts'
import { match, navigate, PageLoading, useLocation } from '../router.tsx'
import { useSession } from '../session.tsx'
import { orgHome, useWords } from '../words.ts'
import { ResourceIcon } from './ResourceIcon.tsx'
import { SuggestedOrgs } from './SuggestedOrgs.tsx'

/** Current org from the path (/orgs/<id>/…), else the last one chosen. */
export function useCurrentOrgId(): string | undefined {
  const { path } = useLocation()
  const { orgs } = useSession()
  const fromPath = match('/orgs/:orgId', path.split('/').slice(0, 3).join('/'))?.orgId
  if (fromPath && fromPath !== 'new') {
    localStorage.setItem('orgkit.org', fromPath)
    return fromPath
  }
  const last = localStorage.getItem('orgkit.org')
  return orgs.data?.find((o) => o.id === last)?.id ?? orgs.data?.[0]?.id
}

export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure()
  const { me, orgs } = useSession()
  const { path } = useLocation()
  const orgId = useCurrentOrgId()
  const words = useWords()
  const go = (to: string) => {
    close()
    navigate(to)
  }
  const orgName = (id: string) => {
    const org = orgs.data?.find((o) => o.id === id)
    const parent = org?.parentId && orgs.data?.find((o) => o.id === org.parentId)
    return parent ? `${parent.name} / ${org.name}` : (org?.name ?? id)
  }
  const nav = (label: string, to: string, icon: ReactNode) => (
    <NavLink
      key={to}
      label={label}
      href={to}
      leftSection={icon}
      active={path.startsWith(to)}
      onClick={(event) => {
        event.preventDefault()
        go(to)
      }}
    />
  )
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 260, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Title order={3}>Orgkit</Title>
          </Group>
          <Menu position="bottom-end">
            <Menu.Target>
              <Button
                variant="subtle"
                rightSection={<IconChevronDown size={14} />}
                aria-label={me?.name ? `${me.name}, account menu` : 'Account menu'}
              >
                {me?.name}
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>{me?.email}</Menu.Label>
              <Menu.Item leftSection={<IconUser size={14} />} onClick={() => go('/account')}>
                Account
              </Menu.Item>
              <Menu.Item
                leftSection={<IconLogout size={14} />}
                onClick={async () => {
                  await api.POST('/v1/auth/logout')
                  window.location.assign('/login')
                }}
              >
                Sign out
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="md">
        <Stack gap="xs">
          <Select
            label="Organization"
            placeholder="Choose an organization"
            data={(orgs.data ?? []).map((o) => ({ value: o.id, label: orgName(o.id) }))}
            value={orgId ?? null}
            onChange={(value) => value && go(orgHome(words, value))}
            allowDeselect={false}
            searchable
          />
          <Button
            variant="light"
            size="xs"
            leftSection={<IconPlus size={14} />}
            onClick={() => go('/orgs/new')}
          >
            Create organization
          </Button>
          {orgId && (
            <>
              {/* The model's main list in its own words; none in a model without resource types. */}
              {words.top &&
                nav(words.top.plural, `/orgs/${orgId}/apps`, <ResourceIcon icon={words.top.icon} />)}
              {nav('Organization settings', `/orgs/${orgId}/settings`, <IconSettings size={16} />)}
              {nav('Why can they?', `/orgs/${orgId}/explain`, <IconHelpCircle size={16} />)}
            </>
          )}
          {nav('Account', '/account', <IconUser size={16} />)}
          {nav('Local outbox', '/outbox', <IconMail size={16} />)}
          <Text size="xs" c="dimmed" mt="md">
            Signed in as {me?.email}
          </Text>
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main>
        <SuggestedOrgs />
        <PageLoading>{children}</PageLoading>
      </AppShell.Main>
    </AppShell>
  )
}
