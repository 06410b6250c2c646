import type { Migration, MigrationProvider } from 'kysely'
import * as initial from './0001-initial.ts'
import * as accounts from './0002-accounts.ts'
import * as auditWebhooks from './0003-audit-webhooks.ts'
import * as mailRetries from './0004-mail-retries.ts'
import * as orgSettings from './0005-org-settings.ts'
import * as passwordResets from './0006-password-resets.ts'
import * as billing from './0007-billing.ts'
import * as sqlEvaluator from './0008-sql-evaluator.ts'
import * as externalIdentity from './0009-external-identity.ts'
import * as secretsAtRest from './0010-secrets-at-rest.ts'
import * as orgProfile from './0011-org-profile.ts'
import * as passwordTraits from './0012-password-traits.ts'
import * as modelGroupRoles from './0013-model-group-roles.ts'
import * as scim from './0014-scim.ts'
import * as sso from './0015-sso.ts'
import * as orgDomains from './0016-org-domains.ts'
import * as samlAssertions from './0017-saml-assertions.ts'
import * as webhookSecretRotation from './0019-webhook-secret-rotation.ts'
import * as engineSnapshots from './0020-engine-snapshots.ts'
import * as engineSnapshotMac from './0021-engine-snapshot-mac.ts'
import * as changeFeedMac from './0022-change-feed-mac.ts'
import * as feedHead from './0023-feed-head.ts'
import * as lastStatement from './0024-last-statement.ts'

/** Migrations in order, bundled with the code (no directory scanning at run time). */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-accounts': accounts,
  '0003-audit-webhooks': auditWebhooks,
  '0004-mail-retries': mailRetries,
  '0005-org-settings': orgSettings,
  '0006-password-resets': passwordResets,
  '0007-billing': billing,
  '0008-sql-evaluator': sqlEvaluator,
  '0009-external-identity': externalIdentity,
  '0010-secrets-at-rest': secretsAtRest,
  '0011-org-profile': orgProfile,
  '0012-password-traits': passwordTraits,
  '0013-model-group-roles': modelGroupRoles,
  '0014-scim': scim,
  '0015-sso': sso,
  '0016-org-domains': orgDomains,
  '0017-saml-assertions': samlAssertions,
  '0019-webhook-secret-rotation': webhookSecretRotation,
  '0020-engine-snapshots': engineSnapshots,
  '0021-engine-snapshot-mac': engineSnapshotMac,
  '0022-change-feed-mac': changeFeedMac,
  '0023-feed-head': feedHead,
  '0024-last-statement': lastStatement,
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
}
