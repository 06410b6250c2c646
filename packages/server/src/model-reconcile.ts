import { type Model, OrgkitError, TEAM_ROLE } from '@orgkit/core'
import { appendAudit, type Db, type FeedMac, modelRoles, recordChanges } from '@orgkit/store'
import type { Logger } from 'pino'
import { enqueueEvent } from './webhooks/outbox.ts'

/**
 * Before an instance serves: every role a stored binding names must mean something under the model it
 * starts with (issue 23.3). A role the model dropped is moved where its `removedRoles` says — one
 * transaction, an audit entry per org, one change-feed row, so running instances follow — and without a
 * mapping the start is refused with the list (`orgkit model diff OLD NEW` shows it, and more, beforehand).
 * Whether it moved any.
 */
export async function reconcileStoredRoles(
  db: Db,
  feedMac: FeedMac,
  model: Model,
  clock: () => number,
  logger: Logger,
): Promise<boolean> {
  const known = [...Object.keys(model.roles), ...(model.teamLevels ? [TEAM_ROLE] : [])]
  const outside = await modelRoles.bindingsOutside(db, known)
  if (outside.length === 0) return false
  const target = (role: string) => model.removedRoles?.[role]
  const unmapped = outside.filter((o) => !target(o.role))
  const badTargets = outside.filter((o) => target(o.role) && !model.roles[target(o.role)!])
  if (unmapped.length > 0 || badTargets.length > 0) {
    const list = [...unmapped, ...badTargets].map(
      (o) =>
        `${o.role} (${o.bindings} binding(s) in ${o.orgs} org(s))${target(o.role) ? ` → ${target(o.role)}, which the model lacks` : ''}`,
    )
    throw new OrgkitError(
      'INVALID_MODEL',
      `model "${model.name}" lacks roles stored bindings hold: ${list.join('; ')}. Say where they go in the model's removedRoles (old_role: new_role), or keep the roles`,
      { field: 'ORGKIT_MODEL', orphaned: unmapped, unknownTargets: badTargets.map((o) => target(o.role)) },
    )
  }
  await db.transaction().execute(async (tx) => {
    const changes = []
    const now = new Date(clock())
    for (const { role } of outside) {
      const moved = await modelRoles.moveRole(tx, role, target(role)!)
      changes.push(...moved.changes)
      // Each binding changed role in place: its own `binding.updated` entry and webhook event, as the API's.
      for (const b of moved.value) {
        const entry = await appendAudit(
          tx,
          {
            orgId: b.org_id,
            actorType: 'platform',
            actorId: null,
            actorVia: null,
            action: 'binding.updated',
            targetType: 'binding',
            targetId: b.id,
            before: { role },
            after: { role: target(role), movedBy: `model ${model.name}: removedRoles` },
            ip: null,
            userAgent: null,
            requestId: null,
          },
          now,
        )
        await enqueueEvent(tx, entry, now)
      }
      logger.warn(
        { role, to: target(role), bindings: moved.value.length },
        'model: bindings of a removed role moved',
      )
    }
    if (changes.length > 0) await recordChanges(tx, changes, feedMac)
  })
  return true
}
