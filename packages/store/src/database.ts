import type { ColumnType, Generated, Kysely, Transaction } from 'kysely'

/** Table types, one interface per table, as the migrations create them. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Json = ColumnType<unknown, string | null, string | null>

export interface UsersTable {
  id: string
  email: string
  name: string
  password_hash: string | null
  mfa_enabled: Generated<boolean>
  compliant_password_policies: Generated<string[]>
  created_at: CreatedAt
}

export interface OrgsTable {
  id: string
  parent_id: string | null
  name: string
  creator_id: string | null
  management_email: string | null
  logo_url: string | null
  single_role_teams: Generated<boolean>
  single_role_teams_ever: Generated<boolean>
  require_mfa: Generated<boolean>
  password_policy: Json
  password_policy_id: string | null
  created_at: CreatedAt
  updated_at: Generated<Date>
}

export interface MembershipsTable {
  org_id: string
  user_id: string
  status: 'active' | 'pending'
  created_at: CreatedAt
}

export interface ResourcesTable {
  id: string
  org_id: string
  type: string
  parent_id: string | null
  name: string
  created_at: CreatedAt
}

export interface GroupsTable {
  id: string
  org_id: string
  name: string
  description: Generated<string>
  role: string | null
  created_at: CreatedAt
}

export interface GroupMembersTable {
  group_id: string
  user_id: string
  member_role: string | null
  created_at: CreatedAt
}

export interface CustomRolesTable {
  org_id: string
  key: string
  scope: string
  slot: string
  label: string
  description: Generated<string>
  permissions: string[]
  priority: number
  created_at: CreatedAt
}

export interface BindingsTable {
  id: string
  /** The org the scope lives in: every tenant query filters on it. */
  org_id: string
  user_id: string | null
  group_id: string | null
  role: string
  scope_type: string
  resource_id: string | null
  expires_at: Date | null
  granted_by: string | null
  reason: string | null
  created_at: CreatedAt
}

export interface OverridesTable {
  id: string
  org_id: string
  resource_id: string
  user_id: string | null
  group_id: string | null
  permission: string
  effect: 'allow' | 'deny'
  created_at: CreatedAt
}

export interface PlatformTokensTable {
  id: string
  name: string
  prefix: string
  secret_hash: string
  created_at: CreatedAt
  revoked_at: Date | null
}

export interface AuditLogTable {
  id: Generated<string>
  org_id: string | null
  actor_type: string
  actor_id: string | null
  action: string
  target_type: string
  target_id: string | null
  before: Json
  after: Json
  ip: string | null
  user_agent: string | null
  request_id: string | null
  created_at: CreatedAt
}

export interface RevisionTable {
  id: number
  value: string
}

export interface ChangeLogTable {
  revision: string
  changes: Json
  created_at: CreatedAt
}

export interface Database {
  users: UsersTable
  orgs: OrgsTable
  memberships: MembershipsTable
  resources: ResourcesTable
  groups: GroupsTable
  group_members: GroupMembersTable
  custom_roles: CustomRolesTable
  bindings: BindingsTable
  overrides: OverridesTable
  platform_tokens: PlatformTokensTable
  audit_log: AuditLogTable
  revision: RevisionTable
  change_log: ChangeLogTable
}

export type Db = Kysely<Database>
export type Tx = Transaction<Database>
/** Either: repositories take whichever they are given, so they compose inside a transaction. */
export type Executor = Db | Tx
