import {
  type Authorizer,
  type Decision,
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
    const decision = alike(authorizer, subject, target, check(subject, permission, target))
    return { decision, revision: this.replica.revision }
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
    const explanation = authorizer.explain(subject, permission, target)
    const revision = this.replica.revision
    const decision = { allowed: explanation.allowed, reason: explanation.reason } as Decision
    if (alike(authorizer, subject, target, decision) === decision) return { ...explanation, revision }
    // Nothing the caller may not learn: the answer for an id that does not exist (issue 22.5).
    return { ...explanation, ...UNKNOWN, decidedBy: null, facts: [], revision }
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
    return alike(authorizer, q.subject, q.target, check(q.subject, q.permission, q.target))
  } catch (error) {
    if (error instanceof OrgkitError) return error
    throw error
  }
}

/** What a target that does not exist answers: no grant, as for any org one is not part of. */
const UNKNOWN: Decision = Object.freeze({ allowed: false, reason: 'no_grant' })

/**
 * A decision as the caller may see it (issue 22.5, SPEC 2: no id from another org is read): what an id that
 * does not exist answers — `no_grant` — unless the subject's person belongs to the target's org. The engine
 * tells an unknown target (`not_found`) and a foreign org's gate or a key's limits (`mfa_required`,
 * `password_policy`, `key_scope`) from a plain `no_grant`; here those become `no_grant` for whoever has
 * nothing there. Allowed and `no_grant` decisions — nearly all — pass after one comparison, so the hot path
 * pays nothing for it; an unknown subject stays `not_found` (only the platform, or a reader of the target's
 * org, may ask about another subject).
 */
function alike<D extends Decision>(
  authorizer: Authorizer,
  subject: Subject,
  target: Target,
  decision: D,
): D | Decision {
  if (decision.allowed || decision.reason === 'no_grant') return decision
  switch (decision.reason) {
    case 'not_found':
      return authorizer.orgOf(target) === null ? UNKNOWN : decision
    case 'mfa_required':
    case 'password_policy':
    case 'key_scope': {
      const orgId = authorizer.orgOf(target)
      return orgId !== null && authorizer.personBelongs(subject, orgId) ? decision : UNKNOWN
    }
    default:
      return decision
  }
}
