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
  email_verified_at: Date | null
  password_changed_at: Date | null
  totp_secret: string | null
  totp_enabled_at: Date | null
  totp_last_step: string | null
  sessions_valid_after: Generated<Date>
  /** The host product's id for the user (issue 20), unique; null for users it never named. */
  external_id: string | null
  /** What password policies ask of the password, measured when it was set (migration 0012); never the password. */
  password_traits: Json
}

export interface OrgsTable {
  id: string
  parent_id: string | null
  name: string
  creator_id: string | null
  management_email: string | null
  logo_url: string | null
  /** Seed 003's org settings (migration 0011). */
  full_name: Generated<string>
  description: Generated<string>
  website: string | null
  location: Generated<string>
  single_role_teams: Generated<boolean>
  single_role_teams_ever: Generated<boolean>
  resource_admins_grant_team_access: Generated<boolean>
  require_mfa: Generated<boolean>
  password_policy: Json
  password_policy_id: string | null
  api_key_policy: Json
  created_at: CreatedAt
  updated_at: Generated<Date>
  /** Null: the deployment's default plan. */
  plan: string | null
  billing_email: string | null
  /** Kept equal to the sum of the org's credit entries; a check constraint keeps it >= 0. */
  credit_balance: ColumnType<string, string | number | bigint | undefined, string | number | bigint>
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
  /** How the actor authenticated: session, api_key, host_token, platform (null before migration 0009). */
  actor_via: string | null
  /** The credential that did, when it has an id: the platform token acting as a user, the API key. */
  actor_credential_id: string | null
  created_at: CreatedAt
  seq: string | null
  prev_hash: string | null
  hash: string | null
}

export interface AuditAnchorsTable {
  org_key: string
  seq: string
  hash: string
}

export interface WebhooksTable {
  id: string
  org_id: string
  url: string
  events: string[] | null
  enabled: Generated<boolean>
  secret: string
  /** The secret a rotation replaced, still signing beside `secret` until its expiry (migration 0019). */
  previous_secret: Generated<string | null>
  previous_secret_expires_at: Generated<Date | null>
  description: Generated<string>
  disabled_reason: string | null
  created_at: CreatedAt
}

export interface WebhookEventsTable {
  id: string
  org_id: string
  type: string
  payload: Json
  created_at: Date
}

export interface WebhookDeliveriesTable {
  id: string
  event_id: string
  webhook_id: string
  status: 'pending' | 'succeeded' | 'failed'
  attempts: Generated<number>
  next_attempt_at: Date
  locked_until: Date | null
  last_status: number | null
  last_error: string | null
  last_duration_ms: number | null
  response_excerpt: string | null
  delivered_at: Date | null
  created_at: CreatedAt
}

export interface WebhookAttemptsTable {
  id: Generated<string>
  delivery_id: string
  attempt: number
  status: number | null
  error: string | null
  duration_ms: number
  response_excerpt: string | null
  created_at: CreatedAt
}

export interface SessionsTable {
  id: string
  user_id: string
  csrf_token: string
  created_at: CreatedAt
  expires_at: Date
  ip: string | null
  user_agent: string | null
  /** Handed off from a host token whose `amr` proved a second factor (issue 20). */
  second_factor: Generated<boolean>
}

export interface EmailVerificationsTable {
  token_hash: string
  user_id: string
  expires_at: Date
  used_at: Date | null
}

export interface RecoveryCodesTable {
  user_id: string
  code_hash: string
  used_at: Date | null
}

export interface ApiKeysTable {
  id: string
  user_id: string
  name: string
  prefix: string
  secret_hash: string
  org_ids: string[] | null
  resource_ids: string[] | null
  permissions: string[] | null
  expires_at: Date | null
  revoked_at: Date | null
  last_used_at: Date | null
  created_at: CreatedAt
}

export interface InvitationsTable {
  id: string
  org_id: string
  email: string
  role: string
  first_name: string | null
  last_name: string | null
  token_hash: string
  invited_by: string | null
  created_at: CreatedAt
  expires_at: Date
  accepted_at: Date | null
  accepted_by: string | null
  revoked_at: Date | null
  /** More org roles given on accepting, beside `role` (seed 004's module roles; migration 0011). */
  extra_roles: ColumnType<string[], string | undefined, string>
  /** Set: the invitation gives `role` on this resource, and no membership (seed 002's external access). */
  resource_id: Generated<string | null>
}

export interface MailOutboxTable {
  id: string
  recipient: string
  subject: string
  text_body: string
  html_body: string | null
  created_at: CreatedAt
  sent_at: Date | null
  error: string | null
  attempts: Generated<number>
  next_attempt_at: Generated<Date>
  locked_until: Date | null
}

export interface UsedCaptchasTable {
  signature: string
  expires_at: Date
}

/** A SAML assertion id a connection accepted (migration 0017): a replay is refused until it expires. */
export interface SamlAssertionsUsedTable {
  connection_id: string
  assertion_id: string
  expires_at: Date
}

export interface ServerSecretsTable {
  name: string
  value: string
}

export interface RateLimitsTable {
  key: string
  window_start: Date
  count: number
}

export interface RevisionTable {
  id: number
  value: string
}

export interface CreditEntriesTable {
  id: string
  seq: Generated<string>
  org_id: string
  kind: 'purchase' | 'grant' | 'consumption' | 'refund'
  amount: ColumnType<string, number | string, never>
  balance_after: ColumnType<string, number | string, never>
  description: Generated<string>
  actor_type: string
  actor_id: string | null
  created_at: CreatedAt
}

export interface UsageDailyTable {
  org_id: string
  /** YYYY-MM-DD (UTC). */
  day: ColumnType<string, string, string>
  metric: string
  count: ColumnType<string, number | string, number | string>
}

