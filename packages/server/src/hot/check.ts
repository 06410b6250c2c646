import { type Decision, type Explanation, ORG, OrgkitError, type Subject, type Target } from '@orgkit/core'
import { type Actor, type Ctx, subjectOf } from '../services/context.ts'
import { type Answer, cannotAskAboutOthers, type Question } from './decider.ts'

/** `{type, id}` or `{org: id}` (SPEC 6). */
export type ResourceInput = { type: string; id: string } | { org: string }

export const toTarget = (resource: ResourceInput): Target =>
  'org' in resource ? { type: ORG, id: resource.org } : { type: resource.type, id: resource.id }

/**
 * Whom a caller asks about: itself when no subject is given; someone else only with a platform token, or
 * with `org.read_access` in the org the target lives in — `askedBy`, which the decider holds it to (SPEC 6).
 */
function whoIsAsked(actor: Actor, subject: Subject | undefined): Pick<Question, 'subject' | 'askedBy'> {
  const self = subjectOf(actor)
  if (subject === undefined) {
    if (self === null)
      throw new OrgkitError(
        'VALIDATION_FAILED',
        'subject: required with a platform token (whose access is asked: {"type": "user", "id": …})',
        { field: 'subject' },
      )
    return { subject: self, askedBy: null }
  }
  const itself = self === null || (self.type === subject.type && self.id === subject.id)
  // Naming yourself is asking about yourself: with the request's own facts (Subject.mfa, issue 20).
  return { subject: self !== null && itself ? self : subject, askedBy: itself ? null : self }
}

const questionFor = (actor: Actor, subject: Subject | undefined, permission: string, target: Target) =>
  ({ ...whoIsAsked(actor, subject), permission, target }) satisfies Question

type CheckInput = {
  subject?: Subject | undefined
  permission: string
  resource: ResourceInput
  atLeastRevision?: number | undefined
}

export async function check(
  ctx: Ctx,
  actor: Actor,
  input: CheckInput,
): Promise<Decision & { revision: number }> {
  const decider = await ctx.deciders.choose(input.atLeastRevision)
  const question = questionFor(actor, input.subject, input.permission, toTarget(input.resource))
  const { decision, revision } = await decider.check(question)
  return { allowed: decision.allowed, reason: decision.reason, revision } as Decision & { revision: number }
}

type BatchResult = { allowed: boolean; reason: string; error?: { code: string; detail: string } }

const resultOf = (answer: Answer): BatchResult =>
  answer instanceof OrgkitError
    ? { allowed: false, reason: 'error', error: { code: answer.code, detail: answer.message } }
    : { allowed: answer.allowed, reason: answer.reason }

export async function checkBatch(
  ctx: Ctx,
  actor: Actor,
  input: {
    /** Whom a check without a subject of its own is about (default: the caller). */
    subject?: Subject | undefined
    checks: { subject?: Subject | undefined; permission: string; resource: ResourceInput }[]
    atLeastRevision?: number | undefined
  },
): Promise<{ results: BatchResult[]; revision: number }> {
  const decider = await ctx.deciders.choose(input.atLeastRevision)
  // Each check answers or errs on its own: one that can't even be asked is an error among the results.
  const asked = input.checks.map((item): Question | OrgkitError => {
    try {
      return questionFor(actor, item.subject ?? input.subject, item.permission, toTarget(item.resource))
    } catch (error) {
      if (error instanceof OrgkitError) return error
      throw error
    }
  })
  const questions = asked.filter((q): q is Question => !(q instanceof OrgkitError))
  const { answers, revision } = await decider.checkMany(questions)
  let next = 0
  const results = asked.map((q) => resultOf(q instanceof OrgkitError ? q : answers[next++]!))
  return { results, revision }
}

/** Why the decision is what it is. The engine answers, once it has the revision (no database fallback). */
export async function explain(
  ctx: Ctx,
  actor: Actor,
  input: CheckInput,
): Promise<Explanation & { revision: number }> {
  const decider = await ctx.deciders.engineAt(input.atLeastRevision)
  return decider.explain(questionFor(actor, input.subject, input.permission, toTarget(input.resource)))
}

/** Which resources of a type may the subject act on. Others' lists need a platform token. */
export async function listResources(
  ctx: Ctx,
  actor: Actor,
  input: {
    subject?: Subject | undefined
    permission: string
    type: string
    atLeastRevision?: number | undefined
  },
): Promise<{ ids: string[]; revision: number }> {
  const decider = await ctx.deciders.choose(input.atLeastRevision)
  const { subject, askedBy } = whoIsAsked(actor, input.subject)
  // A list spans orgs: no one org's read_access lets a caller list someone else's resources.
  if (askedBy !== null) throw cannotAskAboutOthers()
  const { ids, revision } = await decider.listResources(subject, input.permission, input.type)
  return { ids: ids.sort(), revision }
}

/** Who may do X on R: a platform token, or `org.read_access` in R's org. The engine answers. */
export async function listPrincipals(
  ctx: Ctx,
  actor: Actor,
  input: { permission: string; resource: ResourceInput; atLeastRevision?: number | undefined },
): Promise<{ users: string[]; revision: number }> {
  const decider = await ctx.deciders.engineAt(input.atLeastRevision)
  const target = toTarget(input.resource)
  const self = subjectOf(actor)
  if (self !== null && !decider.readsAccess(self, target)) {
    // Validate the permission first: a typo is a client error, not a silent empty list.
    ctx.compiled.permissionFor(input.permission, target.type)
    throw new OrgkitError('FORBIDDEN', 'listing who has access needs org.read_access', {
      permission: 'org.read_access',
    })
  }
  const { users, revision } = decider.listPrincipals(input.permission, target)
  return { users: users.sort(), revision }
}
