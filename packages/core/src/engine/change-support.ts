import { OrgkitError } from '../errors.ts'
import type { OrgNode, UserNode } from './nodes.ts'

/** A change (or a snapshot's record) that does not fit the graph: nothing of it is applied. */
export function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new OrgkitError('INVALID_CHANGE', message, details)
}

/**
 * Appends. Short arrays are replaced by an exactly sized copy: `push` reserves 16 spare slots, and the
 * graph holds hundreds of thousands of such arrays (a user's orgs, a resource's overrides, an app's
 * channels) that rarely grow.
 */
export function append<T>(array: readonly T[] | null, item: T): T[] {
  if (array === null) return [item]
  if (array.length < 16) return array.concat([item])
  const grown = array as T[]
  grown.push(item)
  return grown
}

/** Takes `org` out of the user's orgs: a new list, as the one there may be shared (`OrgNode.alone`). */
export function leave(user: UserNode, org: OrgNode): void {
  user.orgs = user.orgs!.filter((o) => o !== org)
}

export function removeFrom<T>(array: T[], item: T): void {
  const at = array.indexOf(item)
  if (at >= 0) array.splice(at, 1)
}

export function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  return set
}
