import type { Selectable } from 'kysely'
import type { Executor, Tx, WebhooksTable } from './database.ts'

/**
 * An endpoint as stored, its signing secrets included — sealed (`ok1:…`, server/security/secret-box.ts), or in
 * plain text as a version before sealing left them: services strip them from every view.
 */
export type WebhookRow = Selectable<WebhooksTable>

/** An org's endpoints, oldest first. */
export function listWebhooks(db: Executor, orgId: string): Promise<WebhookRow[]> {
  // Two made in one millisecond (PGlite's clock) list in one order every time.
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

/** The org's endpoint with this id: another org's id finds nothing (tenancy). */
export function findWebhook(db: Executor, orgId: string, id: string): Promise<WebhookRow | undefined> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .executeTakeFirst()
}

/** The endpoint a delivery goes to, whatever its org: for the worker, which acts for no tenant. */
export function findWebhookById(db: Executor, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The org's enabled endpoints and the event types each takes (null: all), for the outbox. */
export function enabledWebhooks(db: Executor, orgId: string) {
  return db
    .selectFrom('webhooks')
    .select(['id', 'events'])
    .where('org_id', '=', orgId)
    .where('enabled', '=', true)
    .execute()
}

export function insertWebhook(
  tx: Tx,
  hook: {
    id: string
    orgId: string
    url: string
    events: string[] | null
    secret: string
    description: string
  },
): Promise<WebhookRow> {
  return tx
    .insertInto('webhooks')
    .values({
      id: hook.id,
      org_id: hook.orgId,
      url: hook.url,
      events: hook.events,
      secret: hook.secret,
      description: hook.description,
      disabled_reason: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export interface WebhookPatch {
  url?: string
  events?: string[] | null
  description?: string
  enabled?: boolean
  disabled_reason?: string | null
}

/** Updates an endpoint the caller has found (in its org) and answers it as it now is. */
export function updateWebhook(tx: Tx, id: string, patch: WebhookPatch): Promise<WebhookRow> {
  return tx.updateTable('webhooks').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/**
 * Gives an endpoint a new signing secret; the one it replaces keeps signing until `previousUntil`. Answers
 * the endpoint as it now is. The old value moves to `previous_secret` as stored: both are sealed to the
 * endpoint, not to the column.
 */
export function rotateSecret(tx: Tx, id: string, secret: string, previousUntil: Date): Promise<WebhookRow> {
  return tx
    .updateTable('webhooks')
    .set((eb) => ({
      secret,
      previous_secret: eb.ref('secret'),
      previous_secret_expires_at: previousUntil,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

/**
 * The endpoints whose current or previous secret does not start with `exceptPrefix` (is not sealed under
 * the current key), to seal again; with '' every endpoint that has a secret.
 */
export function listSecrets(
  db: Executor,
  exceptPrefix = '',
): Promise<Pick<WebhookRow, 'id' | 'secret' | 'previous_secret'>[]> {
  const pattern = `${exceptPrefix.replace(/[\\%_]/g, '\\$&')}%`
  return db
    .selectFrom('webhooks')
    .select(['id', 'secret', 'previous_secret'])
    .$if(exceptPrefix !== '', (q) =>
      q.where((eb) =>
        eb.or([
          eb('secret', 'not like', pattern),
          eb.and([eb('previous_secret', 'is not', null), eb('previous_secret', 'not like', pattern)]),
        ]),
      ),
    )
    .orderBy('id')
    .execute()
}

/**
 * An endpoint's secrets become `next` (the same secrets sealed anew) if they are still `expected`: answers
 * whether they did. A concurrent rotation wins over a re-seal.
 */
export async function replaceSecrets(
  db: Executor,
  id: string,
  expected: { secret: string; previous_secret: string | null },
  next: { secret: string; previous_secret: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('webhooks')
    .set(next)
    .where('id', '=', id)
    .where('secret', '=', expected.secret)
    .where('previous_secret', 'is not distinct from', expected.previous_secret)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** Turns an endpoint off, saying why (the receiver answered 410 Gone, say). */
export async function disableWebhook(tx: Tx, id: string, reason: string): Promise<void> {
  await tx
    .updateTable('webhooks')
    .set({ enabled: false, disabled_reason: reason })
    .where('id', '=', id)
    .execute()
}

/** Deletes the org's endpoint (its deliveries go with it) and answers it, or undefined if it has none such. */
export function deleteWebhook(tx: Tx, orgId: string, id: string): Promise<WebhookRow | undefined> {
  return tx
    .deleteFrom('webhooks')
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .returningAll()
    .executeTakeFirst()
}
