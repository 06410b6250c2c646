import { ORG } from '../model/model.ts'
import { deleteScopeBindings } from './change-bindings.ts'
import { append, invalid, removeFrom, setOf } from './change-support.ts'
import type { Id, OverrideRecord, PrincipalRef, ResourceRecord } from './data.ts'
import type { Graph } from './graph.ts'
import { NONE, type OrgNode, OverrideNode, type Principal, ResourceNode } from './nodes.ts'

/** Resources (their tree, their org) and the overrides set on them, as changes put and delete them. */

export function putResource(graph: Graph, record: ResourceRecord): void {
  const compiled = graph.compiled
  const def = Object.hasOwn(compiled.model.resourceTypes, record.type)
    ? compiled.model.resourceTypes[record.type]
    : undefined
  if (!def) invalid(`unknown resource type "${record.type}"`, { type: record.type })
  const org = graph.org(record.orgId)
  let parent: ResourceNode | null = null
  if (def.parent === ORG) {
    if (record.parentId !== null)
      invalid(`a ${record.type} sits directly under its org, not under a resource`)
  } else {
    if (record.parentId === null) invalid(`a ${record.type} needs a parent ${def.parent}`)
    parent = graph.resources.get(record.parentId!) ?? invalid(`unknown resource "${record.parentId}"`)
    if (parent.type !== def.parent)
      invalid(`a ${record.type}'s parent must be a ${def.parent}, not a ${parent.type}`)
    if (parent.org !== org) invalid(`resource "${record.id}" and its parent are in different orgs`)
  }
  let resource = graph.resources.get(record.id)
  if (resource && resource.type !== record.type) invalid(`resource "${record.id}" cannot change type`)
  if (!resource) {
    resource = new ResourceNode(record.id, record.type, org)
    graph.resources.set(resource.id, resource)
    graph.dense.addResource(resource, compiled.types.indexOf(resource.type))
    setOf(org.resources, resource.type).add(resource)
    org.resourceIds = null
  }
  if (resource.parent !== parent) {
    if (resource.parent?.children) removeFrom(resource.parent.children, resource)
    resource.parent = parent
    if (parent) {
      parent.children = append(parent.children, resource)
    }
    graph.dense.placeResource(resource)
  }
  if (resource.org !== org) {
    rehome(graph, resource, org)
    graph.epoch++
  }
}

/** Moves a resource and everything below it to another org (an app transfer). */
export function rehome(graph: Graph, resource: ResourceNode, org: OrgNode): void {
  resource.org.resources.get(resource.type)?.delete(resource)
  resource.org.resourceIds = null
  resource.org = org
  graph.dense.placeResource(resource)
  setOf(org.resources, resource.type).add(resource)
  org.resourceIds = null
  // A custom role key means the role of the org the binding lives in: now the new org's.
  const t = graph.bindings
  for (let b = resource.bindings; b !== NONE; b = t.sNext[b]!) {
    const role = t.role[b] ?? null
    if (role !== null && role.orgId !== null) t.role[b] = graph.customRole(org, role.key)
  }
  for (const child of resource.children ?? []) rehome(graph, child, org)
}

export function deleteResource(graph: Graph, resource: ResourceNode | undefined): void {
  if (!resource) return
  for (const child of [...(resource.children ?? [])]) deleteResource(graph, child)
  deleteScopeBindings(graph, resource.bindings)
  for (const o of resource.overrides ?? []) removeFrom(o.principal.overrides as OverrideNode[], o)
  if (resource.parent?.children) removeFrom(resource.parent.children, resource)
  resource.org.resources.get(resource.type)?.delete(resource)
  resource.org.resourceIds = null
  graph.resources.delete(resource.id)
  graph.dense.deleteResource(resource)
}

export function putOverride(graph: Graph, record: OverrideRecord): void {
  const resource =
    graph.resources.get(record.resourceId) ?? invalid(`unknown resource "${record.resourceId}"`)
  const permission = graph.compiled.permissionFor(record.permission, resource.type)
  if (!permission.overridable) {
    invalid(`permission "${record.permission}" cannot be overridden`, { permission: record.permission })
  }
  const principal = graph.principal(record.principal)
  const existing = findOverride(resource, principal, permission.index)
  if (existing) existing.effect = record.effect
  else {
    const override = new OverrideNode(principal, resource, permission.index, record.effect)
    resource.overrides = append(resource.overrides, override)
    principal.overrides = append(principal.overrides as OverrideNode[], override)
  }
  graph.dense.writeOverrides(resource, resource.overrides)
}

export function deleteOverride(graph: Graph, ref: PrincipalRef, resourceId: Id, permissionKey: string): void {
  const resource = graph.resources.get(resourceId)
  const permission = graph.compiled.permissions.get(permissionKey)
  if (!resource || !permission) return
  const principal = ref.type === 'group' ? graph.groups.get(ref.id) : graph.users.get(ref.id)
  const override = principal && findOverride(resource, principal, permission.index)
  if (!override) return
  removeFrom(resource.overrides!, override)
  if (resource.overrides!.length === 0) resource.overrides = null
  removeFrom(principal.overrides as OverrideNode[], override)
  graph.dense.writeOverrides(resource, resource.overrides)
}

export function findOverride(
  resource: ResourceNode,
  principal: Principal,
  index: number,
): OverrideNode | undefined {
  return resource.overrides?.find((o) => o.principal === principal && o.permissionIndex === index)
}
