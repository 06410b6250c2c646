import { type Model, PLATFORM_PERMISSIONS, presets } from '../../src/index.ts'

const platform = Object.fromEntries(
  PLATFORM_PERMISSIONS.map((key) => [key, { on: 'org', module: 'org', label: key }]),
)

/**
 * A small model shaped like seed 004 (Appcircle): an Owner, one slot per module with read / write roles,
 * and sub-organizations. The real `modules` preset comes later; the engine's rules don't wait for it.
 */
export const modulesModel: Model = {
  name: 'modules-test',
  resourceTypes: { profile: { parent: 'org', label: 'Profile' } },
  modules: { org: { label: 'Org' }, build: { label: 'Build' }, publish: { label: 'Publish' } },
  permissions: {
    ...platform,
    'build.read': { on: 'org', module: 'build', label: 'See builds' },
    'build.write': { on: 'org', module: 'build', label: 'Run builds' },
    'publish.read': { on: 'org', module: 'publish', label: 'See releases' },
    'publish.write': { on: 'org', module: 'publish', label: 'Publish' },
    'profile.read': { on: 'profile', module: 'build', label: 'See a profile' },
  },
  slots: {
    owner: { label: 'Owner', multiple: false },
    build: { label: 'Build', multiple: true },
    publish: { label: 'Publish', multiple: true },
  },
  roles: {
    owner: {
      scope: 'org',
      slot: 'owner',
      label: 'Owner',
      description: 'Everything',
      permissions: [
        ...PLATFORM_PERMISSIONS,
        'build.read',
        'build.write',
        'publish.read',
        'publish.write',
        'profile.read',
      ],
      priority: 100,
    },
    build_read: {
      scope: 'org',
      slot: 'build',
      label: 'Build read',
      description: '',
      permissions: ['build.read', 'profile.read'],
      priority: 10,
    },
    build_write: {
      scope: 'org',
      slot: 'build',
      label: 'Build write',
      description: '',
      permissions: ['build.read', 'build.write', 'profile.read'],
      priority: 20,
    },
    publish_read: {
      scope: 'org',
      slot: 'publish',
      label: 'Publish read',
      description: '',
      permissions: ['publish.read'],
      priority: 10,
    },
    publish_write: {
      scope: 'org',
      slot: 'publish',
      label: 'Publish write',
      description: '',
      permissions: ['publish.read', 'publish.write'],
      priority: 20,
    },
  },
  org: {
    creatorRole: 'owner',
    ownerRoles: ['owner'],
    defaultRole: 'build_read',
    personalOrgOnSignup: true,
    subOrgs: true,
  },
}

/** A small model shaped like seed 003 (Copia/Gitea): repositories and Read / Write / Admin team levels. */
export const teamsModel: Model = {
  name: 'teams-test',
  resourceTypes: { repository: { parent: 'org', label: 'Repository' } },
  modules: { org: { label: 'Org' }, code: { label: 'Code' } },
  permissions: {
    ...platform,
    'repository.read': { on: 'repository', module: 'code', label: 'Read' },
    'repository.write': { on: 'repository', module: 'code', label: 'Write' },
    'repository.admin': { on: 'repository', module: 'code', label: 'Admin' },
  },
  slots: { org: { label: 'Org', multiple: false }, repository: { label: 'Repository', multiple: true } },
  roles: {
    owner: {
      scope: 'org',
      slot: 'org',
      label: 'Owner',
      description: '',
      permissions: [...PLATFORM_PERMISSIONS],
      priority: 100,
    },
    read: {
      scope: 'repository',
      slot: 'repository',
      label: 'Read',
      description: '',
      permissions: ['repository.read'],
      priority: 10,
    },
    write: {
      scope: 'repository',
      slot: 'repository',
      label: 'Write',
      description: '',
      permissions: ['repository.read', 'repository.write'],
      priority: 20,
    },
    admin: {
      scope: 'repository',
      slot: 'repository',
      label: 'Admin',
      description: '',
      permissions: ['repository.read', 'repository.write', 'repository.admin'],
      priority: 30,
    },
  },
  org: {
    creatorRole: 'owner',
    ownerRoles: ['owner'],
    defaultRole: 'owner',
    personalOrgOnSignup: false,
    subOrgs: false,
  },
}

export const capgo = presets.capgo!
