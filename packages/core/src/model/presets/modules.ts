// Generated from models/modules.yaml by `npm run presets -w packages/core`: edit the model file, not this one.
import type { Model, PermissionOf } from '../model.ts'

const definition = {
  name: 'modules',
  label: 'Modules (Appcircle: Owner, module read / write roles, sub-organizations)',
  resourceTypes: {},
  modules: {
    organization: {
      label: 'Organization',
    },
    members: {
      label: 'Members',
    },
    security: {
      label: 'Security',
    },
    billing: {
      label: 'Billing',
    },
    build: {
      label: 'Build',
    },
    signing: {
      label: 'Signing Identities',
    },
    distribution: {
      label: 'Testing Distribution',
    },
    publish: {
      label: 'Publish',
    },
    store: {
      label: 'Enterprise App Store',
    },
    reports: {
      label: 'Reports',
    },
  },
  permissions: {
    'org.read': {
      on: 'org',
      module: 'organization',
      label: 'read',
    },
    'org.read_members': {
      on: 'org',
      module: 'members',
      label: 'read members',
    },
    'org.update_settings': {
      on: 'org',
      module: 'organization',
      label: 'update settings',
    },
    'org.invite_user': {
      on: 'org',
      module: 'members',
      label: 'invite user',
    },
    'org.update_user_roles': {
      on: 'org',
      module: 'members',
      label: 'update user roles',
    },
    'org.manage_groups': {
      on: 'org',
      module: 'members',
      label: 'manage groups',
    },
    'org.read_audit': {
      on: 'org',
      module: 'organization',
      label: 'read audit',
    },
    'org.manage_webhooks': {
      on: 'org',
      module: 'organization',
      label: 'manage webhooks',
    },
    'org.manage_apikeys': {
      on: 'org',
      module: 'organization',
      label: 'manage apikeys',
    },
    'org.read_access': {
      on: 'org',
      module: 'members',
      label: 'read access',
    },
    'org.manage_security': {
      on: 'org',
      module: 'security',
      label: 'manage security',
    },
    'org.delete': {
      on: 'org',
      module: 'organization',
      label: 'delete',
    },
    'org.transfer': {
      on: 'org',
      module: 'organization',
      label: 'transfer',
    },
    'org.read_billing': {
      on: 'org',
      module: 'billing',
      label: 'read billing',
    },
    'org.update_billing': {
      on: 'org',
      module: 'billing',
      label: 'update billing',
    },
    'org.read_invoices': {
      on: 'org',
      module: 'billing',
      label: 'read invoices',
    },
    'org.read_billing_audit': {
      on: 'org',
      module: 'billing',
      label: 'read billing audit',
    },
    'build.read': {
      on: 'org',
      module: 'build',
      label: 'See Build',
    },
    'build.write': {
      on: 'org',
      module: 'build',
      label: 'Work in Build',
    },
    'signing.read': {
      on: 'org',
      module: 'signing',
      label: 'See Signing Identities',
    },
    'signing.write': {
      on: 'org',
      module: 'signing',
      label: 'Work in Signing Identities',
    },
    'distribution.read': {
      on: 'org',
      module: 'distribution',
      label: 'See Testing Distribution',
    },
    'distribution.write': {
      on: 'org',
      module: 'distribution',
      label: 'Work in Testing Distribution',
    },
    'publish.read': {
      on: 'org',
      module: 'publish',
      label: 'See Publish',
    },
    'publish.write': {
      on: 'org',
      module: 'publish',
      label: 'Work in Publish',
    },
    'store.read': {
      on: 'org',
      module: 'store',
      label: 'See Enterprise App Store',
    },
    'store.write': {
      on: 'org',
      module: 'store',
      label: 'Work in Enterprise App Store',
    },
    'reports.read': {
      on: 'org',
      module: 'reports',
      label: 'See Reports',
    },
    'reports.write': {
      on: 'org',
      module: 'reports',
      label: 'Work in Reports',
    },
  },
  slots: {
    owner: {
      label: 'Owner',
      multiple: false,
    },
    base: {
      label: 'Member',
      multiple: false,
    },
    build: {
      label: 'Build',
      multiple: true,
    },
    signing: {
      label: 'Signing Identities',
      multiple: true,
    },
    distribution: {
      label: 'Testing Distribution',
      multiple: true,
    },
    publish: {
      label: 'Publish',
      multiple: true,
    },
    store: {
      label: 'Enterprise App Store',
      multiple: true,
    },
    reports: {
      label: 'Reports',
      multiple: true,
    },
  },
  roles: {
    owner: {
      scope: 'org',
      slot: 'owner',
      label: 'Owner',
      description: 'Full administrative privileges for the team and the organization.',
      permissions: [
        'org.read',
        'org.read_members',
        'org.update_settings',
        'org.invite_user',
        'org.update_user_roles',
        'org.manage_groups',
        'org.read_audit',
        'org.manage_webhooks',
        'org.manage_apikeys',
        'org.read_access',
        'org.manage_security',
        'org.delete',
        'org.transfer',
        'org.read_billing',
        'org.update_billing',
        'org.read_invoices',
        'org.read_billing_audit',
        'build.read',
        'build.write',
        'signing.read',
        'signing.write',
        'distribution.read',
        'distribution.write',
        'publish.read',
        'publish.write',
        'store.read',
        'store.write',
        'reports.read',
        'reports.write',
      ],
      priority: 100,
    },
    member: {
      scope: 'org',
      slot: 'base',
      label: 'Member',
      description: 'Read-only access, until module roles are given.',
      permissions: [
        'org.read',
        'org.read_members',
        'build.read',
        'signing.read',
        'distribution.read',
        'publish.read',
        'store.read',
        'reports.read',
      ],
      priority: 10,
    },
    build_read: {
      scope: 'org',
      slot: 'build',
      label: 'Build: read',
      description: 'See Build.',
      permissions: ['build.read'],
      priority: 20,
    },
    build_write: {
      scope: 'org',
      slot: 'build',
      label: 'Build: write',
      description: 'Work in Build.',
      permissions: ['build.read', 'build.write'],
      priority: 30,
    },
    signing_read: {
      scope: 'org',
      slot: 'signing',
      label: 'Signing Identities: read',
      description: 'See Signing Identities.',
      permissions: ['signing.read'],
      priority: 20,
    },
    signing_write: {
      scope: 'org',
      slot: 'signing',
      label: 'Signing Identities: write',
      description: 'Work in Signing Identities.',
      permissions: ['signing.read', 'signing.write'],
      priority: 30,
    },
    distribution_read: {
      scope: 'org',
      slot: 'distribution',
      label: 'Testing Distribution: read',
      description: 'See Testing Distribution.',
      permissions: ['distribution.read'],
      priority: 20,
    },
    distribution_write: {
      scope: 'org',
      slot: 'distribution',
      label: 'Testing Distribution: write',
      description: 'Work in Testing Distribution.',
      permissions: ['distribution.read', 'distribution.write'],
      priority: 30,
    },
    publish_read: {
      scope: 'org',
      slot: 'publish',
      label: 'Publish: read',
      description: 'See Publish.',
      permissions: ['publish.read'],
      priority: 20,
    },
    publish_write: {
      scope: 'org',
      slot: 'publish',
      label: 'Publish: write',
      description: 'Work in Publish.',
      permissions: ['publish.read', 'publish.write'],
      priority: 30,
    },
    store_read: {
      scope: 'org',
      slot: 'store',
      label: 'Enterprise App Store: read',
      description: 'See Enterprise App Store.',
      permissions: ['store.read'],
      priority: 20,
    },
    store_write: {
      scope: 'org',
      slot: 'store',
      label: 'Enterprise App Store: write',
      description: 'Work in Enterprise App Store.',
      permissions: ['store.read', 'store.write'],
      priority: 30,
    },
    reports_read: {
      scope: 'org',
      slot: 'reports',
      label: 'Reports: read',
      description: 'See Reports.',
      permissions: ['reports.read'],
      priority: 20,
    },
    reports_write: {
      scope: 'org',
      slot: 'reports',
      label: 'Reports: write',
      description: 'Work in Reports.',
      permissions: ['reports.read', 'reports.write'],
      priority: 30,
    },
  },
  terms: {
    member: {
      label: 'Member',
      plural: 'Members',
    },
    group: {
      label: 'Group',
      plural: 'Groups',
    },
    role: {
      label: 'Role',
      plural: 'Roles',
    },
  },
  org: {
    creatorRole: 'owner',
    ownerRoles: ['owner'],
    defaultRole: 'member',
    personalOrgOnSignup: true,
    everyUserOwnsAnOrg: true,
    subOrgs: true,
  },
} as const satisfies Model

/** The modules preset's permission keys as a literal union, for code written against it. */
export type ModulesPermission = PermissionOf<typeof definition>

export const modules: Model = definition
