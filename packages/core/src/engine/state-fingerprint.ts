import type { Model } from '../model/model.ts'
import * as accessCode from './access.ts'
import * as apply from './apply.ts'
import * as bindingsCode from './bindings.ts'
import * as bindingChanges from './change-bindings.ts'
import * as orgChanges from './change-orgs.ts'
import * as principalChanges from './change-principals.ts'
import * as resourceChanges from './change-resources.ts'
import * as changeSupport from './change-support.ts'
import * as denseCode from './dense.ts'
import * as engineState from './engine-state.ts'
import * as graphCode from './graph.ts'
import * as idTableCode from './id-table.ts'
import * as codecCode from './state-codec.ts'

/**
 * A fingerprint of the model and of the engine code that derives a state (FNV-1a, two seeds, over the
 * model's JSON and that code's text, `engineBuild()`): a state written for another model, or by an engine
 * whose graph, indexes, gates or encoding were built differently, is refused, and the engine loads from
 * rows. The code is read as the running build has it (one deployment's instances agree; the same sources
 * under another loader may differ, which costs a load from rows, never a wrong answer). `build` is for tests:
 * another build's text gives another fingerprint.
 */
export function stateFingerprint(model: Model, build: string = engineBuild()): string {
  const text = `${JSON.stringify(model)}\n${build}`
  let a = 0x811c9dc5
  let b = 0x01000193 ^ text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`
}

/**
 * The modules whose code derives a state: each exports every function, class and constant it declares, so
 * the fingerprint reads them all, helpers included (core's engine-state.test checks that each module's
 * top-level declarations are exported: a private helper deriving a gate or an index would escape it).
 */
const STATE_CODE = [
  graphCode,
  apply,
  orgChanges,
  resourceChanges,
  principalChanges,
  bindingChanges,
  changeSupport,
  bindingsCode,
  idTableCode,
  denseCode,
  accessCode,
  codecCode,
  engineState,
]

/** The text of the engine code a state depends on, as this build runs it (read once). */
export function engineBuild(): string {
  engineCode ??= STATE_CODE.flatMap(Object.values).map(codeText).join('\n')
  return engineCode
}
let engineCode: string | undefined

/** A function's or class's source; a constant's value (a table's layout, a hash's alphabet). */
const codeText = (value: unknown) =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
