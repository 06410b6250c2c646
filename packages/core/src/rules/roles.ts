import type { Id } from '../engine/data.ts'
import { OrgkitError } from '../errors.ts'
import type { Model } from '../model/model.ts'

/**
 * The invariants of SPEC 2 as pure functions. The service layer gathers the facts (inside the
 * transaction that holds the locks) and calls these; each throws a catalogued error or returns.
 */

/** A role as the rules see it: a model role or a custom one. */
export interface RoleFacts {
  key: string
  permissions: readonly string[]
  priority: number
}

/** What the actor holds where the change happens (from `Authorizer.permissionsAt` / `rankAt`). */
export interface ActorFacts {
  id: Id
  permissions: ReadonlySet<string>
  /** Highest priority among the actor's counted roles there; null with none. */
  rank: number | null
  /** Holds one of the model's owner roles at the org (directly or inherited). */
  isOwner: boolean
}

export const isOwnerRole = (model: Model, key: string | null | undefined): boolean =>
  key != null && model.org.ownerRoles.includes(key)

/**
 * No escalation (SPEC 2): the actor may grant a role only if it holds every permission of that role at
 * the scope, and the role does not outrank the actor's own.
 */
export function assertCanGrant(actor: ActorFacts, role: RoleFacts): void {
  const missing = role.permissions.filter((p) => !actor.permissions.has(p))
  if (missing.length > 0) {
    throw new OrgkitError(
      'ESCALATION',
      `granting "${role.key}" needs permissions you don't hold: ${missing.join(', ')}`,
      {
        role: role.key,
        missing,
      },
    )
  }
  if (actor.rank === null || role.priority > actor.rank) {
    throw new OrgkitError('RANK_TOO_LOW', `"${role.key}" ranks above your own role`, { role: role.key })
  }
}

/**
 * Changing someone's role at a scope (grant, change or revoke, `from`/`to` null for none): owner roles on
 * either side need an owner; the role taken away may not outrank the actor; the role given obeys
 * `assertCanGrant`.
 */
export function assertCanChangeRole(
  model: Model,
  actor: ActorFacts,
  from: RoleFacts | null,
  to: RoleFacts | null,
): void {
  if ((isOwnerRole(model, from?.key) || isOwnerRole(model, to?.key)) && !actor.isOwner) {
    throw new OrgkitError('OWNER_REQUIRED', 'only an owner can grant or revoke an owner role', {
      role: (isOwnerRole(model, to?.key) ? to : from)!.key,
    })
  }
  if (from && (actor.rank === null || from.priority > actor.rank)) {
    throw new OrgkitError('RANK_TOO_LOW', `"${from.key}" ranks above your own role`, { role: from.key })
  }
  if (to) assertCanGrant(actor, to)
}

/**
 * The creator's org role cannot be changed by others, nor can others remove the creator; ownership moves
 * only by an explicit transfer (SPEC 2, seed 001). The creator may change their own role, within the
 * last-owner rule.
 */
export function assertNotCreatorsRole(org: { creatorId?: Id | null }, actorId: Id, targetUserId: Id): void {
  if (org.creatorId != null && targetUserId === org.creatorId && actorId !== org.creatorId) {
    throw new OrgkitError(
      'CREATOR_ROLE_LOCKED',
      "the organization creator's role can't be changed by others",
      {
        userId: targetUserId,
      },
    )
  }
}

/**
 * An org always keeps one active member holding an owner role. `owners` are the active members holding
 * one directly at this org, read under lock; `rolesAfter` is what `userId` will hold (null: removed).
 */
export function assertKeepsOwner(
  model: Model,
  owners: ReadonlySet<Id>,
  userId: Id,
  rolesAfter: readonly string[] | null,
): void {
  if (!owners.has(userId)) return
  if (rolesAfter?.some((key) => isOwnerRole(model, key))) return
  if (owners.size <= 1) {
    throw new OrgkitError('LAST_OWNER', 'an organization needs at least one owner: this is the last one', {
      userId,
    })
  }
}

/** Owner roles are never time-bound: an expiring last owner would break the invariant silently. */
export function assertOwnerRoleHasNoExpiry(
  model: Model,
  roleKey: string,
  expiresAt: number | null | undefined,
): void {
  if (expiresAt != null && isOwnerRole(model, roleKey)) {
    throw new OrgkitError('OWNER_ROLE_NO_EXPIRY', `"${roleKey}" is an owner role and can't expire`, {
      role: roleKey,
    })
  }
}

/**
 * A slot that is not `multiple` holds one role per principal and scope: a second binding there is a
 * conflict (the caller replaces the role instead).
 */
export function assertSlotFree(
  model: Model,
  slot: string,
  heldInSlot: readonly string[],
  roleKey: string,
): void {
  const def = model.slots[slot]
  if (def && !def.multiple && heldInSlot.some((k) => k !== roleKey)) {
    throw new OrgkitError(
      'SLOT_TAKEN',
      `already holds "${heldInSlot[0]}" in slot "${slot}": change that role instead`,
      {
        slot,
        held: heldInSlot,
      },
    )
  }
}

/** An `allow` override gives a permission: the actor must hold it there itself. */
export function assertCanAllow(
  actor: ActorFacts,
  permission: string,
  effect: 'allow' | 'deny' | 'default',
): void {
  if (effect === 'allow' && !actor.permissions.has(permission)) {
    throw new OrgkitError('ESCALATION', `allowing "${permission}" needs that permission yourself`, {
      missing: [permission],
    })
  }
}

/**
 * An override changes what someone may do as surely as a role does: nobody sets, changes or clears one on a
 * person who ranks above them at that resource (an App Admin can't Deny the Super Admin a channel).
 */
export function assertOutranksOverridden(actor: ActorFacts, targetRank: number | null): void {
  if (targetRank === null) return
  if (actor.rank === null || targetRank > actor.rank) {
    throw new OrgkitError(
      'RANK_TOO_LOW',
      'this person ranks above you here: their overrides are not yours to set',
      {
        rank: targetRank,
      },
    )
  }
}

/**
 * Adding someone to a group grants them what the group's bindings give: the actor must be able to grant
 * each of those roles at its scope.
 */
export function assertCanAddToGroup(
  groupRoles: readonly { role: RoleFacts; actorAtScope: ActorFacts }[],
): void {
  for (const { role, actorAtScope } of groupRoles) assertCanGrant(actorAtScope, role)
}
