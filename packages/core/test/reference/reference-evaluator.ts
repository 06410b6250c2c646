import type {
  BindingRecord,
  Change,
  Decision,
  GroupRecord,
  Id,
  OrgRecord,
  PrincipalRef,
  ResourceRecord,
  Snapshot,
  Subject,
  Target,
  UserRecord,
} from '../../src/engine/data.ts'
import type { Model } from '../../src/model/model.ts'

/**
 * A deliberately naive second implementation of docs/decision-procedure.md, written from the document
 * alone: every question is answered by scanning the snapshot's arrays. Slow and obvious on purpose, so the
 * property tests can hold the engine to it.
 */

/** The client errors of the doc, by code (the tests compare codes with the engine's). */
export class ClientError extends Error {
  constructor(readonly code: 'UNKNOWN_PERMISSION' | 'UNKNOWN_RESOURCE_TYPE' | 'PERMISSION_TYPE_MISMATCH') {
    super(code)
  }
}

/** A role as a binding resolves it: the model's, or an org's custom role. */
interface ResolvedRole {
  key: string
  scope: string
  slot: string
  permissions: readonly string[]
}

const allow = (reason: 'role' | 'override'): Decision => ({ allowed: true, reason })
const deny = (reason: Exclude<Decision['reason'], 'role' | 'override'>): Decision => ({
  allowed: false,
  reason,
})

/** A model table's own entry (never one of Object.prototype's: `toString` is no permission). */
const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined

const samePrincipal = (a: PrincipalRef, type: 'user' | 'group', id: Id) => a.type === type && a.id === id

export class ReferenceEvaluator {
  constructor(
    readonly model: Model,
    readonly snapshot: Snapshot,
    readonly now: number,
  ) {}

  // --- lookups -------------------------------------------------------------------------------------

  private org(id: Id): OrgRecord | undefined {
    return this.snapshot.orgs.find((o) => o.id === id)
  }

  private resource(id: Id): ResourceRecord | undefined {
    return this.snapshot.resources.find((r) => r.id === id)
  }

  private group(id: Id): GroupRecord | undefined {
    return this.snapshot.groups.find((g) => g.id === id)
  }

  /** The org and every org above it, nearest first. */
  orgChain(orgId: Id): OrgRecord[] {
    const chain: OrgRecord[] = []
    let org = this.org(orgId)
    while (org !== undefined && !chain.includes(org)) {
      chain.push(org)
      org = org.parentId === null ? undefined : this.org(org.parentId)
    }
    return chain
  }

  /** The resource and every resource above it, nearest first. */
  resourceChain(resourceId: Id): ResourceRecord[] {
    const chain: ResourceRecord[] = []
    let resource = this.resource(resourceId)
    while (resource !== undefined && !chain.includes(resource)) {
      chain.push(resource)
      resource = resource.parentId === null ? undefined : this.resource(resource.parentId)
    }
    return chain
  }

  private isLive(expiresAt: number | null | undefined): boolean {
    return expiresAt === undefined || expiresAt === null || this.now < expiresAt
  }

  private isActiveMember(userId: Id, orgId: Id): boolean {
    return this.snapshot.memberships.some(
      (m) => m.orgId === orgId && m.userId === userId && m.status === 'active',
    )
  }

  /** The org a binding belongs to: its scope org, or its scope resource's org. */
  private bindingOrgId(binding: BindingRecord): Id | undefined {
    if (binding.scope.type === 'org') return binding.scope.id
    return this.resource(binding.scope.id)?.orgId
  }

  private lookupRole(key: string, orgId: Id | undefined): ResolvedRole | undefined {
    const builtIn = own(this.model.roles, key)
    if (builtIn !== undefined) return { key, ...builtIn }
    return this.snapshot.roles.find((r) => r.orgId === orgId && r.key === key)
  }

  /** The role a binding gives `userId`, or undefined when it resolves to none at its scope type. */
  private roleFor(binding: BindingRecord, userId: Id): ResolvedRole | undefined {
    let key: string | null | undefined = binding.role
    if (binding.role === 'team') {
      if (binding.principal.type !== 'group') return undefined
      const group = this.group(binding.principal.id)
      if (group === undefined) return undefined
      const member = this.snapshot.groupMembers.find((m) => m.groupId === group.id && m.userId === userId)
      if (this.org(group.orgId)?.singleRoleTeams === true) key = group.role
      else key = member?.memberRole ?? group.role
    }
    if (key === null || key === undefined) return undefined
    const role = this.lookupRole(key, this.bindingOrgId(binding))
    if (role === undefined || role.scope !== binding.scope.type) return undefined
    return role
  }

