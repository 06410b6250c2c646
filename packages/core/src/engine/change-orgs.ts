import { deleteScopeBindings } from './change-bindings.ts'
import { deleteGroup } from './change-principals.ts'
import { deleteResource } from './change-resources.ts'
import { invalid, leave } from './change-support.ts'
import type { CustomRoleRecord, Id, OrgRecord } from './data.ts'
import type { Graph } from './graph.ts'
import { NONE_SET, OrgNode } from './nodes.ts'

/** Orgs (their tree and policy gates) and their custom roles, as changes put and delete them. */

export function putOrg(graph: Graph, record: OrgRecord): void {
  let org = graph.orgs.get(record.id)
  const parent = record.parentId === null ? null : graph.org(record.parentId)
  if (org && parent?.isWithin(org)) invalid(`moving org "${record.id}" under itself makes a cycle`)
  const singleRoleTeams = record.singleRoleTeams === true
  if (!org) {
    org = new OrgNode(record.id)
    graph.orgs.set(org.id, org)
    graph.dense.addOrg(org)
    // A new sub-org inherits roles bound above it: their holders' indexes need an entry for it.
    if (parent !== null) graph.epoch++
  } else if (org.parent !== parent || org.singleRoleTeams !== singleRoleTeams) graph.epoch++
  org.creatorId = record.creatorId ?? null
  org.singleRoleTeams = singleRoleTeams
  org.requireMfa = record.requireMfa === true
  org.passwordPolicyId = record.passwordPolicyId ?? null
  if (org.parent !== parent) {
    org.parent?.children.delete(org)
    org.parent = parent
    if (parent !== null) {
      if (parent.children === (NONE_SET as unknown)) parent.children = new Set()
      parent.children.add(org)
    }
  }
  refreshChains(graph, org)
}

/** Recomputes the chain and policy gate of `org` and everything below it. */
export function refreshChains(graph: Graph, org: OrgNode): void {
  const parent = org.parent
  org.chain = parent ? [org, ...parent.chain] : [org]
  org.gateMfa = org.requireMfa || (parent?.gateMfa ?? false)
  const policies = parent ? [...parent.gatePolicies] : []
  if (org.passwordPolicyId !== null && !policies.includes(org.passwordPolicyId))
    policies.push(org.passwordPolicyId)
  org.gatePolicies = policies
  org.gated = org.gateMfa || policies.length > 0
  graph.dense.setGate(org)
  for (const child of org.children) refreshChains(graph, child)
}

export function deleteOrg(graph: Graph, org: OrgNode | undefined): void {
  if (!org) return
  graph.epoch++
  for (const child of [...org.children]) deleteOrg(graph, child)
  for (const resources of org.resources.values()) {
    for (const resource of [...resources]) if (resource.parent === null) deleteResource(graph, resource)
  }
  for (const group of [...org.groups]) deleteGroup(graph, group)
  deleteScopeBindings(graph, org.bindings)
  for (const userId of [...org.active, ...org.pending]) {
    const user = graph.users.get(userId)
    if (user) leave(user, org)
  }
  for (const role of org.customRoles.values()) role.live = false
  org.parent?.children.delete(org)
  graph.orgs.delete(org.id)
  graph.dense.deleteOrg(org)
}

export function putRole(graph: Graph, record: CustomRoleRecord): void {
  const org = graph.org(record.orgId)
  if (graph.compiled.roles.has(record.key)) {
    invalid(`role key "${record.key}" is a built-in role of the model`, { role: record.key })
  }
  const role = graph.customRole(org, record.key)
  graph.epoch++
  graph.compiled.fillRole(role, record.scope, record.slot, record.permissions, record.priority)
}

export function deleteRole(graph: Graph, orgId: Id, key: string): void {
  const role = graph.orgs.get(orgId)?.customRoles.get(key)
  // The handle stays, dead, so bindings still naming the key come back to life if it is re-created.
  if (role) {
    role.live = false
    graph.epoch++
  }
}
