import { type Decision, type Explanation, ORG, OrgkitError, type Subject, type Target } from '@orgkit/core'
import { currentRevision, type Executor, sqlEvaluator } from '@orgkit/store'
import { type Actor, type Ctx, can, subjectOf } from './context.ts'

/**
 * How long a check, a batch or a list waits for this instance's engine to reach its `atLeastRevision`;
 * past that the database answers (the SQL evaluator, same rules), from a snapshot that holds the revision.
 */
export const REPLICA_WAIT_MS = 50

/** `{type, id}` or `{org: id}` (SPEC 6). */
export type ResourceInput = { type: string; id: string } | { org: string }

export const toTarget = (resource: ResourceInput): Target =>
  'org' in resource ? { type: ORG, id: resource.org } : { type: resource.type, id: resource.id }

/**
 * Whose decision is asked: the caller's own when no subject is given; someone else's only with a platform
 * token, or with `org.read_access` in the org the target lives in (SPEC 6).
 */
function subjectFor(ctx: Ctx, actor: Actor, subject: Subject | undefined, target: Target | null): Subject {
  const self = subjectOf(actor)
  if (subject === undefined) {
    if (self === null)
      throw new OrgkitError('VALIDATION_FAILED', 'a platform token names the subject', { field: 'subject' })
    return self
  }
  if (self === null || (self.type === subject.type && self.id === subject.id)) return subject
  const orgId = target === null ? null : ctx.engine.authorizer.orgOf(target)
  if (orgId !== null && can(ctx, actor, 'org.read_access', { type: ORG, id: orgId })) return subject
  throw new OrgkitError('FORBIDDEN', "checking someone else's access needs org.read_access", {
    permission: 'org.read_access',
  })
}

/**
 * Answers from the database when this instance's engine is behind: one repeatable-read snapshot that holds
 * `revision`. If even the database has not committed it, the client's token is from nowhere we know of
 * (another database, or a rolled-back write): REVISION_NOT_REACHED, as before.
 */
function fromDatabase<T>(
  ctx: Ctx,
  revision: number,
  run: (tx: Executor) => Promise<T>,
): Promise<{ value: T; revision: number }> {
  return ctx.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      const seen = reachedIn(await currentRevision(tx), revision)
      return { value: await run(tx), revision: seen }
    })
}

/** Whether the caller asks about itself, or is the platform (then nothing else needs deciding first). */
function asksForItself(actor: Actor, subject: Subject | undefined): boolean {
  const self = subjectOf(actor)
  return subject === undefined || self === null || (self.type === subject.type && self.id === subject.id)
}

/** The revision a database answer was read at, or REVISION_NOT_REACHED when it is older than asked for. */
function reachedIn(seen: number, revision: number): number {
  if (seen < revision) {
    throw new OrgkitError('REVISION_NOT_REACHED', `revision ${revision} is not committed`, {
      revision,
      applied: seen,
    })
  }
  return seen
}

/** `subjectFor`, with the database deciding whether the caller may ask about someone else. */
async function subjectForInDatabase(
  ctx: Ctx,
  tx: Executor,
  actor: Actor,
  subject: Subject | undefined,
  target: Target | null,
): Promise<Subject> {
  if (subject === undefined || asksForItself(actor, subject)) return subjectFor(ctx, actor, subject, null)
  const self = subjectOf(actor)!
  const orgId = target === null ? null : await sqlEvaluator.orgOf(tx, target)
  const org = { type: ORG, id: orgId ?? '' }
  if (
    orgId !== null &&
    (await sqlEvaluator.check(tx, ctx.compiled, self, 'org.read_access', org, { now: ctx.clock() })).allowed
  )
    return subject
  throw new OrgkitError('FORBIDDEN', "checking someone else's access needs org.read_access", {
    permission: 'org.read_access',
  })
}

export async function check(
  ctx: Ctx,
  actor: Actor,
  input: {
    subject?: Subject | undefined
    permission: string
    resource: ResourceInput
    atLeastRevision?: number | undefined
  },
): Promise<Decision & { revision: number }> {
  const target = toTarget(input.resource)
  if (!(await ctx.engine.reached(input.atLeastRevision, REPLICA_WAIT_MS))) {
    if (asksForItself(actor, input.subject)) {
      // One statement: the decision and the revision its snapshot holds.
      const subject = subjectFor(ctx, actor, input.subject, null)
      const now = ctx.clock()
      const { decision, revision } = await sqlEvaluator.checkWithRevision(
        ctx.db,
        ctx.compiled,
        subject,
        input.permission,
        target,
        { now },
      )
      return { ...decision, revision: reachedIn(revision, input.atLeastRevision!) }
    }
    return fromDatabase(ctx, input.atLeastRevision!, async (tx) => {
      const subject = await subjectForInDatabase(ctx, tx, actor, input.subject, target)
      return sqlEvaluator.check(tx, ctx.compiled, subject, input.permission, target, { now: ctx.clock() })
    }).then(({ value, revision }) => ({ ...value, revision }))
  }
  const subject = subjectFor(ctx, actor, input.subject, target)
  ctx.billing.usage.beforeCounting()
  const decision = ctx.engine.authorizer.check(subject, input.permission, target, true)
  return { allowed: decision.allowed, reason: decision.reason, revision: ctx.engine.revision } as Decision & {
    revision: number
  }
}