  // --- the decision --------------------------------------------------------------------------------

  private validate(permission: string, type: string): void {
    const def = own(this.model.permissions, permission)
    if (def === undefined) throw new ClientError('UNKNOWN_PERMISSION')
    if (type !== 'org' && own(this.model.resourceTypes, type) === undefined)
      throw new ClientError('UNKNOWN_RESOURCE_TYPE')
    if (def.on !== type) throw new ClientError('PERMISSION_TYPE_MISMATCH')
  }

  /** The target's org id and resource chain, or undefined when it does not exist (as that type). */
  private locate(target: Target): { orgId: Id; resources: ResourceRecord[] } | undefined {
    if (target.type === 'org') return this.org(target.id) ? { orgId: target.id, resources: [] } : undefined
    const resource = this.resource(target.id)
    if (resource === undefined || resource.type !== target.type) return undefined
    return { orgId: resource.orgId, resources: this.resourceChain(resource.id) }
  }

  check(subject: Subject, permission: string, target: Target): Decision {
    this.validate(permission, target.type)
    // 1. Target.
    const at = this.locate(target)
    if (at === undefined) return deny('not_found')
    const orgIds = this.orgChain(at.orgId).map((o) => o.id)
    const resourceIds = at.resources.map((r) => r.id)
    // 2. Subject.
    if (subject.type === 'user') {
      const user = this.snapshot.users.find((u) => u.id === subject.id)
      if (user === undefined) return deny('not_found')
      return this.decideForUser(user, permission, target, at.orgId, at.resources)
    }
    const key = this.snapshot.apiKeys.find((k) => k.id === subject.id)
    if (key === undefined) return deny('not_found')
    if (key.revoked === true) return deny('key_revoked')
    if (key.expiresAt !== undefined && key.expiresAt !== null && key.expiresAt <= this.now)
      return deny('key_expired')
    if (key.orgIds !== undefined && key.orgIds !== null && !key.orgIds.some((id) => orgIds.includes(id)))
      return deny('key_scope')
    if (
      key.resourceIds !== undefined &&
      key.resourceIds !== null &&
      !key.resourceIds.some((id) => resourceIds.includes(id))
    )
      return deny('key_scope')
    if (key.permissions !== undefined && key.permissions !== null && !key.permissions.includes(permission))
      return deny('key_scope')
    const owner = this.snapshot.users.find((u) => u.id === key.ownerId)
    if (owner === undefined) return deny('not_found')
    return this.decideForUser(owner, permission, target, at.orgId, at.resources)
  }

