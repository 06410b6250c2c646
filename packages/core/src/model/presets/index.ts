import type { Model } from '../model.ts'
import { type CapgoPermission, capgo } from './capgo.ts'
import { type CapgoLegacyPermission, capgoLegacy } from './capgo-legacy.ts'
import { type ModulesPermission, modules } from './modules.ts'
import { type ProjectsPermission, projects } from './projects.ts'
import { type TeamsPermission, teams } from './teams.ts'

/**
 * The presets, one per seed system, selected by `ORGKIT_MODEL` (default `capgo`). Their source is the
 * model files in packages/core/models/ (the examples a user copies); the modules beside this one are
 * generated from them (`npm run presets -w packages/core`), and test/model-files.test.ts holds the two
 * equal.
 */
export const presets: Readonly<Record<string, Model>> = {
  capgo,
  'capgo-legacy': capgoLegacy,
  projects,
  teams,
  modules,
}

/** Each preset's permission keys as a literal union, by the preset's name. */
export interface PresetPermissions {
  capgo: CapgoPermission
  'capgo-legacy': CapgoLegacyPermission
  projects: ProjectsPermission
  teams: TeamsPermission
  modules: ModulesPermission
}

/**
 * The permission keys of a preset, for code that knows which one it runs on:
 * `authorization<PresetPermission<'capgo'>>(client).check({ permission: 'app.upload_bundle', … })`.
 * Custom models: `PermissionOf<typeof myModel>` (model.ts).
 */
export type PresetPermission<N extends keyof PresetPermissions> = PresetPermissions[N]

export { capgo, capgoLegacy, modules, projects, teams }
