import { deleteBinding, putBinding } from './change-bindings.ts'
import { deleteOrg, deleteRole, putOrg, putRole } from './change-orgs.ts'
import {
  deleteApiKey,
  deleteGroup,
  deleteGroupMember,
  deleteMembership,
  deleteUser,
  putApiKey,
  putGroup,
  putGroupMember,
  putMembership,
  putUser,
} from './change-principals.ts'
import { deleteOverride, deleteResource, putOverride, putResource } from './change-resources.ts'
import { invalid } from './change-support.ts'
import type { Change, Id, OrgRecord, ResourceRecord, Snapshot, SnapshotPart } from './data.ts'
import { SNAPSHOT_KINDS } from './data.ts'
import type { Graph } from './graph.ts'

/**
 * Changes into the graph (graph.ts): `applyChange` sends each to its kind's module, and a snapshot loads
 * as the same puts, kind by kind.
 */
export function applyChange(graph: Graph, change: Change): void {
  switch (change.op) {
    case 'org.put':
      putOrg(graph, change.org)
      return
    case 'org.delete':
      deleteOrg(graph, graph.orgs.get(change.id))
      return
    case 'resource.put':
      putResource(graph, change.resource)
      return
    case 'resource.delete':
      deleteResource(graph, graph.resources.get(change.id))
      return
    case 'user.put':
      putUser(graph, change.user)
      return
    case 'user.delete':
      deleteUser(graph, graph.users.get(change.id))
      return
    case 'membership.put':
      putMembership(graph, change.membership)
      return
    case 'membership.delete':
      deleteMembership(graph, change.orgId, change.userId)
      return
    case 'group.put':
      putGroup(graph, change.group)
      return
    case 'group.delete':
      deleteGroup(graph, graph.groups.get(change.id))
      return
    case 'groupMember.put':
      putGroupMember(graph, change.member)
      return
    case 'groupMember.delete':
      deleteGroupMember(graph, change.groupId, change.userId)
      return
    case 'binding.put':
      putBinding(graph, change.binding)
      return
    case 'binding.delete':
      deleteBinding(graph, graph.bindings.find(change.id))
      return
    case 'override.put':
      putOverride(graph, change.override)
      return
    case 'override.delete':
      deleteOverride(graph, change.principal, change.resourceId, change.permission)
      return
    case 'apiKey.put':
      putApiKey(graph, change.apiKey)
      return
    case 'apiKey.delete':
      deleteApiKey(graph, graph.apiKeys.get(change.id))
      return
    case 'role.put':
      putRole(graph, change.role)
      return
    case 'role.delete':
      deleteRole(graph, change.orgId, change.key)
      return
    default:
      invalid(`unknown change ${(change as { op: string }).op}`)
  }
}

export function loadSnapshot(graph: Graph, snapshot: Snapshot): void {
  const loader = snapshotLoader(graph)
  for (const kind of SNAPSHOT_KINDS) loader.add({ kind, records: snapshot[kind] } as SnapshotPart)
  loader.end()
}

/**
 * Takes a snapshot in parts, kind by kind in `SNAPSHOT_KINDS` order. Orgs and resources may come before
 * their parents: such a record waits until its parent arrives, and one still waiting when its kind ends
 * (a missing parent, or a cycle) makes the load throw.
 */
export function snapshotLoader(graph: Graph): { add(part: SnapshotPart): void; end(): void } {
  let at = 0
  const waiting = new Map<Id, (OrgRecord | ResourceRecord)[]>()
  const tree = <T extends OrgRecord | ResourceRecord>(
    records: readonly T[],
    loaded: ReadonlyMap<Id, unknown>,
    put: (record: T) => void,
  ) => {
    for (const record of records) {
      if (record.parentId !== null && !loaded.has(record.parentId)) {
        const siblings = waiting.get(record.parentId)
        if (siblings) siblings.push(record)
        else waiting.set(record.parentId, [record])
        continue
      }
      // The record, then whatever waited for it, and for those, depth first.
      const ready: T[] = [record]
      for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
        put(next)
        const children = waiting.get(next.id)
        if (children) {
          waiting.delete(next.id)
          ready.push(...(children as T[]))
        }
      }
    }
  }
  const settle = () => {
    for (const [parentId, [child]] of waiting)
      invalid(`"${child!.id}" names parent "${parentId}", which is missing or in a cycle with it`)
  }
  return {
    add: (part) => {
      const kind = SNAPSHOT_KINDS.indexOf(part.kind)
      if (kind < at) invalid(`snapshot part "${part.kind}" after "${SNAPSHOT_KINDS[at]}"`)
      if (kind > at) settle()
      at = kind
      switch (part.kind) {
        case 'orgs':
          return tree(part.records, graph.orgs, (org) => putOrg(graph, org))
        case 'resources':
          return tree(part.records, graph.resources, (r) => putResource(graph, r))
        case 'users':
          for (const user of part.records) putUser(graph, user)
          return
        case 'memberships':
          for (const membership of part.records) putMembership(graph, membership)
          return
        case 'roles':
          for (const role of part.records) putRole(graph, role)
          return
        case 'groups':
          for (const group of part.records) putGroup(graph, group)
          return
        case 'groupMembers':
          for (const member of part.records) putGroupMember(graph, member)
          return
        case 'bindings':
          for (const binding of part.records) putBinding(graph, binding)
          return
        case 'overrides':
          for (const override of part.records) putOverride(graph, override)
          return
        case 'apiKeys':
          for (const apiKey of part.records) putApiKey(graph, apiKey)
          return
      }
    },
    end: settle,
  }
}
