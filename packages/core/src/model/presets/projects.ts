import { type Model, type PermissionDef, PLATFORM_PERMISSIONS } from '../model.ts'
import { PLATFORM_MODULES, platformPermissions } from './platform.ts'

const permissions = {
  ...platformPermissions(),
  'org.create_project': { on: 'org', module: 'projects', label: 'Create projects' },
  'project.read': { on: 'project', module: 'projects', label: 'See the project and its results' },
  'project.write': { on: 'project', module: 'projects', label: 'Edit calls and schedules' },
  'project.update_settings': { on: 'project', module: 'projects', label: "Change the project's settings" },
  'project.update_user_roles': { on: 'project', module: 'projects', label: 'Manage project access' },
  'project.delete': { on: 'project', module: 'projects', label: 'Delete the project' },
} satisfies Record<string, PermissionDef>
/** The projects preset's permission keys, for code written against it. */
export type ProjectsPermission = keyof typeof permissions

/**
 * Seed 002, APImetrics "Organizations": projects; the DEFAULT role every member has and the ADMIN role that
 * opens the Organization Admin page are groups the service keeps (`DEFAULT` bound to `org_member`,
 * `ADMIN` to `org_admin`); more "roles" are custom groups. Project access goes to an account or a group,
 * at a level; an account with project access but no membership is external (the seed's blue).
 */
export const projects: Model = {
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
  modules: { ...PLATFORM_MODULES, projects: { label: 'Projects' } },
  permissions,
  slots: {
    org: { label: 'Organization role', multiple: false },
    project: { label: 'Project access', multiple: false },
  },
  roles: {
    org_admin: {
      scope: 'org',
      slot: 'org',
      label: 'ADMIN',
      description: 'Opens the Organization Admin page: projects, roles, accounts, invites, audit logs, 2FA.',
      permissions: [
        ...PLATFORM_PERMISSIONS,
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
  // Seed 002: "the list of Accounts in the Organization"; a set of accounts is a "Role" (DEFAULT, ADMIN,
  // "Create Role..."); a project is given "at what level", so the model's roles are access levels here.
  terms: {
    member: { label: 'Account', plural: 'Accounts' },
    group: { label: 'Role', plural: 'Roles' },
    role: { label: 'Access level', plural: 'Access levels' },
  },
  org: {
    creatorRole: 'org_admin',
    ownerRoles: ['org_admin'],
    defaultRole: 'org_member',
    personalOrgOnSignup: false,
    subOrgs: false,
    groups: [
      { name: 'DEFAULT', role: 'org_member', members: 'everyone' },
      { name: 'ADMIN', role: 'org_admin', members: 'creator' },
    ],
  },
}