  private decideForUser(
    user: UserRecord,
    permission: string,
    target: Target,
    orgId: Id,
    resources: ResourceRecord[],
  ): Decision {
    const chain = this.orgChain(orgId)
    const chainIds = chain.map((o) => o.id)
    // 3. Policy gate.
    if (chain.some((o) => o.requireMfa === true) && !user.mfaEnabled) return deny('mfa_required')
    for (const org of chain) {
      const policy = org.passwordPolicyId
      if (policy !== undefined && policy !== null && !(user.compliantPasswordPolicies ?? []).includes(policy))
        return deny('password_policy')
    }
    // 4. Principals.
    const groups = this.snapshot.groups.filter(
      (g) =>
        chainIds.includes(g.orgId) &&
        this.snapshot.groupMembers.some((m) => m.groupId === g.id && m.userId === user.id) &&
        this.isActiveMember(user.id, g.orgId),
    )
    const isPrincipal = (p: PrincipalRef) =>
      samePrincipal(p, 'user', user.id) || groups.some((g) => samePrincipal(p, 'group', g.id))
    // 5. Overrides.
    if (own(this.model.permissions, permission)?.overridable === true && target.type !== 'org') {
      const here = this.snapshot.overrides.filter(
        (o) => o.resourceId === target.id && o.permission === permission,
      )
      const own = here.find((o) => samePrincipal(o.principal, 'user', user.id))
      if (own !== undefined) return own.effect === 'allow' ? allow('override') : deny('override_deny')
      const ofGroups = here.filter((o) => groups.some((g) => samePrincipal(o.principal, 'group', g.id)))
      if (ofGroups.some((o) => o.effect === 'deny')) return deny('override_deny')
      if (ofGroups.some((o) => o.effect === 'allow')) return allow('override')
    }
    const counted: ResolvedRole[] = []
    // 6. Resource bindings: a union over the target and the resources above it.
    for (const resource of resources) {
      for (const binding of this.snapshot.bindings) {
        if (binding.scope.type !== resource.type || binding.scope.id !== resource.id) continue
        if (!isPrincipal(binding.principal) || !this.isLive(binding.expiresAt)) continue
        const role = this.roleFor(binding, user.id)
        if (role !== undefined) counted.push(role)
      }
    }
    // 7. Org bindings: per principal and slot, only the nearest org holding a role of the slot counts.
    const principals: PrincipalRef[] = [
      { type: 'user', id: user.id },
      ...groups.map((g): PrincipalRef => ({ type: 'group', id: g.id })),
    ]
    for (const principal of principals) {
      const takenSlots = new Set<string>()
      for (const org of chain) {
        const here: ResolvedRole[] = []
        for (const binding of this.snapshot.bindings) {
          if (binding.scope.type !== 'org' || binding.scope.id !== org.id) continue
          if (!samePrincipal(binding.principal, principal.type, principal.id)) continue
          if (!this.isLive(binding.expiresAt)) continue
          if (principal.type === 'user' && !this.isActiveMember(user.id, org.id)) continue
          const role = this.roleFor(binding, user.id)
          if (role !== undefined) here.push(role)
        }
        for (const role of here) if (!takenSlots.has(role.slot)) counted.push(role)
        for (const role of here) takenSlots.add(role.slot)
      }
    }
    // 8.
    return counted.some((r) => r.permissions.includes(permission)) ? allow('role') : deny('no_grant')
  }

  // --- lists ---------------------------------------------------------------------------------------

  /** Every target of `type` the subject may do `permission` on, by checking each one. */
  listResources(subject: Subject, permission: string, type: string): Id[] {
    this.validate(permission, type)
    const ids =
      type === 'org'
        ? this.snapshot.orgs.map((o) => o.id)
        : this.snapshot.resources.filter((r) => r.type === type).map((r) => r.id)
    return ids.filter((id) => this.check(subject, permission, { type, id }).allowed)
  }

  /** Every user who may do `permission` on `target`, by checking each one. */
  listPrincipals(permission: string, target: Target): Id[] {
    this.validate(permission, target.type)
    return this.snapshot.users
      .map((u) => u.id)
      .filter((id) => this.check({ type: 'user', id }, permission, target).allowed)
  }
}

// --- changes ---------------------------------------------------------------------------------------

/** Replaces the record matching `same`, or appends it. */
function upsert<T>(records: readonly T[], record: T, same: (a: T) => boolean): T[] {
  return records.some(same) ? records.map((r) => (same(r) ? record : r)) : [...records, record]
}

/** Every id reachable from `roots` by following child → parent links, roots included. */
function withDescendants<T extends { id: Id; parentId: Id | null }>(
  records: readonly T[],
  roots: Id[],
): Id[] {
  const ids = [...roots]
  for (let grew = true; grew; ) {
    grew = false
    for (const r of records) {
      if (r.parentId !== null && ids.includes(r.parentId) && !ids.includes(r.id)) {
        ids.push(r.id)
        grew = true
      }
    }
  }
  return ids
}

/** Removes everything that goes with the deleted orgs, resources, users and groups (the cascades). */
function cascade(
  s: Snapshot,
  gone: { orgs?: Id[]; resources?: Id[]; users?: Id[]; groups?: Id[] },
): Snapshot {
  const orgs = withDescendants(s.orgs, gone.orgs ?? [])
  const resources = withDescendants(s.resources, [
    ...(gone.resources ?? []),
    ...s.resources.filter((r) => orgs.includes(r.orgId)).map((r) => r.id),
  ])
  const users = gone.users ?? []
  const groups = [...(gone.groups ?? []), ...s.groups.filter((g) => orgs.includes(g.orgId)).map((g) => g.id)]
  const principalGone = (p: PrincipalRef) =>
    (p.type === 'user' && users.includes(p.id)) || (p.type === 'group' && groups.includes(p.id))
  return {
    orgs: s.orgs.filter((o) => !orgs.includes(o.id)),
    resources: s.resources.filter((r) => !resources.includes(r.id)),
    users: s.users.filter((u) => !users.includes(u.id)),
    memberships: s.memberships.filter((m) => !orgs.includes(m.orgId) && !users.includes(m.userId)),
    groups: s.groups.filter((g) => !groups.includes(g.id)),
    groupMembers: s.groupMembers.filter((m) => !groups.includes(m.groupId) && !users.includes(m.userId)),
    bindings: s.bindings.filter(
      (b) =>
        !principalGone(b.principal) &&
        !(b.scope.type === 'org' ? orgs.includes(b.scope.id) : resources.includes(b.scope.id)),
    ),
    overrides: s.overrides.filter((o) => !principalGone(o.principal) && !resources.includes(o.resourceId)),
    apiKeys: s.apiKeys.filter((k) => !users.includes(k.ownerId)),
    roles: s.roles.filter((r) => !orgs.includes(r.orgId)),
  }
}

