import { type Changed, changed } from './changed.ts'
import type { Executor, Tx } from './database.ts'
import { toBindingRecord } from './snapshot.ts'

/**
 * Bindings naming a role that is neither one of `modelRoles` nor a custom role of the binding's org: what
 * a model change would orphan (issue 23.3). By role: how many bindings, in how many orgs.
 */
export async function bindingsOutside(
  db: Executor,
  modelRoles: readonly string[],
): Promise<{ role: string; bindings: number; orgs: number }[]> {
  let query = db
    .selectFrom('bindings')
    .leftJoin('custom_roles', (join) =>
      join
        .onRef('custom_roles.org_id', '=', 'bindings.org_id')
        .onRef('custom_roles.key', '=', 'bindings.role'),
    )
    .where('custom_roles.key', 'is', null)
  if (modelRoles.length > 0) query = query.where('bindings.role', 'not in', modelRoles)
  const rows = await query
    .select((eb) => [
      'bindings.role',
      eb.fn.countAll<string>().as('bindings'),
      eb.fn.count<string>('bindings.org_id').distinct().as('orgs'),
    ])
    .groupBy('bindings.role')
    .orderBy('bindings.role')
    .execute()
  return rows.map((r) => ({ role: r.role, bindings: Number(r.bindings), orgs: Number(r.orgs) }))
}

/** Moves every binding of `from` (where no custom role of that key exists in its org) to `to`, in place. */
export async function moveRole(
  tx: Tx,
  from: string,
  to: string,
): Promise<Changed<{ id: string; org_id: string }[]>> {
  const rows = await tx
    .updateTable('bindings')
    .set({ role: to })
    .where('role', '=', from)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('custom_roles')
            .select('custom_roles.key')
            .whereRef('custom_roles.org_id', '=', 'bindings.org_id')
            .where('custom_roles.key', '=', from),
        ),
      ),
    )
    .returningAll()
    .execute()
  return changed(
    rows.map((r) => ({ id: r.id, org_id: r.org_id })),
    rows.map((row) => ({ op: 'binding.put' as const, binding: toBindingRecord(row) })),
  )
}