export async function checkBatch(
  ctx: Ctx,
  actor: Actor,
  input: {
    /** Whom a check without a subject of its own is about (default: the caller). */
    subject?: Subject | undefined
    checks: { subject?: Subject | undefined; permission: string; resource: ResourceInput }[]
    atLeastRevision?: number | undefined
  },
) {
  if (!(await ctx.engine.reached(input.atLeastRevision, REPLICA_WAIT_MS))) {
    const { value, revision } = await fromDatabase(ctx, input.atLeastRevision!, async (tx) => {
      const results: { allowed: boolean; reason: string; error?: { code: string; detail: string } }[] = []
      for (const item of input.checks) {
        try {
          const target = toTarget(item.resource)
          const subject = await subjectForInDatabase(ctx, tx, actor, item.subject ?? input.subject, target)
          const decision = await sqlEvaluator.check(tx, ctx.compiled, subject, item.permission, target, {
            now: ctx.clock(),
          })
          results.push({ allowed: decision.allowed, reason: decision.reason })
        } catch (error) {
          if (!(error instanceof OrgkitError)) throw error
          results.push({
            allowed: false,
            reason: 'error',
            error: { code: error.code, detail: error.message },
          })
        }
      }
      return results
    })
    return { results: value, revision }
  }
  ctx.billing.usage.beforeCounting()
  const results = input.checks.map((item) => {
    try {
      const target = toTarget(item.resource)
      const decision = ctx.engine.authorizer.check(
        subjectFor(ctx, actor, item.subject ?? input.subject, target),
        item.permission,
        target,
        true,
      )
      return { allowed: decision.allowed, reason: decision.reason as string }
    } catch (error) {
      if (error instanceof OrgkitError)
        return { allowed: false, reason: 'error', error: { code: error.code, detail: error.message } }
      throw error
    }
  })
  return { results, revision: ctx.engine.revision }
}

export async function explain(
  ctx: Ctx,
  actor: Actor,
  input: {
    subject?: Subject | undefined
    permission: string
    resource: ResourceInput
    atLeastRevision?: number | undefined
  },
): Promise<Explanation & { revision: number }> {
  await ctx.engine.atLeast(input.atLeastRevision)
  const target = toTarget(input.resource)
  const subject = subjectFor(ctx, actor, input.subject, target)
  return {
    ...ctx.engine.authorizer.explain(subject, input.permission, target),
    revision: ctx.engine.revision,
  }
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
) {
  if (!(await ctx.engine.reached(input.atLeastRevision, REPLICA_WAIT_MS))) {
    const subject = subjectFor(ctx, actor, input.subject, null)
    const { ids, revision } = await sqlEvaluator.listResourcesWithRevision(
      ctx.db,
      ctx.compiled,
      subject,
      input.permission,
      input.type,
      { now: ctx.clock() },
    )
    return { ids: ids.sort(), revision: reachedIn(revision, input.atLeastRevision!) }
  }
  const subject = subjectFor(ctx, actor, input.subject, null)
  const ids = ctx.engine.authorizer.listResources(subject, input.permission, input.type).sort()
  return { ids, revision: ctx.engine.revision }
}

/** Who may do X on R: a platform token, or `org.read_access` in R's org. */
export async function listPrincipals(
  ctx: Ctx,
  actor: Actor,
  input: { permission: string; resource: ResourceInput; atLeastRevision?: number | undefined },
) {
  await ctx.engine.atLeast(input.atLeastRevision)
  const target = toTarget(input.resource)
  if (subjectOf(actor) !== null) {
    const orgId = ctx.engine.authorizer.orgOf(target)
    if (orgId === null || !can(ctx, actor, 'org.read_access', { type: ORG, id: orgId })) {
      // Validate the permission first: a typo is a client error, not a silent empty list.
      ctx.compiled.permissionFor(input.permission, target.type)
      throw new OrgkitError('FORBIDDEN', 'listing who has access needs org.read_access', {
        permission: 'org.read_access',
      })
    }
  }
  const userIds = ctx.engine.authorizer.listPrincipals(input.permission, target).sort()
  return { users: userIds, revision: ctx.engine.revision }
}