/**
 * The snapshot after one change (pure). `put` inserts or replaces by the record's key; deletes cascade as
 * docs/decision-procedure.md "Changes" lists. Moving a resource to another org moves what lies below it
 * too (a store keeps a channel in its app's org).
 */
export function applyChange(s: Snapshot, change: Change): Snapshot {
  switch (change.op) {
    case 'org.put':
      return { ...s, orgs: upsert(s.orgs, change.org, (o) => o.id === change.org.id) }
    case 'org.delete':
      return cascade(s, { orgs: [change.id] })
    case 'resource.put': {
      const r = change.resource
      const below = withDescendants(s.resources, [r.id])
      const moved = s.resources.map((x) => (below.includes(x.id) ? { ...x, orgId: r.orgId } : x))
      return { ...s, resources: upsert(moved, r, (x) => x.id === r.id) }
    }
    case 'resource.delete':
      return cascade(s, { resources: [change.id] })
    case 'user.put':
      return { ...s, users: upsert(s.users, change.user, (u) => u.id === change.user.id) }
    case 'user.delete':
      return cascade(s, { users: [change.id] })
    case 'membership.put': {
      const m = change.membership
      return {
        ...s,
        memberships: upsert(s.memberships, m, (x) => x.orgId === m.orgId && x.userId === m.userId),
      }
    }
    case 'membership.delete':
      return {
        ...s,
        memberships: s.memberships.filter((x) => !(x.orgId === change.orgId && x.userId === change.userId)),
      }
    case 'group.put':
      return { ...s, groups: upsert(s.groups, change.group, (g) => g.id === change.group.id) }
    case 'group.delete':
      return cascade(s, { groups: [change.id] })
    case 'groupMember.put': {
      const m = change.member
      return {
        ...s,
        groupMembers: upsert(s.groupMembers, m, (x) => x.groupId === m.groupId && x.userId === m.userId),
      }
    }
    case 'groupMember.delete':
      return {
        ...s,
        groupMembers: s.groupMembers.filter(
          (x) => !(x.groupId === change.groupId && x.userId === change.userId),
        ),
      }
    case 'binding.put':
      return { ...s, bindings: upsert(s.bindings, change.binding, (b) => b.id === change.binding.id) }
    case 'binding.delete':
      return { ...s, bindings: s.bindings.filter((b) => b.id !== change.id) }
    case 'override.put': {
      const o = change.override
      const same = (x: typeof o) =>
        samePrincipal(x.principal, o.principal.type, o.principal.id) &&
        x.resourceId === o.resourceId &&
        x.permission === o.permission
      return { ...s, overrides: upsert(s.overrides, o, same) }
    }
    case 'override.delete':
      return {
        ...s,
        overrides: s.overrides.filter(
          (x) =>
            !(
              samePrincipal(x.principal, change.principal.type, change.principal.id) &&
              x.resourceId === change.resourceId &&
              x.permission === change.permission
            ),
        ),
      }
    case 'apiKey.put':
      return { ...s, apiKeys: upsert(s.apiKeys, change.apiKey, (k) => k.id === change.apiKey.id) }
    case 'apiKey.delete':
      return { ...s, apiKeys: s.apiKeys.filter((k) => k.id !== change.id) }
    case 'role.put': {
      const r = change.role
      return { ...s, roles: upsert(s.roles, r, (x) => x.orgId === r.orgId && x.key === r.key) }
    }
    case 'role.delete':
      return { ...s, roles: s.roles.filter((x) => !(x.orgId === change.orgId && x.key === change.key)) }
  }
}
