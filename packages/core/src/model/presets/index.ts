import type { Model } from '../model.ts'
import { capgo } from './capgo.ts'
import { capgoLegacy } from './capgo-legacy.ts'
import { modules } from './modules.ts'
import { projects } from './projects.ts'
import { teams } from './teams.ts'

/** The presets, one per seed system, selected by `ORGKIT_MODEL` (default `capgo`). */
export const presets: Readonly<Record<string, Model>> = {
  capgo,
  'capgo-legacy': capgoLegacy,
  projects,
  teams,
  modules,
}

export { capgo, capgoLegacy, modules, projects, teams }
