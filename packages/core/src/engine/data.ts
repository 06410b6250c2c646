/**
 * The data the engine sees (SPEC 1.1), as plain records: a `Snapshot` loads an `Authorizer`, and a
 * `Change` keeps it in sync afterwards. The store produces both; tests build them by hand.
 */
export type Id = string

export interface OrgRecord {
  id: Id
  parentId: Id | null
  creatorId?: Id | null
  /** Seed 003: every member of a team gets the team's role (SPEC 1.3). */
  singleRoleTeams?: boolean
  /** Security policy gate (SPEC 1.2 step 1), for this org and every sub-org below it. */
  requireMfa?: boolean
  /**
   * The org's password policy, as an opaque id (a fingerprint of its rules). A user is compliant when
   * `UserRecord.compliantPasswordPolicies` holds it: the service records that when it sees the password.
   */
  passwordPolicyId?: string | null
}

export interface ResourceRecord {
  id: Id
  orgId: Id
  type: string
  parentId: Id | null
}

export interface UserRecord {
  id: Id
  mfaEnabled: boolean
  compliantPasswordPolicies?: readonly string[]
}

export interface MembershipRecord {
  orgId: Id
  userId: Id
  /** `pending` is an invitation: it counts as a seat and grants nothing. */
  status: 'active' | 'pending'
}

export interface GroupRecord {
  id: Id
  orgId: Id
  /** The team's own role, used by `team` bindings (SPEC 1.3). */
  role?: string | null
}

export interface GroupMemberRecord {
  groupId: Id
  userId: Id
  /** Per-member role inside a team, used while single-role teams is off. */
  memberRole?: string | null
}

export type PrincipalType = 'user' | 'group'
export interface PrincipalRef {
  type: PrincipalType
  id: Id
}

/** An org (`type: 'org'`) or a resource of a model's resource type. */
export interface Target {
  type: string
  id: Id
}

export interface BindingRecord {
  id: Id
  principal: PrincipalRef
  /** A role key: the model's, the org's custom role, or `team` on a group. */
  role: string
  scope: Target
  /** Epoch milliseconds; an expired binding counts for nothing. */
  expiresAt?: number | null
}

export type Effect = 'allow' | 'deny'

export interface OverrideRecord {
  principal: PrincipalRef
  resourceId: Id
  permission: string
  effect: Effect
}

export interface ApiKeyRecord {
  id: Id
  ownerId: Id
  expiresAt?: number | null
  revoked?: boolean
  /** When set, only these orgs (and their sub-orgs). */
  orgIds?: readonly Id[] | null
  /** When set, only these resources (and what lies below them). */
  resourceIds?: readonly Id[] | null
  /** When set, at most these permissions. */
  permissions?: readonly string[] | null
}

/** A role an org defines for itself; usable in bindings within that org. */
export interface CustomRoleRecord {
  orgId: Id
  key: string
  scope: string
  slot: string
  label?: string
  permissions: readonly string[]
  priority: number
}

export interface Snapshot {
  orgs: readonly OrgRecord[]
  resources: readonly ResourceRecord[]
  users: readonly UserRecord[]
  memberships: readonly MembershipRecord[]
  groups: readonly GroupRecord[]
  groupMembers: readonly GroupMemberRecord[]
  bindings: readonly BindingRecord[]
  overrides: readonly OverrideRecord[]
  apiKeys: readonly ApiKeyRecord[]
  roles: readonly CustomRoleRecord[]
}

/**
 * The order a snapshot's kinds load in: each may refer to the ones before it. A snapshot can arrive in
 * parts (`SnapshotPart`), kind by kind in this order, a kind in any number of parts: the store reads its
 * tables that way, so that the engine's heap never holds more than a part of the records at once.
 */
export const SNAPSHOT_KINDS = [
  'orgs',
  'resources',
  'users',
  'memberships',
  'roles',
  'groups',
  'groupMembers',
  'bindings',
  'overrides',
  'apiKeys',
] as const satisfies readonly (keyof Snapshot)[]

/** Some records of one kind of a snapshot. */
export type SnapshotPart = { [K in keyof Snapshot]: { kind: K; records: Snapshot[K] } }[keyof Snapshot]

export const emptySnapshot = (): Snapshot => ({
  orgs: [],
  resources: [],
  users: [],
  memberships: [],
  groups: [],
  groupMembers: [],
  bindings: [],
  overrides: [],
  apiKeys: [],
  roles: [],
})

/**
 * One change to the data. `put` inserts or replaces. Deletes cascade as the database's foreign keys do:
 * an org takes its sub-orgs, resources, groups, memberships, custom roles and every binding and override
 * on them; a resource takes the resources below it; a user takes their memberships, group memberships,
 * bindings, overrides and API keys; a group takes its members, bindings and overrides. A membership
 * delete takes nothing else (the service removes the rest in the same revision, SPEC 2).
 */
export type Change =
  | { op: 'org.put'; org: OrgRecord }
  | { op: 'org.delete'; id: Id }
  | { op: 'resource.put'; resource: ResourceRecord }
  | { op: 'resource.delete'; id: Id }
  | { op: 'user.put'; user: UserRecord }
  | { op: 'user.delete'; id: Id }
  | { op: 'membership.put'; membership: MembershipRecord }
  | { op: 'membership.delete'; orgId: Id; userId: Id }
  | { op: 'group.put'; group: GroupRecord }
  | { op: 'group.delete'; id: Id }
  | { op: 'groupMember.put'; member: GroupMemberRecord }
  | { op: 'groupMember.delete'; groupId: Id; userId: Id }
  | { op: 'binding.put'; binding: BindingRecord }
  | { op: 'binding.delete'; id: Id }
  | { op: 'override.put'; override: OverrideRecord }
  | { op: 'override.delete'; principal: PrincipalRef; resourceId: Id; permission: string }
  | { op: 'apiKey.put'; apiKey: ApiKeyRecord }
  | { op: 'apiKey.delete'; id: Id }
  | { op: 'role.put'; role: CustomRoleRecord }
  | { op: 'role.delete'; orgId: Id; key: string }

/**
 * Who asks: a user, or an API key acting for its owner (narrowed). `mfa` is a fact of one request, not of
 * the user: the caller proved a second factor to the host product (a host token's `amr`, RFC 8176), which
 * passes an org's required 2FA as `mfaEnabled` would, for questions asked with this subject value only.
 * The server sets it on the caller's own subject; it is never read from a request body.
 */
export type Subject = { type: 'user'; id: Id; mfa?: boolean } | { type: 'apiKey'; id: Id }

export type AllowReason = 'role' | 'override'
export type DenyReason =
  | 'not_found'
  | 'key_revoked'
  | 'key_expired'
  | 'key_scope'
  | 'mfa_required'
  | 'password_policy'
  | 'override_deny'
  | 'no_grant'
export type Reason = AllowReason | DenyReason

export type Decision =
  | { readonly allowed: true; readonly reason: AllowReason }
  | { readonly allowed: false; readonly reason: DenyReason }
