export * as apiKeys from './api-keys.repository.ts'
export {
  type ActorVia,
  type AuditEndpoint,
  type AuditFilter,
  type AuditInput,
  type AuditRow,
  appendAudit,
  appendAuditEntry,
  type ChainHead,
  type ChainReport,
  canonical,
  chainHead,
  entryHash,
  isNotLast,
  type KeptHeadReport,
  listAuditEntries,
  orgChainHeads,
  pruneAudit,
  verifyChain,
} from './audit.repository.ts'
export * as auditNames from './audit-names.repository.ts'
export * as billing from './billing.repository.ts'
export * as bindings from './bindings.repository.ts'
export * as captchas from './captchas.repository.ts'
export { type Changed, changed, changes } from './changed.ts'
export {
  CHANGES_CHANNEL,
  changesSince,
  currentRevision,
  type FeedMac,
  type FeedRead,
  recordChanges,
  remacChanges,
} from './changes.repository.ts'
export { type DatabaseConfig, migrate, openPglite, openStore, ping, type Store } from './connect.ts'
export * as credentials from './credentials.repository.ts'
export * as credits from './credits.repository.ts'
export * as customRoles from './custom-roles.repository.ts'
export type { Database, Db, Executor, Tx } from './database.ts'
export * as engineSnapshots from './engine-snapshots.repository.ts'
export * as groups from './groups.repository.ts'
export * as invitations from './invitations.repository.ts'
export * as invoices from './invoices.repository.ts'
export * as mailOutbox from './mail-outbox.repository.ts'
export * as members from './members.repository.ts'
export * as modelRoles from './model-roles.repository.ts'
export * as orgDomains from './org-domains.repository.ts'
export * as orgSecurity from './org-security.repository.ts'
export * as orgs from './orgs.repository.ts'
export * as overrides from './overrides.repository.ts'
export { fromPgError, mapPgErrors } from './pg-errors.ts'
export { isStalePlan } from './prepared.ts'
export * as rateLimits from './rate-limits.repository.ts'
export * as resources from './resources.repository.ts'
export * as samlAssertions from './saml-assertions.repository.ts'
export * as scim from './scim.repository.ts'
export * as serverSecrets from './server-secrets.repository.ts'
export * as sessions from './sessions.repository.ts'
export {
  loadSnapshot,
  streamSnapshot,
  toApiKeyRecord,
  toBindingRecord,
  toCustomRoleRecord,
  toOrgRecord,
  toOverrideRecord,
} from './snapshot.ts'
export { snapshotSource } from './snapshot-source.ts'
export * as sqlEvaluator from './sql-evaluator.ts'
export * as sso from './sso.repository.ts'
export * as tokens from './tokens.repository.ts'
export * as usage from './usage.repository.ts'
export * as users from './users.repository.ts'
export * as webhookDeliveries from './webhook-deliveries.repository.ts'
export * as webhooks from './webhooks.repository.ts'
