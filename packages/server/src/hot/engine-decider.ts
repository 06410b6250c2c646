import {
  type Authorizer,
  type Explanation,
  type Id,
  type ObservedCheck,
  ORG,
  OrgkitError,
  type Subject,
  type Target,
} from '@orgkit/core'
import type { EngineReplica } from '../engine-replica.ts'
import {
  type Answer,
  cannotAskAboutOthers,
  type Decider,
  type DecisionObserver,
  type Question,
} from './decider.ts'

/**
 * This instance's engine as a decider: answers from memory, at the revision the replica has applied. Its
 * checks are the engine's observed check (`Authorizer.observedBy`), so the observer given here — the usage
 * meter — sees each one; the `org.read_access` rule a question's `askedBy` must pass is the server's own
 * authorization, told to no one. Nothing here allocates per check, nor reads a clock.
 */
export class EngineDecider implements Decider {
  /** The engine `observed` was made for: a reload replaces the engine, and then it is made anew. */
  private observedOn: Authorizer | null = null
  private observed: ObservedCheck | null = null

  constructor(
    private readonly replica: EngineReplica,
    private readonly observer: DecisionObserver,
  ) {}

  async check({ subject, permission, target, askedBy }: Question) {
    const authorizer = this.replica.authorizer
    if (askedBy !== null && !readsAccess(authorizer, askedBy, target)) throw cannotAskAboutOthers()
    const check = this.observedCheck(authorizer)
    this.observer.beforeChecks()
    return { decision: check(subject, permission, target), revision: this.replica.revision }
  }

  async checkMany(questions: readonly Question[]): Promise<{ answers: Answer[]; revision: number }> {
    const authorizer = this.replica.authorizer
    const check = this.observedCheck(authorizer)
    this.observer.beforeChecks()
    const answers: Answer[] = new Array(questions.length)
    for (let i = 0; i < questions.length; i++) answers[i] = answer(authorizer, check, questions[i]!)
    return { answers, revision: this.replica.revision }
  }

  async listResources(subject: Subject, permission: string, type: string) {
    const ids = this.replica.authorizer.listResources(subject, permission, type)
    return { ids, revision: this.replica.revision }
  }

  /** Why the question's answer is what it is; throws what `check` would answer as an error. */
  explain({ subject, permission, target, askedBy }: Question): Explanation & { revision: number } {
    const authorizer = this.replica.authorizer
    if (askedBy !== null && !readsAccess(authorizer, askedBy, target)) throw cannotAskAboutOthers()
    return { ...authorizer.explain(subject, permission, target), revision: this.replica.revision }
  }

  /** Every user who may do `permission` on `target` (in no particular order). */
  listPrincipals(permission: string, target: Target): { users: Id[]; revision: number } {
    return {
      users: this.replica.authorizer.listPrincipals(permission, target),
      revision: this.replica.revision,
    }
  }

  /** Whether `subject` holds `org.read_access` in the org `target` lives in (false when there is none). */
  readsAccess(subject: Subject, target: Target): boolean {
    return readsAccess(this.replica.authorizer, subject, target)
  }

  private observedCheck(authorizer: Authorizer): ObservedCheck {
    if (this.observedOn !== authorizer) {
      this.observed = authorizer.observedBy(this.observer)
      this.observedOn = authorizer
    }
    return this.observed!
  }
}

function readsAccess(authorizer: Authorizer, subject: Subject, target: Target): boolean {
  const orgId = authorizer.orgOf(target)
  return orgId !== null && authorizer.check(subject, 'org.read_access', { type: ORG, id: orgId }).allowed
}

function answer(authorizer: Authorizer, check: ObservedCheck, q: Question): Answer {
  try {
    if (q.askedBy !== null && !readsAccess(authorizer, q.askedBy, q.target)) return cannotAskAboutOthers()
    return check(q.subject, q.permission, q.target)
  } catch (error) {
    if (error instanceof OrgkitError) return error
    throw error
  }
}
