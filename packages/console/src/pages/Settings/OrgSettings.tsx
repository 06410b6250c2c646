import { Alert, Tabs } from '@mantine/core'
import type { PlatformPermission } from '@orgkit/sdk'
import { OrgGate } from '../../components/GateBanner.tsx'
import { Loaded, Page } from '../../components/Page.tsx'
import { type Can, useOrgPermissions } from '../../hooks.ts'
import { navigate } from '../../router.tsx'
import { useSession } from '../../session.tsx'
import type { Model } from '../../types.ts'
import { useWords, type Words } from '../../words.ts'
import { BILLING_PERMISSIONS, BILLING_TABS } from '../Billing/tabs.tsx'
import { AuditLogs } from './AuditLogs.tsx'
import { DirectoryTokens } from './DirectoryTokens.tsx'
import { Domains } from './Domains.tsx'
import { General } from './General.tsx'
import { Groups } from './Groups.tsx'
import { Members } from './Members.tsx'
import { OrgApiKeys } from './OrgApiKeys.tsx'
import { Roles } from './Roles.tsx'
import { Security } from './Security.tsx'
import { Sso } from './Sso.tsx'
import { Webhooks } from './Webhooks.tsx'

const PERMISSIONS = [
  'org.read',
  'org.read_members',
  'org.update_settings',
  'org.invite_user',
  'org.update_user_roles',
  'org.manage_groups',
  'org.read_access',
  'org.manage_security',
  'org.read_audit',
  'org.manage_webhooks',
  'org.manage_apikeys',
  ...BILLING_PERMISSIONS,
] as const satisfies readonly PlatformPermission[]

/**
 * Seed 001's organization settings. Each tab shows when the engine says the signed-in user may use it
 * (POST /v1/check/batch), and editing follows the write permission (billing: pages/Billing/tabs.tsx).
 */
const TABS: { value: string; label: string; visible: (can: Can, model?: Model) => boolean }[] = [
  { value: 'general', label: 'General', visible: (can) => !!can['org.read'] },
  { value: 'members', label: 'Members', visible: (can) => !!can['org.read_members'] },
  {
    value: 'groups',
    label: 'Groups',
    // Seed 003: a team's administrators set its members' levels, so a model with teams shows its members the
    // teams (read-only but for the levels of a team they administer).
    visible: (can, model) =>
      !!(
        can['org.manage_groups'] ||
        can['org.read_access'] ||
        (model?.teamLevels && can['org.read_members'])
      ),
  },
  // Managing roles is what the roles API asks for (POST/PATCH/DELETE …/roles need org.update_user_roles).
  { value: 'roles', label: 'Roles', visible: (can) => !!can['org.update_user_roles'] },
  { value: 'api-keys', label: 'API Keys', visible: (can) => !!can['org.read'] },
  BILLING_TABS.plans,
  BILLING_TABS.credits,
  { value: 'security', label: 'Security', visible: (can) => !!can['org.manage_security'] },
  { value: 'directory', label: 'Directory', visible: (can) => !!can['org.manage_security'] },
  { value: 'domains', label: 'Domains', visible: (can) => !!can['org.manage_security'] },
  { value: 'sso', label: 'SSO', visible: (can) => !!can['org.manage_security'] },
  BILLING_TABS.usage,
  { value: 'audit-logs', label: 'Audit Logs', visible: (can) => !!can['org.read_audit'] },
  { value: 'webhooks', label: 'Webhooks', visible: (can) => !!can['org.manage_webhooks'] },
  BILLING_TABS.billing,
]

/** The tabs named after the model's own terms (seed 002: Accounts, Roles, Access levels; seed 003: Teams). */
const worded = (value: string, label: string, words: Words) =>
  value === 'members'
    ? words.member.plural
    : value === 'groups'
      ? words.group.plural
      : value === 'roles'
        ? words.role.plural
        : label

export function OrgSettings({ orgId, tab }: { orgId: string; tab: string }) {
  const { orgs, model } = useSession()
  const words = useWords()
  const permissions = useOrgPermissions(orgId, PERMISSIONS)
  const org = orgs.data?.find((o) => o.id === orgId)
  return (
    <Page title={`${org?.name ?? 'Organization'} settings`}>
      <OrgGate orgId={orgId} />
      <Loaded state={permissions}>
        {(can) => {
          const visible = TABS.filter((t) => t.visible(can, model))
          if (visible.length === 0)
            return <Alert color="yellow">You have no access to this organization's settings.</Alert>
          const current = visible.some((t) => t.value === tab) ? tab : visible[0]!.value
          return (
            <Tabs
              value={current}
              onChange={(v) => v && navigate(`/orgs/${orgId}/settings/${v}`)}
              keepMounted={false}
            >
              <Tabs.List>
                {visible.map((t) => (
                  <Tabs.Tab key={t.value} value={t.value}>
                    {worded(t.value, t.label, words)}
                  </Tabs.Tab>
                ))}
              </Tabs.List>
              <Tabs.Panel value="general" pt="md">
                <General orgId={orgId} canEdit={!!can['org.update_settings']} />
              </Tabs.Panel>
              <Tabs.Panel value="members" pt="md">
                <Members orgId={orgId} can={can} />
              </Tabs.Panel>
              <Tabs.Panel value="groups" pt="md">
                <Groups orgId={orgId} canManage={!!can['org.manage_groups']} />
              </Tabs.Panel>
              <Tabs.Panel value="roles" pt="md">
                <Roles orgId={orgId} canManage={!!can['org.update_user_roles']} />
              </Tabs.Panel>
              <Tabs.Panel value="api-keys" pt="md">
                <OrgApiKeys orgId={orgId} canManage={!!can['org.manage_apikeys']} />
              </Tabs.Panel>
              <Tabs.Panel value="security" pt="md">
                <Security orgId={orgId} />
              </Tabs.Panel>
              <Tabs.Panel value="directory" pt="md">
                <DirectoryTokens orgId={orgId} />
              </Tabs.Panel>
              <Tabs.Panel value="domains" pt="md">
                <Domains orgId={orgId} />
              </Tabs.Panel>
              <Tabs.Panel value="sso" pt="md">
                <Sso orgId={orgId} />
              </Tabs.Panel>
              <Tabs.Panel value="audit-logs" pt="md">
                <AuditLogs orgId={orgId} />
              </Tabs.Panel>
              <Tabs.Panel value="webhooks" pt="md">
                <Webhooks orgId={orgId} />
              </Tabs.Panel>
              {Object.values(BILLING_TABS).map((t) => (
                <Tabs.Panel key={t.value} value={t.value} pt="md">
                  {t.render(orgId, can)}
                </Tabs.Panel>
              ))}
            </Tabs>
          )
        }}
      </Loaded>
    </Page>
  )
}
