import { Authorizer, type CompiledModel, OrgkitError } from '@orgkit/core'
import { changesSince, type Db, type Executor, loadSnapshot } from '@orgkit/store'

/**
 * This instance's copy of the engine: a snapshot at some revision, then the change feed applied in
 * revision order. Writes call `catchUp` after they commit; `atLeast` makes a check wait for a revision a
 * client has seen (no "new enemy": a revoke is never answered from older state).
 */
export class EngineReplica {
  authorizer!: Authorizer
  revision = 0
  private catching: Promise<void> | null = null

  constructor(
    private readonly db: Db,
    private readonly compiled: CompiledModel,
    private readonly clock: () => number,
    private readonly onResync: (error: unknown, revision: number) => void = () => {},
  ) {}

  async load(): Promise<void> {
    await this.reloadWith(this.db)
  }

  private async reloadWith(executor: Executor): Promise<void> {
    const { revision, snapshot } = await loadSnapshot(executor)
    this.authorizer = new Authorizer(this.compiled, snapshot, { clock: this.clock })
    this.revision = revision
  }

  /** Applies every committed change after our revision. Concurrent callers share one pass. */
  catchUp(): Promise<void> {
    this.catching ??= this.pull().finally(() => {
      this.catching = null
    })
    return this.catching
  }

  /**
   * Catches up through a transaction's own connection. A write calls this once it holds its org's lock:
   * every earlier write to that org has committed by then, so what it authorizes against is current.
   */
  catchUpWithin(executor: Executor): Promise<void> {
    return this.pull(executor)
  }

  private async pull(executor: Executor = this.db): Promise<void> {
    for (;;) {
      const batch = await changesSince(executor, this.revision)
      for (const { revision, changes } of batch) {
        if (revision <= this.revision) continue // another pass applied it meanwhile
        try {
          this.authorizer.apply(changes)
        } catch (error) {
          // A committed change the graph refuses would wedge this replica for good: start over from a
          // fresh snapshot instead (it reflects the database, whatever the feed said), and say so.
          this.onResync(error, revision)
          await this.reloadWith(executor)
          return
        }
        this.revision = revision
      }
      if (batch.length < 1000) return
    }
  }

  /** Resolves once this replica has applied `revision`, catching up from the database if it has to. */
  async atLeast(revision: number | undefined): Promise<void> {
    if (revision === undefined || this.revision >= revision) return
    await this.catchUp()
    if (this.revision < revision) {
      // A revision we have not seen committed yet: one more pass after the current one.
      await this.catchUp()
    }
    if (this.revision < revision) {
      throw new OrgkitError('REVISION_NOT_REACHED', `revision ${revision} is not committed`, {
        revision,
        applied: this.revision,
      })
    }
  }
}
