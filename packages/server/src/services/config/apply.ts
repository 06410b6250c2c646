import { ORG, type RoleHandle } from '@orgkit/core'
import type { EngineReplica } from '../../engine-replica.ts'
import { createBinding, deleteBinding, updateBindingRole } from '../bindings.ts'
import {
  type Actor,
  authorize,
  type Ctx,
  type RequestMeta,
  requireOrg,
  type Work,
  write,
} from '../context.ts'
import { createGroup, deleteGroup, putGroupMember, removeGroupMember, updateGroup } from '../groups.ts'
import { putOverride } from '../overrides.ts'
import { createRole, deleteRole, updateRole } from '../roles.ts'
import { putSecurity } from '../security.ts'
import type { ConfigChange, ConfigDocument } from './document.ts'
import { changesOf, type Plan, planConfig, type Step } from './plan.ts'
import { readOrgState, toDocument } from './state.ts'

/** `orgkit export`: the org's groups, custom roles, bindings, overrides and security policy, by name. */
export async function exportConfig(ctx: Ctx, actor: Actor, orgId: string): Promise<ConfigDocument> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_access', { type: ORG, id: orgId })
  return toDocument(await readOrgState(ctx, ctx.db, orgId))
}

/** Thrown to roll a plan's dry run back once every service has accepted its step. */
class DryRun {
  constructor(readonly changes: ConfigChange[]) {}
}

/**
 * What apply would change: the same run as apply — every name resolved, every step through its service,
 * with the services' refusals (rank, last owner, plan limits) — rolled back at the end.
 */
export async function planOrgConfig(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  doc: ConfigDocument,
): Promise<{ changes: ConfigChange[] }> {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_access', { type: ORG, id: orgId })
  try {
    await write(ctx, actor, meta, orgId, async (work) => {
      throw new DryRun(await runConfig(ctx, actor, meta, orgId, work, doc))
    })
  } catch (error) {
    if (error instanceof DryRun) return { changes: error.changes }
    throw error
  }
  throw new Error('unreachable: a dry run always rolls back')
}

/**
 * Makes the org what the document says, in one transaction: each change through the use case the API
 * calls for it, with its checks and audit entry. A document the org already matches changes nothing and
 * writes nothing (apply twice: the second is a no-op).
 */
export async function applyOrgConfig(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  doc: ConfigDocument,
): Promise<{ result: { changes: ConfigChange[] }; revision: number }> {
  requireOrg(ctx, actor, orgId)
  // Whoever overwrites the org's access reads it first; each change then meets its own use case's checks.
  authorize(ctx, actor, 'org.read_access', { type: ORG, id: orgId })
  const { result, revision } = await write(ctx, actor, meta, orgId, (work) =>
    runConfig(ctx, actor, meta, orgId, work, doc),
  )
  return { result: { changes: result }, revision }
}

async function runConfig(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  work: Work,
  doc: ConfigDocument,
): Promise<ConfigChange[]> {
  const plan = await planConfig(ctx, work.tx, orgId, await readOrgState(ctx, work.tx, orgId), doc)
  const pending = new Map<string, RoleHandle>()
  const joined: Ctx = {
    ...ctx,
    db: work.tx,
    engine: withRoles(ctx, orgId, pending),
    within: { orgId, work },
  }
  for (const step of plan.steps) await runStep(joined, actor, meta, orgId, plan, doc, step, pending)
  return changesOf(plan)
}

/**
 * The engine as the joined use cases see it: the instance's, except that roles this document defines or
 * redefines mean what the document says — the engine itself learns them only when the write commits.
 */
function withRoles(ctx: Ctx, orgId: string, pending: Map<string, RoleHandle>): EngineReplica {
  const real = ctx.engine.authorizer
  const authorizer: typeof real = Object.create(real)
  authorizer.role = (key, org) => (org === orgId ? pending.get(key) : undefined) ?? real.role(key, org)
  const engine: EngineReplica = Object.create(ctx.engine)
  Object.defineProperty(engine, 'authorizer', { value: authorizer })
  return engine
}

async function runStep(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  plan: Plan,
  doc: ConfigDocument,
  step: Step,
  pending: Map<string, RoleHandle>,
): Promise<void> {
  const person = (email: string) => plan.people.get(email.toLowerCase())!
  const group = (name: string) => plan.groupIds.get(name)!
  const principal = (p: { user?: string | undefined; group?: string | undefined }) =>
    p.user !== undefined
      ? { type: 'user' as const, id: person(p.user) }
      : { type: 'group' as const, id: group(p.group!) }
  switch (step.kind) {
    case 'settings':
      await putSecurity(ctx, actor, meta, orgId, doc.settings!)
      return
    case 'role': {
      const { key, scope, ...fields } = step.role
      if (step.action === 'create') await createRole(ctx, actor, meta, orgId, step.role)
      else if (step.action === 'update') await updateRole(ctx, actor, meta, orgId, key, fields)
      else return void (await deleteRole(ctx, actor, meta, orgId, key, {}))
      const handle = ctx.compiled.newRoleHandle(key, orgId)
      ctx.compiled.fillRole(handle, scope, fields.slot, fields.permissions, fields.priority)
      pending.set(key, { ...handle, live: true })
      return
    }
    case 'group': {
      const { name, description, level } = step.group
      const role = level === undefined ? {} : { role: level }
      if (step.action === 'create') {
        const created = await createGroup(ctx, actor, meta, orgId, { name, description, ...role })
        plan.groupIds.set(name, created.result.id)
      } else if (step.action === 'update')
        await updateGroup(ctx, actor, meta, orgId, group(name), { description, ...role })
      else await deleteGroup(ctx, actor, meta, orgId, group(name))
      return
    }
    case 'groupMember':
      if (step.action === 'create')
        await putGroupMember(ctx, actor, meta, orgId, group(step.group), person(step.email), {})
      else await removeGroupMember(ctx, actor, meta, orgId, group(step.group), person(step.email))
      return
    case 'binding':
      if (step.action === 'delete') await deleteBinding(ctx, actor, meta, orgId, step.id)
      else if (step.action === 'update')
        await updateBindingRole(ctx, actor, meta, orgId, step.id, { role: step.role })
      else {
        const { binding } = step
        await createBinding(ctx, actor, meta, orgId, {
          principal: principal(binding),
          role: binding.role,
          resourceId: binding.on === undefined ? null : plan.resources.get(binding.on)!,
        })
      }
      return
    case 'override': {
      const { override } = step
      await putOverride(ctx, actor, meta, orgId, plan.resources.get(override.on)!, {
        principal: principal(override),
        permission: override.permission,
        effect: step.action === 'delete' ? 'default' : override.effect,
      })
      return
    }
  }
}
