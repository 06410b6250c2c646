import type { BindingTable } from './bindings.ts'
import type { CompiledModel, RoleHandle } from './compiled-model.ts'
import type { DenseIndex } from './dense.ts'
import type { OrgNode } from './nodes.ts'

/**
 * The graph as evaluation (access.ts, evaluate.ts) sees it: what a decision reads, and the dense index,
 * into which a check that finds a user's access index stale writes the rebuilt one. `Graph` (graph.ts),
 * which applies changes, is the one implementation. Evaluation depends on this, not on that, so the
 * engine's modules read top-down without a circle: data (data.ts, decisions.ts) → structures (nodes,
 * id tables, bindings, dense index) → evaluation (access, evaluate) → graph mutation → authorizer.
 */
export interface GraphView {
  readonly compiled: CompiledModel
  readonly bindings: BindingTable
  readonly dense: DenseIndex
  /** Bumped by changes that can stale many users' access indexes at once (graph.ts). */
  readonly epoch: number
  /** A role key as a binding at `org` means it: the model's role, or that org's custom role. */
  roleFor(key: string, org: OrgNode): RoleHandle | undefined
}
