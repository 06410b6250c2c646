import type { BindingTable } from './bindings.ts'
import { NONE, type OrgNode, type UserNode } from './nodes.ts'

/**
 * How a person belongs to an org (SPEC 1.4), derived from the data and never stored: `member` (an active
 * membership, or a role at the org itself), `inherited` (an active member of an org above, where the model
 * has sub-orgs; seed 004), `external` (a live binding on one of the org's resources only, seed 002's blue
 * accounts and seed 001's app-only users, or through a group of the org). Policy gates don't enter here:
 * a gated member still belongs, and is told what to do by the checks that refuse them.
 */
export type Belonging = 'member' | 'inherited' | 'external'

const RANK: Record<Belonging, number> = { member: 3, inherited: 2, external: 1 }

/** Every org the user belongs to, with how. */
export function belongingOf(
  bindings: BindingTable,
  user: UserNode,
  subOrgs: boolean,
  now: number,
): Map<OrgNode, Belonging> {
  const found = new Map<OrgNode, Belonging>()
  const note = (org: OrgNode, how: Belonging) => {
    const was = found.get(org)
    if (was === undefined || RANK[how] > RANK[was]) found.set(org, how)
  }
  for (const org of user.orgs ?? []) {
    if (!org.active.has(user.id)) continue
    note(org, 'member')
    if (subOrgs) for (const below of descendants(org)) note(below, 'inherited')
  }
  for (let b = user.bindings; b !== NONE; b = bindings.pNext[b]!) {
    if (bindings.expiresAt[b]! <= now) continue
    const org = bindings.orgOf(b)
    note(org, bindings.scope[b] === org ? 'member' : 'external')
  }
  for (const { group } of user.groups.values()) {
    for (let b = group.bindings; b !== NONE; b = bindings.pNext[b]!) {
      if (bindings.expiresAt[b]! > now) {
        note(group.org, 'external')
        break
      }
    }
  }
  return found
}

/** How the user belongs to this one org, or null. */
export function belongingIn(
  bindings: BindingTable,
  user: UserNode,
  org: OrgNode,
  subOrgs: boolean,
  now: number,
): Belonging | null {
  if (org.active.has(user.id)) return 'member'
  // Cheap cases first: memberships above, then the user's own few bindings.
  if (subOrgs && org.chain.some((above) => above !== org && above.active.has(user.id))) {
    for (let b = user.bindings; b !== NONE; b = bindings.pNext[b]!)
      if (bindings.expiresAt[b]! > now && bindings.scope[b] === org) return 'member'
    return 'inherited'
  }
  return belongingOf(bindings, user, subOrgs, now).get(org) ?? null
}

function* descendants(org: OrgNode): Generator<OrgNode> {
  for (const child of org.children) {
    yield child
    yield* descendants(child)
  }
}
