import type { CompiledModel } from '@orgkit/core'
import type { Db } from '@orgkit/store'
import type { EngineReplica } from '../engine-replica.ts'
import type { Decider, DecisionObserver } from './decider.ts'
import { EngineDecider } from './engine-decider.ts'
import { SqlDecider } from './sql-decider.ts'

/**
 * How long a check, a batch or a list waits for this instance's engine to reach its `atLeastRevision`;
 * past that the database answers (the SQL evaluator, same rules), from a snapshot that holds the revision.
 */
export const REPLICA_WAIT_MS = 50

/** The engine decider, and the choice between it and the database: made once, at start-up. */
export class Deciders {
  readonly engine: EngineDecider
  private readonly replica: EngineReplica

  constructor(
    private readonly deps: {
      replica: EngineReplica
      db: Db
      compiled: CompiledModel
      clock: () => number
      /** Told of every check the engine answers for the authorization API (not of the server's own). */
      observer: DecisionObserver
    },
  ) {
    this.replica = deps.replica
    this.engine = new EngineDecider(deps.replica, deps.observer)
  }

  /**
   * The engine, when it has applied `atLeastRevision` or catches up to it within `REPLICA_WAIT_MS`; else
   * the database, at a snapshot holding that revision (REVISION_NOT_REACHED if it never committed it).
   */
  async choose(atLeastRevision: number | undefined): Promise<Decider> {
    if (await this.replica.reached(atLeastRevision, REPLICA_WAIT_MS)) return this.engine
    const { db, compiled, clock } = this.deps
    return new SqlDecider(db, compiled, clock, atLeastRevision!)
  }

  /**
   * The engine, once it has applied `atLeastRevision`, however long that takes: explanations and who-may
   * lists have no database answer (the SQL evaluator keeps no trace and no reverse index).
   */
  async engineAt(atLeastRevision: number | undefined): Promise<EngineDecider> {
    await this.replica.atLeast(atLeastRevision)
    return this.engine
  }
}
