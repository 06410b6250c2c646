import { DEFAULT_TERMS, type Model, type PermissionDef } from '../model.ts'

/**
 * Seed 001, Capgo's RBAC: org roles, app roles, per-channel overrides, groups. The permission table is
 * SPEC section 7, row by row; `test/presets.capgo.test.ts` asserts every cell of it.
 */
const p = (on: string, module: string, label: string, overridable?: boolean): PermissionDef =>
  overridable ? { on, module, label, overridable } : { on, module, label }

const permissions = {
  'org.read': p('org', 'organization', 'See the organization'),
  'org.read_members': p('org', 'members', 'See members'),
  'org.update_settings': p('org', 'organization', "Change the organization's settings"),
  'org.invite_user': p('org', 'members', 'Invite members'),
  'org.update_user_roles': p('org', 'members', "Change members' roles"),
  'org.manage_groups': p('org', 'members', 'Manage groups'),
  'org.read_audit': p('org', 'organization', 'Read audit logs'),
  'org.manage_webhooks': p('org', 'organization', 'Manage webhooks'),
  'org.manage_apikeys': p('org', 'organization', 'Manage API keys'),
  'org.create_app': p('org', 'apps', 'Create apps'),
  'org.read_access': p('org', 'members', 'Read who has access'),
  'org.manage_security': p('org', 'security', 'Manage security policies'),
  'org.delete': p('org', 'organization', 'Delete the organization'),
  'org.transfer': p('org', 'organization', 'Transfer the organization'),
  'org.read_billing': p('org', 'billing', 'See billing'),
  'org.update_billing': p('org', 'billing', 'Manage billing'),
  'org.read_invoices': p('org', 'billing', 'See invoices'),
  'org.read_billing_audit': p('org', 'billing', 'Read the billing audit'),

  'app.read': p('app', 'apps', 'Show app stats'),
  'app.read_bundles': p('app', 'bundles', 'Show bundles'),
  'app.read_channels': p('app', 'channels', 'Show app channels'),
  'app.read_logs': p('app', 'apps', 'Show logs'),
  'app.read_devices': p('app', 'devices', 'Show devices'),
  'app.upload_bundle': p('app', 'bundles', 'Upload bundles'),
  'app.manage_devices': p('app', 'devices', 'Manage devices'),
  'app.build_native': p('app', 'apps', 'Trigger native builds'),
  'bundle.update': p('app', 'bundles', 'Alter bundles (metadata)'),
  'app.update_settings': p('app', 'apps', "Change the app's settings"),
  'app.create_channel': p('app', 'channels', 'Create channels'),
  'app.update_user_roles': p('app', 'apps', 'Manage app access'),
  'app.read_audit': p('app', 'apps', "Read the app's audit log"),
  'bundle.delete': p('app', 'bundles', 'Delete bundles'),
  'app.delete': p('app', 'apps', 'Delete the app'),
  'app.transfer': p('app', 'apps', 'Transfer the app'),

  'channel.read': p('channel', 'channels', 'Read', true),
  'channel.read_history': p('channel', 'channels', 'History', true),
  'channel.promote_bundle': p('channel', 'channels', 'Associate bundle', true),
  'channel.update_settings': p('channel', 'channels', 'Alter channel settings'),
  'channel.delete': p('channel', 'channels', 'Delete the channel'),
} satisfies Record<string, PermissionDef>

/** Capgo's permission keys: `'org.read' | 'app.upload_bundle' | …`, for code written against this preset. */
export type CapgoPermission = keyof typeof permissions
type Permission = CapgoPermission

const READ: Permission[] = [
  'app.read',
  'app.read_bundles',
  'app.read_channels',
  'app.read_logs',
  'app.read_devices',
  'channel.read',
  'channel.read_history',
]
const UPLOAD: Permission[] = ['app.upload_bundle']
const DEVELOP: Permission[] = [
  'app.manage_devices',
  'app.build_native',
  'bundle.update',
  'channel.promote_bundle',
  'channel.update_settings',
]
const ADMINISTER_APP: Permission[] = [
  'app.update_settings',
  'app.create_channel',
  'app.update_user_roles',
  'app.read_audit',
]
const DELETE_CONTENT: Permission[] = ['bundle.delete', 'channel.delete']
const OWN_APP: Permission[] = ['app.delete', 'app.transfer']
const ADMINISTER_ORG: Permission[] = [
  'org.update_settings',
  'org.invite_user',
  'org.update_user_roles',
  'org.manage_groups',
  'org.read_audit',
  'org.manage_webhooks',
  'org.manage_apikeys',
  'org.create_app',
  'org.read_access',
]
const OWN_ORG: Permission[] = ['org.manage_security', 'org.delete', 'org.transfer']
const BILLING: Permission[] = [
  'org.read_billing',
  'org.update_billing',
  'org.read_invoices',
  'org.read_billing_audit',
]
const APP_ALL = [...READ, ...UPLOAD, ...DEVELOP, ...ADMINISTER_APP]

