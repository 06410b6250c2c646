// Generated from models/projects.yaml by `npm run presets -w packages/core`: edit the model file, not this one.
import type { Model, PermissionOf } from '../model.ts'

const definition = {
  name: 'projects',
  label: 'Projects (APImetrics: DEFAULT / ADMIN roles, project access by account or role)',
  resourceTypes: {
    project: {
      parent: 'org',
      label: 'Project',
      plural: 'Projects',
      actions: {
        create: 'org.create_project',
        read: 'project.read',
        update: 'project.update_settings',
        delete: 'project.delete',
      },
      deleteOnlyWithoutAccess: true,
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
    projects: {
      label: 'Projects',
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
    'org.create_project': {
      on: 'org',
      module: 'projects',
      label: 'Create projects',
    },
    'project.read': {
      on: 'project',
      module: 'projects',
      label: 'See the project and its results',
    },
    'project.write': {
      on: 'project',
      module: 'projects',
      label: 'Edit calls and schedules',
    },
    'project.update_settings': {
      on: 'project',
      module: 'projects',
      label: "Change the project's settings",
    },
    'project.update_user_roles': {
      on: 'project',
      module: 'projects',
      label: 'Manage project access',
    },
    'project.delete': {
      on: 'project',
      module: 'projects',
      label: 'Delete the project',
    },
  },
  slots: {
    org: {
      label: 'Organization role',
      multiple: false,
    },
    project: {
      label: 'Project access',
      multiple: false,
    },
  },
  roles: {
    org_admin: {
      scope: 'org',
      slot: 'org',
      label: 'ADMIN',
      description: 'Opens the Organization Admin page: projects, roles, accounts, invites, audit logs, 2FA.',
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
        'org.create_project',
        'project.read',
        'project.write',
        'project.update_settings',
        'project.update_user_roles',
        'project.delete',
      ],
      priority: 100,
    },
    org_member: {
      scope: 'org',
      slot: 'org',
      label: 'DEFAULT',
      description: 'Every account of the organization.',
      permissions: ['org.read', 'org.read_members'],
      priority: 10,
    },
    project_viewer: {
      scope: 'project',
      slot: 'project',
      label: 'Viewer',
      description: 'Sees the project and its results.',
      permissions: ['project.read'],
      priority: 20,
    },
    project_editor: {
      scope: 'project',
      slot: 'project',
      label: 'Editor',
      description: 'Edits the project’s calls and schedules.',
      permissions: ['project.read', 'project.write'],
      priority: 30,
    },
    project_owner: {
      scope: 'project',
      slot: 'project',
      label: 'Owner',
      description: 'Runs the project: settings and who has access.',
      permissions: ['project.read', 'project.write', 'project.update_settings', 'project.update_user_roles'],
      priority: 40,
    },
  },
  terms: {
    member: {
      label: 'Account',
      plural: 'Accounts',
    },
    group: {
      label: 'Role',
      plural: 'Roles',
    },
    role: {
      label: 'Access level',
      plural: 'Access levels',
    },
  },
  org: {
    creatorRole: 'org_admin',
    ownerRoles: ['org_admin'],
    defaultRole: 'org_member',
    personalOrgOnSignup: false,
    subOrgs: false,
    groups: [
      {
        name: 'DEFAULT',
        role: 'org_member',
        members: 'everyone',
      },
      {
        name: 'ADMIN',
        role: 'org_admin',
        members: 'creator',
      },
    ],
  },
} as const satisfies Model

/** The projects preset's permission keys as a literal union, for code written against it. */
export type ProjectsPermission = PermissionOf<typeof definition>

export const projects: Model = definition
