import { type Model, type PermissionDef, PLATFORM_PERMISSIONS } from '../model.ts'
import { PLATFORM_MODULES, platformPermissions } from './platform.ts'

const READ = ['repository.read']
const WRITE = [...READ, 'repository.write']
const ADMIN = [...WRITE, 'repository.admin', 'repository.update_user_roles']

const permissions = {
  ...platformPermissions(),
  'org.create_repository': { on: 'org', module: 'code', label: 'Create repositories' },
  'repository.read': { on: 'repository', module: 'code', label: 'Read' },
  'repository.write': { on: 'repository', module: 'code', label: 'Write' },
  'repository.admin': { on: 'repository', module: 'code', label: 'Administer' },
  'repository.update_user_roles': { on: 'repository', module: 'code', label: 'Give teams access' },
  'repository.delete': { on: 'repository', module: 'code', label: 'Delete the repository' },
} satisfies Record<string, PermissionDef>
/** The teams preset's permission keys, for code written against it. */
export type TeamsPermission = keyof typeof permissions

/**
 * Seed 003, Copia (Gitea-style): repositories, an Owners team, teams with Read / Write / Admin on all or
 * chosen repositories, per-member levels inside a team, and the single-role-teams switch (SPEC 1.3). A
 * team is a group bound with the `team` role; its level resolves per scope through `teamLevels`.
 */
export const teams: Model = {
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
  modules: { ...PLATFORM_MODULES, code: { label: 'Code' } },
  permissions,
  slots: {
    org: { label: 'Organization role', multiple: false },
    team: { label: 'Team access', multiple: true },
  },
  roles: {
    owner: {
      scope: 'org',
      slot: 'org',
      label: 'Owner',
      description: 'A member of the Owners team: everything.',
      permissions: [...PLATFORM_PERMISSIONS, 'org.create_repository', ...ADMIN, 'repository.delete'],
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
      permissions: READ,
      priority: 20,
    },
    all_repos_write: {
      scope: 'org',
      slot: 'team',
      label: 'Write (all repositories)',
      description: '',
      permissions: WRITE,
      priority: 30,
    },
    all_repos_admin: {
      scope: 'org',
      slot: 'team',
      label: 'Admin (all repositories)',
      description: '',
      permissions: ADMIN,
      priority: 40,
    },
    repo_read: {
      scope: 'repository',
      slot: 'team',
      label: 'Read',
      description: 'Clone and read.',
      permissions: READ,
      priority: 20,
    },
    repo_write: {
      scope: 'repository',
      slot: 'team',
      label: 'Write',
      description: 'Push.',
      permissions: WRITE,
      priority: 30,
    },
    repo_admin: {
      scope: 'repository',
      slot: 'team',
      label: 'Admin',
      description: 'Settings and team access.',
      permissions: ADMIN,
      priority: 40,
    },
  },
  teamLevels: {
    read: { org: 'all_repos_read', repository: 'repo_read' },
    write: { org: 'all_repos_write', repository: 'repo_write' },
    admin: { org: 'all_repos_admin', repository: 'repo_admin' },
  },
  // Seed 003: members of the organization, its teams (the Owners team, Team A), roles.
  terms: {
    member: { label: 'Member', plural: 'Members' },
    group: { label: 'Team', plural: 'Teams' },
    role: { label: 'Role', plural: 'Roles' },
  },
  org: {
    creatorRole: 'owner',
    ownerRoles: ['owner'],
    defaultRole: 'member',
    personalOrgOnSignup: false,
    subOrgs: false,
    // Seed 003: every org has an Owners team, which can't be emptied (or deleted, or renamed).
    groups: [{ name: 'Owners', role: 'owner', members: 'creator' }],
  },
}
