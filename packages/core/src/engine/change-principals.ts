import { deleteBinding } from './change-bindings.ts'
import { append, invalid, leave, removeFrom } from './change-support.ts'
import type {
  ApiKeyRecord,
  GroupMemberRecord,
  GroupRecord,
  Id,
  MembershipRecord,
  UserRecord,
} from './data.ts'
import type { Graph } from './graph.ts'
import {
  ApiKeyNode,
  GroupMemberNode,
  GroupNode,
  NO_OVERRIDES,
  NONE,
  NONE_MAP,
  NONE_SET,
  type Principal,
  UserNode,
} from './nodes.ts'

/** Users, their memberships in orgs and groups, groups and API keys, as changes put and delete them. */

export function putUser(graph: Graph, record: UserRecord): void {
  let user = graph.users.get(record.id)
  if (!user) {
    user = new UserNode(record.id)
    graph.users.set(user.id, user)
    graph.dense.addUser(user)
  }
  user.mfaEnabled = record.mfaEnabled
  graph.dense.setMfa(user)
  const compliant = record.compliantPasswordPolicies ?? []
  user.compliant = compliant.length === 0 ? (NONE_SET as ReadonlySet<string>) : new Set(compliant)
}

export function deleteUser(graph: Graph, user: UserNode | undefined): void {
  if (!user) return
  deletePrincipal(graph, user)
  for (const org of user.orgs ?? []) org.deleteMember(user.id)
  for (const member of user.groups.values()) member.group.members.delete(user.id)
  for (const key of [...user.apiKeys]) deleteApiKey(graph, key)
  graph.users.delete(user.id)
  graph.dense.deleteUser(user)
}

export function putMembership(graph: Graph, { orgId, userId, status }: MembershipRecord): void {
  const org = graph.org(orgId)
  const user = graph.user(userId)
  // Keys are the nodes' own id strings: the records' copies can then be collected.
  if (org.setMember(user.id, status)) user.orgs = user.orgs === null ? org.alone : append(user.orgs, org)
  graph.dense.invalidate(user)
}

export function deleteMembership(graph: Graph, orgId: Id, userId: Id): void {
  const org = graph.orgs.get(orgId)
  const user = graph.users.get(userId)
  if (org && user && org.deleteMember(user.id)) {
    leave(user, org)
    graph.dense.invalidate(user)
  }
}

export function putGroup(graph: Graph, record: GroupRecord): void {
  const org = graph.org(record.orgId)
  let group = graph.groups.get(record.id)
  if (group && group.org !== org) invalid(`group "${record.id}" cannot move to another org`)
  if (!group) {
    group = new GroupNode(record.id, org)
    graph.groups.set(group.id, group)
    if (org.groups === (NONE_SET as unknown)) org.groups = new Set()
    org.groups.add(group)
  }
  group.role = record.role ?? null
  graph.touch(group)
}

export function deleteGroup(graph: Graph, group: GroupNode | undefined): void {
  if (!group) return
  graph.touch(group)
  deletePrincipal(graph, group)
  for (const member of group.members.values()) member.user.groups.delete(group.id)
  group.org.groups.delete(group)
  graph.groups.delete(group.id)
}

export function putGroupMember(graph: Graph, { groupId, userId, memberRole }: GroupMemberRecord): void {
  const group = graph.group(groupId)
  const user = graph.user(userId)
  const existing = group.members.get(userId)
  graph.dense.invalidate(user)
  if (existing) existing.memberRole = memberRole ?? null
  else {
    const member = new GroupMemberNode(group, user, memberRole ?? null)
    group.members.set(user.id, member)
    if (user.groups === (NONE_MAP as unknown)) user.groups = new Map()
    user.groups.set(group.id, member)
  }
}

export function deleteGroupMember(graph: Graph, groupId: Id, userId: Id): void {
  graph.groups.get(groupId)?.members.delete(userId)
  const user = graph.users.get(userId)
  if (user) {
    user.groups.delete(groupId)
    graph.dense.invalidate(user)
  }
}

/** Removes a principal's bindings and overrides. */
export function deletePrincipal(graph: Graph, principal: Principal): void {
  const t = graph.bindings
  for (let b = principal.bindings; b !== NONE; ) {
    const next = t.pNext[b]!
    deleteBinding(graph, b)
    b = next
  }
  for (const o of principal.overrides) {
    const list = o.resource.overrides!
    removeFrom(list, o)
    if (list.length === 0) o.resource.overrides = null
    graph.dense.writeOverrides(o.resource, o.resource.overrides)
  }
  principal.overrides = NO_OVERRIDES
}

export function putApiKey(graph: Graph, record: ApiKeyRecord): void {
  const owner = graph.user(record.ownerId)
  const existing = graph.apiKeys.get(record.id)
  if (existing) deleteApiKey(graph, existing)
  const key = new ApiKeyNode(
    record.id,
    owner,
    record.expiresAt ?? Number.POSITIVE_INFINITY,
    record.revoked === true,
    record.orgIds ? new Set(record.orgIds) : null,
    record.resourceIds ? new Set(record.resourceIds) : null,
    record.permissions ? new Set(record.permissions) : null,
  )
  graph.apiKeys.set(key.id, key)
  if (owner.apiKeys === (NONE_SET as unknown)) owner.apiKeys = new Set()
  owner.apiKeys.add(key)
}

export function deleteApiKey(graph: Graph, key: ApiKeyNode | undefined): void {
  if (!key) return
  key.owner.apiKeys.delete(key)
  graph.apiKeys.delete(key.id)
}
