import {
  type CheckObserver,
  type Decision,
  type Id,
  OrgkitError,
  type Subject,
  type Target,
} from '@orgkit/core'

/** A question of the authorization API: may `subject` do `permission` on `target`? */
export interface Question {
  subject: Subject
  permission: string
  target: Target
  /**
   * The caller, when it asks about someone else: it must hold `org.read_access` in the org the target lives
   * in, or the answer is FORBIDDEN (SPEC 6). Null when it asks about itself, or is the platform.
   */
  askedBy: Subject | null
}

/** A question's decision, or the catalogued error that refused it (an unknown permission, FORBIDDEN…). */
export type Answer = Decision | OrgkitError

/**
 * Who answers a request's authorization questions: this instance's engine (engine-decider.ts), or, when the
 * engine has not reached the revision the client asks for, the database (sql-decider.ts: the SQL evaluator,
 * the same rules) from a snapshot that holds it. Chosen once per request (deciders.ts); the use cases
 * (check.ts) are written once against it. Both answer the same: check.fallback.test.ts asks both.
 */
export interface Decider {
  /** The question's decision and the revision it holds; throws the error that refuses it. */
  check(question: Question): Promise<{ decision: Decision; revision: number }>
  /** A batch: each question's answer, in order, and the revision they all hold. */
  checkMany(questions: readonly Question[]): Promise<{ answers: Answer[]; revision: number }>
  /** The ids of `type` the subject may do `permission` on (in no particular order), and their revision. */
  listResources(subject: Subject, permission: string, type: string): Promise<{ ids: Id[]; revision: number }>
}

/**
 * What the engine decider tells of the checks it answers (usage metering, billing/usage-meter.ts): each
 * decision, through the engine's own observed check, and the start of each request's checks.
 */
export interface DecisionObserver extends CheckObserver {
  /** Before a request's checks are answered: one clock read per request, never one per check. */
  beforeChecks(): void
}

export const cannotAskAboutOthers = () =>
  new OrgkitError('FORBIDDEN', "checking someone else's access needs org.read_access", {
    permission: 'org.read_access',
  })
