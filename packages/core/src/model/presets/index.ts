import type { Model } from '../model.ts'
import { capgo } from './capgo.ts'
import { capgoLegacy } from './capgo-legacy.ts'

/** The presets, one per seed system, selected by `ORGKIT_MODEL` (default `capgo`). */
export const presets: Readonly<Record<string, Model>> = {
  capgo,
  'capgo-legacy': capgoLegacy,
}

export { capgo, capgoLegacy }