export interface InvoicesTable {
  id: string
  org_id: string
  number: string
  /** YYYY-MM. */
  period: string
  plan: string
  currency: string
  lines: Json
  total: ColumnType<string, number | string, never>
  status: 'open' | 'paid' | 'void'
  provider: string
  provider_reference: string | null
  payment_url: string | null
  billing_email: string | null
  issued_at: Date
  paid_at: Date | null
}

/** An org's directory credential (migration 0014, issue 21.3): only the secret's SHA-256 is kept. */
export interface ScimTokensTable {
  id: string
  org_id: string
  name: string
  prefix: string
  secret_hash: string
  created_by: string | null
  created_at: CreatedAt
  last_used_at: Date | null
  revoked_at: Date | null
}

/** The directory's record of a person in one org; `active` is their membership, never stored here. */
export interface ScimUsersTable {
  id: string
  org_id: string
  user_id: string
  user_name: string
  external_id: string | null
  attributes: Json
  /** The directory groups a deactivated person waits to rejoin (no access meanwhile). */
  suspended_groups: Generated<string[]>
  version: Generated<number>
  created_at: CreatedAt
  updated_at: Date
}

/** Marks a group as the directory's. */
export interface ScimGroupsTable {
  group_id: string
  org_id: string
  external_id: string | null
  version: Generated<number>
  created_at: CreatedAt
  updated_at: Date
}

/** An org's claim on a domain, verified or not (migration 0016, issue 21.2). */
export interface OrgDomainsTable {
  id: string
  org_id: string
  /** Lower case, IDNA labels as punycode (org-domains.repository.ts `normalizeDomain`). */
  domain: string
  token: string
  verified_at: Date | null
  join_mode: Generated<'off' | 'suggest' | 'auto'>
  default_role: string | null
  created_by: string | null
  created_at: CreatedAt
  updated_at: Generated<Date>
}

export interface ChangeLogTable {
  revision: string
  changes: Json
  /** The keyring's key the MAC is under, and the MAC: null on entries from before migration 0022. */
  mac_kid: string | null
  mac: Uint8Array | null
  created_at: CreatedAt
}

/** The engine's state as bytes, beside the revision it reflects (migration 0020, engine-snapshots.repository.ts). */
export interface EngineSnapshotsTable {
  id: Generated<string>
  revision: string
  format: number
  model: string
  migration: string
  feed_mark: string
  digest: string
  size: string
  parts: number
  /** When the state's lineage was last built from rows (migration 0021). */
  lineage_at: Date
  /** The keyring's key the MAC is under, and the MAC (hex): engine-snapshots.repository.ts. */
  mac_kid: string
  mac: string
  created_at: CreatedAt
}

export interface EngineSnapshotPartsTable {
  snapshot_id: string
  part: number
  data: Uint8Array
}

/** Per-org SSO (migration 0015, sso.repository.ts). */
export interface SsoConnectionsTable {
  id: string
  org_id: string
  kind: 'oidc' | 'saml'
  name: string
  /** The adapter's config, its secret fields sealed (`ok1:…`). */
  config: Json
  enabled: Generated<boolean>
  tested_at: Date | null
  test_problem: string | null
  default_role: string | null
  mappings: Json
  created_at: CreatedAt
  updated_at: Generated<Date>
}

export interface SsoIdentitiesTable {
  connection_id: string
  subject: string
  user_id: string
  created_at: CreatedAt
  last_sign_in_at: Generated<Date>
}

export interface SsoSignInsTable {
  state_hash: string
  connection_id: string
  browser_hash: string
  pending: string
  expires_at: Date
}

export interface OrgSsoSettingsTable {
  org_id: string
  sso_required: Generated<boolean>
  break_glass_user_id: string | null
  updated_at: Generated<Date>
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
  engine_snapshots: EngineSnapshotsTable
  engine_snapshot_parts: EngineSnapshotPartsTable
  sessions: SessionsTable
  recovery_codes: RecoveryCodesTable
  api_keys: ApiKeysTable
  invitations: InvitationsTable
  mail_outbox: MailOutboxTable
  used_captchas: UsedCaptchasTable
  saml_assertions_used: SamlAssertionsUsedTable
  rate_limits: RateLimitsTable
  server_secrets: ServerSecretsTable
  email_verifications: EmailVerificationsTable
  password_resets: EmailVerificationsTable
  audit_anchors: AuditAnchorsTable
  webhooks: WebhooksTable
  webhook_events: WebhookEventsTable
  webhook_deliveries: WebhookDeliveriesTable
  webhook_attempts: WebhookAttemptsTable
  credit_entries: CreditEntriesTable
  usage_daily: UsageDailyTable
  invoices: InvoicesTable
  scim_tokens: ScimTokensTable
  scim_users: ScimUsersTable
  scim_groups: ScimGroupsTable
  org_domains: OrgDomainsTable
  sso_connections: SsoConnectionsTable
  sso_identities: SsoIdentitiesTable
  sso_sign_ins: SsoSignInsTable
  org_sso_settings: OrgSsoSettingsTable
}

export type Db = Kysely<Database>
export type Tx = Transaction<Database>
/**
 * Either: repositories take whichever they are given, so they compose inside a transaction. Spelled out,
 * not `Db | Tx`: a type alias's own reference is a distinct (deferred) type, so a `Transaction<Database>`
 * (`tx`) matched neither member at once, and TypeScript compared it with all of Kysely's API (once per
 * program: about 2 s of CPU in `npm run build`'s declaration emit, issue 25.6).
 */
export type Executor = Kysely<Database> | Transaction<Database>
