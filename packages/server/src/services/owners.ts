import { OrgkitError } from '@orgkit/core'
import { members, type Tx } from '@orgkit/store'
import type { Ctx } from './context.ts'

/**
 * SPEC 2's last owner, asked around the write inside its transaction (which holds the org lock): whichever
 * way a change takes ownership — a person's binding, a group's role, a group's membership — the org keeps
 * one active member holding an owner role, counted directly and through groups alike (seed 003's Owners
 * team, seed 002's ADMIN). Take the count before the write and call `after` once it is done: throwing
 * there rolls the write back, so two concurrent demotions of the last two owners can't both commit.
 */
export async function guardOwners(ctx: Ctx, tx: Tx, orgId: string) {
  const before = await members.activeOwnerIds(tx, orgId, ctx.model.org.ownerRoles)
  return {
    before,
    async after(userId?: string | null) {
      if (before.size === 0) return
      if ((await members.activeOwnerIds(tx, orgId, ctx.model.org.ownerRoles)).size > 0) return
      throw new OrgkitError('LAST_OWNER', 'an organization needs at least one owner: this is the last one', {
        ...(userId && { userId }),
      })
    },
  }
}
