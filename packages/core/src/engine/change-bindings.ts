import { OrgkitError } from '../errors.ts'
import { ORG, TEAM_ROLE } from '../model/model.ts'
import { invalid } from './change-support.ts'
import type { RoleHandle } from './compiled-model.ts'
import type { BindingRecord } from './data.ts'
import type { Graph } from './graph.ts'
import { NONE, type OrgNode } from './nodes.ts'

/**
 * Bindings as changes make and remove them: a row of the `BindingTable` (bindings.ts), linked at the head
 * of its principal's list and of its scope's.
 */

export function putBinding(graph: Graph, record: BindingRecord): void {
  const principal = graph.principal(record.principal)
  const scopeOrg = record.scope.type === ORG ? graph.org(record.scope.id) : null
  const scopeResource =
    scopeOrg === null
      ? (graph.resources.get(record.scope.id) ?? invalid(`unknown resource "${record.scope.id}"`))
      : null
  if (scopeResource && scopeResource.type !== record.scope.type) {
    invalid(`resource "${record.scope.id}" is a ${scopeResource.type}, not a ${record.scope.type}`)
  }
  const org = (scopeOrg ?? scopeResource!.org) as OrgNode
  let role: RoleHandle | null = null
  if (record.role === TEAM_ROLE) {
    if (!principal.isGroup) invalid(`only a group can hold the "${TEAM_ROLE}" role`)
  } else {
    const builtIn = graph.compiled.roles.get(record.role)
    if (builtIn && builtIn.scope !== record.scope.type) {
      throw new OrgkitError(
        'ROLE_SCOPE_MISMATCH',
        `role "${record.role}" binds at ${builtIn.scope}, not at ${record.scope.type}`,
        { role: record.role, scope: record.scope.type },
      )
    }
    // Anything else names a custom role of the org: resolved lazily, so a binding may outlive its role
    // (then it grants nothing) exactly as it does in the database, and a fresh load agrees with apply.
    role = builtIn ?? graph.customRole(org, record.role)
  }
  const scope = scopeOrg ?? scopeResource!
  // Only now, with the new binding known to be valid: a put that throws leaves the old one in place.
  const t = graph.bindings
  deleteBinding(graph, t.find(record.id))
  const b = t.add(record.id, principal, role, scope, record.expiresAt ?? Number.POSITIVE_INFINITY)
  graph.touch(principal)
  const pHead = principal.bindings
  if (pHead !== NONE) {
    t.pNext[b] = pHead
    t.pPrev[pHead] = b
  }
  principal.bindings = b
  const sHead = scope.bindings
  if (sHead !== NONE) {
    t.sNext[b] = sHead
    t.sPrev[sHead] = b
  }
  scope.bindings = b
}

/** Unlinks binding number `b` from its principal's and its scope's lists and frees it (none: no-op). */
export function deleteBinding(graph: Graph, b: number): void {
  const t = graph.bindings
  if (!t.isLive(b)) return
  const principal = t.principal[b]!
  const scope = t.scope[b]!
  graph.touch(principal)
  const pPrev = t.pPrev[b]!
  const pNext = t.pNext[b]!
  if (pPrev !== NONE) t.pNext[pPrev] = pNext
  else principal.bindings = pNext
  if (pNext !== NONE) t.pPrev[pNext] = pPrev
  const sPrev = t.sPrev[b]!
  const sNext = t.sNext[b]!
  if (sPrev !== NONE) t.sNext[sPrev] = sNext
  else scope.bindings = sNext
  if (sNext !== NONE) t.sPrev[sNext] = sPrev
  t.remove(b)
}

/** Deletes every binding on a scope's list, starting at `head`. */
export function deleteScopeBindings(graph: Graph, head: number): void {
  const t = graph.bindings
  for (let b = head; b !== NONE; ) {
    const next = t.sNext[b]!
    deleteBinding(graph, b)
    b = next
  }
}
