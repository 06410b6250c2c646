import {
  DEFAULT_TERMS,
  type Model,
  type PermissionDef,
  PLATFORM_PERMISSIONS,
  type PlatformPermission,
  type RoleDef,
} from '../model.ts'
import { PLATFORM_MODULES, platformPermissions } from './platform.ts'

/** Appcircle's modules; each has a slot of its own, holding several roles at once. */
const MODULES = {
  build: 'Build',
  signing: 'Signing Identities',
  distribution: 'Testing Distribution',
  publish: 'Publish',
  store: 'Enterprise App Store',
  reports: 'Reports',
} as const
type Module = keyof typeof MODULES

const perms = Object.fromEntries(
  (Object.keys(MODULES) as Module[]).flatMap((m) => [
    [`${m}.read`, { on: 'org', module: m, label: `See ${MODULES[m]}` }],
    [`${m}.write`, { on: 'org', module: m, label: `Work in ${MODULES[m]}` }],
  ]),
) as Record<`${Module}.${'read' | 'write'}`, PermissionDef>
/** The modules preset's permission keys (`build.read`, `publish.write` …), for code written against it. */
export type ModulesPermission = PlatformPermission | keyof typeof perms

const moduleRoles = Object.fromEntries(
  (Object.keys(MODULES) as Module[]).flatMap((m): [string, RoleDef][] => [
    [
      `${m}_read`,
      {
        scope: 'org',
        slot: m,
        label: `${MODULES[m]}: read`,
        description: `See ${MODULES[m]}.`,
        permissions: [`${m}.read`],
        priority: 20,
      },
    ],
    [
      `${m}_write`,
      {
        scope: 'org',
        slot: m,
        label: `${MODULES[m]}: write`,
        description: `Work in ${MODULES[m]}.`,
        permissions: [`${m}.read`, `${m}.write`],
        priority: 30,
      },
    ],
  ]),
)

/**
 * Seed 004, Appcircle "Team Management": the creator is Owner; members get module-based read / write roles,
 * several per module combined; sub-organizations inherit every role from the root, "None" in a module
 * means inherit, and a direct role in a sub-org replaces the inherited one in that module's slot. Every
 * user owns at least one organization (a personal one at sign-up).
 */
export const modules: Model = {
  name: 'modules',
  label: 'Modules (Appcircle: Owner, module read / write roles, sub-organizations)',
  resourceTypes: {},
  modules: {
    ...PLATFORM_MODULES,
    ...Object.fromEntries(Object.entries(MODULES).map(([k, label]) => [k, { label }])),
  },
  permissions: { ...platformPermissions(), ...perms },
  slots: {
    owner: { label: 'Owner', multiple: false },
    base: { label: 'Member', multiple: false },
    ...Object.fromEntries(Object.entries(MODULES).map(([k, label]) => [k, { label, multiple: true }])),
  },
  roles: {
    owner: {
      scope: 'org',
      slot: 'owner',
      label: 'Owner',
      description: 'Full administrative privileges for the team and the organization.',
      permissions: [...PLATFORM_PERMISSIONS, ...Object.keys(perms)],
      priority: 100,
    },
    member: {
      scope: 'org',
      slot: 'base',
      label: 'Member',
      description: 'Read-only access, until module roles are given.',
      permissions: ['org.read', 'org.read_members', ...Object.keys(perms).filter((p) => p.endsWith('.read'))],
      priority: 10,
    },
    ...moduleRoles,
  },
  // Seed 004: "Team Members", the Owner and module "roles"; it names no groups, so they stay groups.
  terms: DEFAULT_TERMS,
  org: {
    creatorRole: 'owner',
    ownerRoles: ['owner'],
    defaultRole: 'member',
    personalOrgOnSignup: true,
    everyUserOwnsAnOrg: true,
    subOrgs: true,
  },
}
