import { type CompiledModel, type Decision, ORG, OrgkitError, type Subject, type Target } from '@orgkit/core'
import { type Db, type Executor, sqlEvaluator } from '@orgkit/store'
import { type Answer, cannotAskAboutOthers, type Decider, type Question } from './decider.ts'

/**
 * The database as a decider, for a request whose `atLeastRevision` this instance's engine has not reached
 * in time: the SQL evaluator (the engine's rules in one statement, store/sql-evaluator.ts) reading a
 * snapshot that holds `revision`. If even the database has not committed it, the client's revision is from
 * nowhere we know of (another database, or a rolled-back write): REVISION_NOT_REACHED. Its checks are not
 * metered (usage counts what the engine answers).
 */
export class SqlDecider implements Decider {
  constructor(
    private readonly db: Db,
    private readonly compiled: CompiledModel,
    private readonly clock: () => number,
    private readonly revision: number,
  ) {}

  async check(q: Question): Promise<{ decision: Decision; revision: number }> {
    const now = this.clock()
    const askedBy = q.askedBy
    if (askedBy === null) {
      // One statement: the decision and the revision its snapshot holds.
      const { decision, revision } = await sqlEvaluator.checkWithRevision(
        this.db,
        this.compiled,
        q.subject,
        q.permission,
        q.target,
        { now },
      )
      return { decision: await unknownAlike(this.db, q.target, decision), revision: this.reached(revision) }
    }
    const { value, revision } = await sqlEvaluator.inSnapshot(this.db, async (tx, seen) => {
      this.reached(seen)
      if (!(await this.readsAccess(tx, askedBy, q.target, now))) throw cannotAskAboutOthers()
      const decision = await sqlEvaluator.check(tx, this.compiled, q.subject, q.permission, q.target, { now })
      return unknownAlike(tx, q.target, decision)
    })
    return { decision: value, revision }
  }

  async checkMany(questions: readonly Question[]): Promise<{ answers: Answer[]; revision: number }> {
    const now = this.clock()
    const { value, revision } = await sqlEvaluator.inSnapshot(this.db, async (tx, seen) => {
      this.reached(seen)
      const answers: Answer[] = []
      for (const question of questions) answers.push(await this.answer(tx, question, now))
      return answers
    })
    return { answers: value, revision }
  }

  async listResources(subject: Subject, permission: string, type: string) {
    const { ids, revision } = await sqlEvaluator.listResourcesWithRevision(
      this.db,
      this.compiled,
      subject,
      permission,
      type,
      { now: this.clock() },
    )
    return { ids, revision: this.reached(revision) }
  }

  private async answer(tx: Executor, q: Question, now: number): Promise<Answer> {
    try {
      if (q.askedBy !== null && !(await this.readsAccess(tx, q.askedBy, q.target, now)))
        return cannotAskAboutOthers()
      const decision = await sqlEvaluator.check(tx, this.compiled, q.subject, q.permission, q.target, { now })
      return await unknownAlike(tx, q.target, decision)
    } catch (error) {
      if (error instanceof OrgkitError) return error
      throw error
    }
  }

  /** Whether `subject` holds `org.read_access` in the org `target` lives in (false when there is none). */
  private async readsAccess(tx: Executor, subject: Subject, target: Target, now: number): Promise<boolean> {
    const orgId = await sqlEvaluator.orgOf(tx, target)
    if (orgId === null) return false
    const org = { type: ORG, id: orgId }
    return (await sqlEvaluator.check(tx, this.compiled, subject, 'org.read_access', org, { now })).allowed
  }

  /** `seen`, the revision a snapshot holds, unless it is older than the one asked for. */
  private reached(seen: number): number {
    if (seen < this.revision) {
      throw new OrgkitError('REVISION_NOT_REACHED', `revision ${this.revision} is not committed`, {
        revision: this.revision,
        applied: seen,
      })
    }
    return seen
  }
}

const UNKNOWN: Decision = Object.freeze({ allowed: false, reason: 'no_grant' })

/** A target that does not exist answers `no_grant`, as a foreign one does (issue 22.5; engine-decider.ts). */
async function unknownAlike(db: Executor, target: Target, decision: Decision): Promise<Decision> {
  if (decision.reason !== 'not_found') return decision
  return (await sqlEvaluator.orgOf(db, target)) === null ? UNKNOWN : decision
}