export const capgo: Model = {
  name: 'capgo',
  label: 'Capgo (RBAC: org roles, app roles, channel overrides)',
  resourceTypes: {
    app: {
      parent: 'org',
      label: 'App',
      plural: 'Apps',
      actions: {
        create: 'org.create_app',
        read: 'app.read',
        update: 'app.update_settings',
        delete: 'app.delete',
      },
    },
    channel: {
      parent: 'app',
      label: 'Channel',
      plural: 'Channels',
      actions: {
        create: 'app.create_channel',
        read: 'channel.read',
        update: 'channel.update_settings',
        delete: 'channel.delete',
      },
    },
  },
  modules: {
    organization: { label: 'Organization' },
    members: { label: 'Members' },
    security: { label: 'Security' },
    billing: { label: 'Billing' },
    apps: { label: 'Apps' },
    bundles: { label: 'Bundles' },
    channels: { label: 'Channels' },
    devices: { label: 'Devices' },
  },
  permissions,
  slots: {
    org: { label: 'Organization role', multiple: false },
    app: { label: 'App role', multiple: false },
  },
  roles: {
    org_super_admin: {
      scope: 'org',
      slot: 'org',
      label: 'Super Admin',
      description: 'Full control — billing, deletion, transfer. Automatically granted to the org creator.',
      permissions: [
        'org.read',
        'org.read_members',
        ...ADMINISTER_ORG,
        ...OWN_ORG,
        ...BILLING,
        ...APP_ALL,
        ...DELETE_CONTENT,
        ...OWN_APP,
      ],
      priority: 100,
    },
    org_admin: {
      scope: 'org',
      slot: 'org',
      label: 'Admin',
      description: 'Full administration — manage members, apps, channels. No billing, no deletion.',
      permissions: ['org.read', 'org.read_members', ...ADMINISTER_ORG, ...APP_ALL],
      priority: 80,
    },
    org_billing_admin: {
      scope: 'org',
      slot: 'org',
      label: 'Billing Manager',
      description:
        'Billing only — view/update payment, invoices, billing audit. No access to apps or members.',
      permissions: ['org.read', ...BILLING],
      priority: 60,
    },
    org_member: {
      scope: 'org',
      slot: 'org',
      label: 'Member',
      description: 'Read-only access across the org and all its apps.',
      permissions: ['org.read', 'org.read_members', ...READ],
      priority: 40,
    },
    app_admin: {
      scope: 'app',
      slot: 'app',
      label: 'App Admin',
      description: 'Full control of one app — channels, devices, team. Cannot delete or transfer the app.',
      permissions: [...APP_ALL, ...DELETE_CONTENT],
      priority: 70,
    },
    app_developer: {
      scope: 'app',
      slot: 'app',
      label: 'App Developer',
      description:
        'Upload bundles, manage devices, trigger builds, update channels. No deletion or settings changes.',
      permissions: [...READ, ...UPLOAD, ...DEVELOP],
      priority: 50,
    },
    app_uploader: {
      scope: 'app',
      slot: 'app',
      label: 'App Uploader',
      description: 'Read access + upload new bundle versions.',
      permissions: [...READ, ...UPLOAD],
      priority: 30,
    },
    app_reader: {
      scope: 'app',
      slot: 'app',
      label: 'App Reader',
      description: 'Read-only — stats, bundles, channels, logs, devices.',
      permissions: [...READ],
      priority: 20,
    },
  },
  // Seed 001's own words: members, groups, roles.
  terms: DEFAULT_TERMS,
  org: {
    creatorRole: 'org_super_admin',
    ownerRoles: ['org_super_admin'],
    defaultRole: 'org_member',
    // Seed 001: "Every Capgo account belongs to at least one organization" — its own, from sign-up. It
    // needn't keep owning one (that is seed 004's rule, `everyUserOwnsAnOrg`).
    personalOrgOnSignup: true,
    subOrgs: false,
  },
}
