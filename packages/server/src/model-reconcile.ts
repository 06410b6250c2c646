import { type Model, OrgkitError, TEAM_ROLE } from '@orgkit/core'
import { appendAudit, type Db, modelRoles, recordChanges } from '@orgkit/store'
import type { Logger } from 'pino'

/**
 * Before an instance serves: every role a stored binding names must mean something under the model it
 * starts with (issue 23.3). A role the model dropped is moved where its `removedRoles` says — one
 * transaction, an audit entry per org, one change-feed row, so running instances follow — and without a
 * mapping the start is refused with the list (`orgkit model diff OLD NEW` shows it, and more, beforehand).
 */
export async function reconcileStoredRoles(db: Db, model: Model, clock: () => number, logger: Logger) {
  const known = [...Object.keys(model.roles), ...(model.teamLevels ? [TEAM_ROLE] : [])]
  const outside = await modelRoles.bindingsOutside(db, known)
  if (outside.length === 0) return
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
      const byOrg = new Map<string, { id: string }[]>()
      for (const b of moved.value) byOrg.set(b.org_id, [...(byOrg.get(b.org_id) ?? []), b])
      for (const [orgId, rows] of byOrg)
        await appendAudit(
          tx,
          {
            orgId,
            actorType: 'platform',
            actorId: null,
            actorVia: null,
            action: 'binding.role_moved',
            targetType: 'role',
            targetId: role,
            before: { role, bindings: rows.map((r) => r.id) },
            after: { role: target(role), model: model.name },
            ip: null,
            userAgent: null,
            requestId: null,
          },
          now,
        )
      logger.warn(
        { role, to: target(role), bindings: moved.value.length },
        'model: bindings of a removed role moved',
      )
    }
    if (changes.length > 0) await recordChanges(tx, changes)
  })
}
