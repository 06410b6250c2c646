import { DEFAULT_TERMS, type Model, type PermissionDef } from '../model.ts'

/**
 * Seed 000, Capgo's legacy organization system: five org-wide levels. The seed's 18-row table maps onto
 * Capgo's permission keys (SPEC 7); the rest are the platform's own permissions (members, audit,
 * webhooks …), given as the seed's prose says: "Admin - Full access except billing and deletion",
 * "Super admin - Complete organization control", super admins set security policies and billing.
 */
const p = (on: string, module: string, label: string): PermissionDef => ({ on, module, label })

const SEED_ROWS = {
  'app.read': p('app', 'apps', 'Show app stats'),
  'app.read_channels': p('app', 'channels', 'Show app channels'),
  'app.read_devices': p('app', 'devices', 'Show devices'),
  'app.read_logs': p('app', 'apps', 'Show logs'),
  'app.read_bundles': p('app', 'bundles', 'Show bundles'),
  'app.delete': p('app', 'apps', 'Delete app'),
  'channel.delete': p('channel', 'channels', 'Delete channel'),
  'bundle.delete': p('app', 'bundles', 'Delete version'),
  'org.update_settings': p('org', 'organization', 'Change org’s settings'),
  'org.update_user_roles': p('org', 'members', 'Manage org users'),
  'channel.update_settings': p('channel', 'channels', 'Alter channel settings'),
  'app.upload_bundle': p('app', 'bundles', 'Upload new version'),
  'app.manage_devices': p('app', 'devices', 'Alter devices'),
  'channel.promote_bundle': p('channel', 'channels', 'Change channel’s current version'),
  'app.create_channel': p('app', 'channels', 'Create new channel'),
  'bundle.update': p('app', 'bundles', 'Alter version (metadata)'),
  'org.update_billing': p('org', 'billing', 'Manage billing'),
  'bundle.delete_unsafe': p('app', 'bundles', 'Delete a version unsafely'),
}

const PLATFORM = {
  'org.read': p('org', 'organization', 'See the organization'),
  'org.read_members': p('org', 'members', 'See members'),
  'org.invite_user': p('org', 'members', 'Invite members'),
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
  'org.read_invoices': p('org', 'billing', 'See invoices'),
  'org.read_billing_audit': p('org', 'billing', 'Read the billing audit'),
  'channel.read': p('channel', 'channels', 'See a channel'),
  'channel.read_history': p('channel', 'channels', "See a channel's history"),
}

/** The legacy preset's permission keys, for code written against it. */
export type CapgoLegacyPermission = keyof typeof SEED_ROWS | keyof typeof PLATFORM
type Permission = CapgoLegacyPermission

const READ: Permission[] = [
  'org.read',
  'org.read_members',
  'app.read',
  'app.read_channels',
  'app.read_devices',
  'app.read_logs',
  'app.read_bundles',
  'channel.read',
  'channel.read_history',
]
const UPLOAD: Permission[] = [...READ, 'app.upload_bundle']
const WRITE: Permission[] = [
  ...UPLOAD,
  'bundle.delete',
  'channel.update_settings',
  'app.manage_devices',
  'channel.promote_bundle',
  'bundle.update',
]
const ADMIN: Permission[] = [
  ...WRITE,
  'channel.delete',
  'org.update_settings',
  'org.update_user_roles',
  'app.create_channel',
  'org.invite_user',
  'org.manage_groups',
  'org.read_audit',
  'org.manage_webhooks',
  'org.manage_apikeys',
  'org.create_app',
  'org.read_access',
]
const SUPER_ADMIN: Permission[] = [
  ...ADMIN,
  'app.delete',
  'org.update_billing',
  'bundle.delete_unsafe',
  'org.manage_security',
  'org.delete',
  'org.transfer',
  'org.read_billing',
  'org.read_invoices',
  'org.read_billing_audit',
]

const role = (label: string, description: string, permissions: Permission[], priority: number) => ({
  scope: 'org',
  slot: 'org',
  label,
  description,
  permissions,
  priority,
})

export const capgoLegacy: Model = {
  name: 'capgo-legacy',
  label: 'Capgo legacy (read / upload / write / admin / super admin)',
  resourceTypes: {
    app: {
      parent: 'org',
      label: 'App',
      plural: 'Apps',
      actions: { create: 'org.create_app', read: 'app.read', delete: 'app.delete' },
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
  permissions: { ...SEED_ROWS, ...PLATFORM },
  slots: { org: { label: 'Permission level', multiple: false } },
  roles: {
    super_admin: role('Super admin', 'Complete organization control', SUPER_ADMIN, 100),
    admin: role('Admin', 'Full access except billing and deletion', ADMIN, 80),
    write: role('Write', 'Can modify settings and content', WRITE, 60),
    upload: role('Upload', 'Can upload new versions', UPLOAD, 40),
    read: role('Read', 'View-only access', READ, 20),
  },
  terms: DEFAULT_TERMS,
  org: {
    creatorRole: 'super_admin',
    ownerRoles: ['super_admin'],
    defaultRole: 'read',
    personalOrgOnSignup: false,
    subOrgs: false,
  },
}
