// Generated from models/teams.yaml by `npm run presets -w packages/core`: edit the model file, not this one.
import type { Model, PermissionOf } from '../model.ts'

const definition = {
  name: 'teams',
  label: 'Teams (Copia / Gitea: Owners, Read / Write / Admin teams, single-role teams)',
  resourceTypes: {
    repository: {
      parent: 'org',
      label: 'Repository',
      plural: 'Repositories',
      actions: {
        create: 'org.create_repository',
        read: 'repository.read',
        update: 'repository.admin',
        delete: 'repository.delete',
      },
      teamAccessSetting: true,
    },
  },
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
    code: {
      label: 'Code',
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
    'org.create_repository': {
      on: 'org',
      module: 'code',
      label: 'Create repositories',
    },
    'repository.read': {
      on: 'repository',
      module: 'code',
      label: 'Read',
    },
    'repository.write': {
      on: 'repository',
      module: 'code',
      label: 'Write',
    },
    'repository.admin': {
      on: 'repository',
      module: 'code',
      label: 'Administer',
    },
    'repository.update_user_roles': {
      on: 'repository',
      module: 'code',
      label: 'Give teams access',
    },
    'repository.delete': {
      on: 'repository',
      module: 'code',
      label: 'Delete the repository',
    },
  },
  slots: {
    org: {
      label: 'Organization role',
      multiple: false,
    },
    team: {
      label: 'Team access',
      multiple: true,
    },
  },
  roles: {
    owner: {
      scope: 'org',
      slot: 'org',
      label: 'Owner',
      description: 'A member of the Owners team: everything.',
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
        'org.create_repository',
        'repository.read',
        'repository.write',
        'repository.admin',
        'repository.update_user_roles',
        'repository.delete',
      ],
      priority: 100,
    },
    member: {
      scope: 'org',
      slot: 'org',
      label: 'Member',
      description: 'A member of the organization.',
      permissions: ['org.read', 'org.read_members'],
      priority: 10,
    },
    all_repos_read: {
      scope: 'org',
      slot: 'team',
      label: 'Read (all repositories)',
      description: '',
      permissions: ['repository.read'],
      priority: 20,
    },
    all_repos_write: {
      scope: 'org',
      slot: 'team',
      label: 'Write (all repositories)',
      description: '',
      permissions: ['repository.read', 'repository.write'],
      priority: 30,
    },
    all_repos_admin: {
      scope: 'org',
      slot: 'team',
      label: 'Admin (all repositories)',
      description: '',
      permissions: [
        'repository.read',
        'repository.write',
        'repository.admin',
        'repository.update_user_roles',
      ],
      priority: 40,
    },
    repo_read: {
      scope: 'repository',
      slot: 'team',
      label: 'Read',
      description: 'Clone and read.',
      permissions: ['repository.read'],
      priority: 20,
    },
    repo_write: {
      scope: 'repository',
      slot: 'team',
      label: 'Write',
      description: 'Push.',
      permissions: ['repository.read', 'repository.write'],
      priority: 30,
    },
    repo_admin: {
      scope: 'repository',
      slot: 'team',
      label: 'Admin',
      description: 'Settings and team access.',
      permissions: [
        'repository.read',
        'repository.write',
        'repository.admin',
        'repository.update_user_roles',
      ],
      priority: 40,
    },
  },
  teamLevels: {
    read: {
      org: 'all_repos_read',
      repository: 'repo_read',
    },
    write: {
      org: 'all_repos_write',
      repository: 'repo_write',
    },
    admin: {
      org: 'all_repos_admin',
      repository: 'repo_admin',
    },
  },
  terms: {
    member: {
      label: 'Member',
      plural: 'Members',
    },
    group: {
      label: 'Team',
      plural: 'Teams',
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
    personalOrgOnSignup: false,
    subOrgs: false,
    groups: [
      {
        name: 'Owners',
        role: 'owner',
        members: 'creator',
      },
    ],
  },
} as const satisfies Model

/** The teams preset's permission keys as a literal union, for code written against it. */
export type TeamsPermission = PermissionOf<typeof definition>

export const teams: Model = definition
