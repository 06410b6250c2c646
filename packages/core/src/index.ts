export {
  Authorizer,
  type AuthorizerOptions,
  type CheckObserver,
  type ObservedCheck,
  type OrgTable,
} from './engine/authorizer.ts'
export type { Belonging } from './engine/belonging.ts'
export { CompiledModel, type RoleHandle } from './engine/compiled-model.ts'
export * from './engine/data.ts'
export { STATE_FORMAT, stateRevision } from './engine/engine-state.ts'
export type { ExplainFact, Explanation } from './engine/explain-facts.ts'
export { lacksRole, type ModelImpact, modelImpact } from './engine/impact.ts'
export { engineBuild, stateFingerprint } from './engine/state-fingerprint.ts'
export { ERRORS, type ErrorCode, type ErrorKind, isOrgkitError, OrgkitError } from './errors.ts'
export {
  formatProblems,
  type LocatedTest,
  type ModelFile,
  ModelFileError,
  type ModelFileProblem,
  parseModelFile,
} from './model/file/parse.ts'
export type { Position } from './model/file/positions.ts'
export type { Expectation, ModelTest, TestWorld } from './model/file/tests-schema.ts'
export { runModelTests, snapshotOf, type TestResult } from './model/file/world.ts'
export * from './model/model.ts'
export {
  type PresetPermission,
  type PresetPermissions,
  presets,
} from './model/presets/index.ts'
export { type ModelPath, type ModelProblem, modelProblems, validateModel } from './model/validate.ts'
export * as rules from './rules/index.ts'
