import type { Executor, Tx } from './database.ts'

/**
 * Per-org SSO (issue 21.1, migration 0015): connections, the (connection, subject) → account links, started
 * sign-ins, and the org's "SSO required" setting. None of it is mirrored by the engine: access that SSO
 * gives is ordinary membership, group members and bindings, written through their own repositories.
 */

export type SsoConnectionRow = NonNullable<Awaited<ReturnType<typeof findConnection>>>

export interface NewSsoConnection {
  id: string
  orgId: string
  kind: 'oidc' | 'saml'
  name: string
  /** The adapter's config, secrets already sealed. */
  config: unknown
  defaultRole: string | null
  mappings: unknown
  enabled: boolean
}

export function insertConnection(tx: Tx, c: NewSsoConnection, now: Date) {
  return tx
    .insertInto('sso_connections')
    .values({
      id: c.id,
      org_id: c.orgId,
      kind: c.kind,
      name: c.name,
      config: JSON.stringify(c.config),
      default_role: c.defaultRole,
      mappings: JSON.stringify(c.mappings),
      enabled: c.enabled,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export function listConnections(db: Executor, orgId: string) {
  return db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

/** One connection of this org (tenancy: an id of another org's connection finds nothing). */
export function findConnection(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst()
}

/** A connection by id alone: a sign-in's start by connection id and its callback, whose org it names. */
export function findConnectionById(db: Executor, id: string) {
  return db.selectFrom('sso_connections').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The org's enabled connections, tested first, oldest first: where a sign-in for its domains goes. */
export function enabledConnections(db: Executor, orgId: string) {
  return db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('enabled', '=', true)
    .orderBy(({ eb }) => eb('tested_at', 'is', null))
    .orderBy('created_at')
    .execute()
}

export interface SsoConnectionPatch {
  name?: string
  config?: unknown
  enabled?: boolean
  defaultRole?: string | null
  mappings?: unknown
}

/**
 * Updates a connection; a new config clears the last test (what was tested is no longer what is stored).
 * Undefined when there is no such connection in the org.
 */
export function updateConnection(tx: Tx, orgId: string, id: string, patch: SsoConnectionPatch, now: Date) {
  return tx
    .updateTable('sso_connections')
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.config !== undefined && {
        config: JSON.stringify(patch.config),
        tested_at: null,
        test_problem: null,
      }),
      ...(patch.enabled !== undefined && { enabled: patch.enabled }),
      ...(patch.defaultRole !== undefined && { default_role: patch.defaultRole }),
      ...(patch.mappings !== undefined && { mappings: JSON.stringify(patch.mappings) }),
      updated_at: now,
    })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/**
 * Records a test's outcome — only if the config is still the one tested (`configTested`, compared as
 * stored): a concurrent edit's config is never marked tested by an older test.
 */
export async function recordTest(
  tx: Tx,
  orgId: string,
  id: string,
  configTested: unknown,
  outcome: { at: Date; problem: string | null },
) {
  return tx
    .updateTable('sso_connections')
    .set({ tested_at: outcome.problem === null ? outcome.at : null, test_problem: outcome.problem })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('config', '=', JSON.stringify(configTested))
    .returningAll()
    .executeTakeFirst()
}

export async function deleteConnection(tx: Tx, orgId: string, id: string): Promise<boolean> {
  const rows = await tx
    .deleteFrom('sso_connections')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning('id')
    .execute()
  return rows.length > 0
}

/** Every connection's config (for sealing its secrets anew under the current key: `orgkit secrets rotate`). */
export function listConfigs(db: Executor) {
  return db.selectFrom('sso_connections').select(['id', 'config']).execute()
}

/** Replaces a config only if it is still `before` (an admin's concurrent edit wins); whether it did. */
export async function replaceConfig(
  db: Executor,
  id: string,
  before: unknown,
  after: unknown,
): Promise<boolean> {
  const rows = await db
    .updateTable('sso_connections')
    .set({ config: JSON.stringify(after) })
    .where('id', '=', id)
    .where('config', '=', JSON.stringify(before))
    .returning('id')
    .execute()
  return rows.length > 0
}

// (connection, subject) → account

export async function findIdentity(db: Executor, connectionId: string, subject: string) {
  const row = await db
    .selectFrom('sso_identities')
    .select('user_id')
    .where('connection_id', '=', connectionId)
    .where('subject', '=', subject)
    .executeTakeFirst()
  return row?.user_id
}

/**
 * Links a subject to an account, once: a subject already linked keeps its account (the returned user id
 * says which), so two first sign-ins at once can't link one subject twice.
 */
export async function linkIdentity(tx: Tx, connectionId: string, subject: string, userId: string, now: Date) {
  await tx
    .insertInto('sso_identities')
    .values({ connection_id: connectionId, subject, user_id: userId, created_at: now, last_sign_in_at: now })
    .onConflict((oc) => oc.columns(['connection_id', 'subject']).doUpdateSet({ last_sign_in_at: now }))
    .execute()
  return (await findIdentity(tx, connectionId, subject))!
}

// Started sign-ins

export function insertSignIn(
  db: Executor,
  s: { stateHash: string; connectionId: string; browserHash: string; pending: string; expiresAt: Date },
) {
  return db
    .insertInto('sso_sign_ins')
    .values({
      state_hash: s.stateHash,
      connection_id: s.connectionId,
      browser_hash: s.browserHash,
      pending: s.pending,
      expires_at: s.expiresAt,
    })
    .execute()
}

/** Takes a started sign-in once (of concurrent callbacks with one state, exactly one gets it), if unexpired. */
export async function takeSignIn(db: Executor, stateHash: string, now: Date) {
  const row = await db
    .deleteFrom('sso_sign_ins')
    .where('state_hash', '=', stateHash)
    .returningAll()
    .executeTakeFirst()
  return row && row.expires_at > now ? row : undefined
}

export async function pruneSignIns(db: Executor, now: Date): Promise<number> {
  const rows = await db
    .deleteFrom('sso_sign_ins')
    .where('expires_at', '<=', now)
    .returning('state_hash')
    .execute()
  return rows.length
}

// "SSO required"

export async function findSettings(db: Executor, orgId: string) {
  const row = await db
    .selectFrom('org_sso_settings')
    .select(['sso_required', 'break_glass_user_id'])
    .where('org_id', '=', orgId)
    .executeTakeFirst()
  return row ?? { sso_required: false, break_glass_user_id: null }
}

export function putSettings(
  tx: Tx,
  orgId: string,
  s: { ssoRequired: boolean; breakGlassUserId: string | null },
  now: Date,
) {
  return tx
    .insertInto('org_sso_settings')
    .values({
      org_id: orgId,
      sso_required: s.ssoRequired,
      break_glass_user_id: s.breakGlassUserId,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('org_id').doUpdateSet({
        sso_required: s.ssoRequired,
        break_glass_user_id: s.breakGlassUserId,
        updated_at: now,
      }),
    )
    .returning(['sso_required', 'break_glass_user_id'])
    .executeTakeFirstOrThrow()
}
