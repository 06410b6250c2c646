import type { Executor } from './database.ts'

/**
 * Spends a SAML assertion id for a connection: true the first time, false for a replay. One insert, so of
 * concurrent posts of one assertion (on any instance) only one gets true. Ids past their expiry are deleted
 * on the way: the assertion itself is refused as expired from then on, so the row has nothing left to guard.
 */
export async function spendAssertion(
  db: Executor,
  spent: { connectionId: string; assertionId: string; expiresAt: Date; now: Date },
): Promise<boolean> {
  await db.deleteFrom('saml_assertions_used').where('expires_at', '<', spent.now).execute()
  const inserted = await db
    .insertInto('saml_assertions_used')
    .values({
      connection_id: spent.connectionId,
      assertion_id: spent.assertionId,
      expires_at: spent.expiresAt,
    })
    .onConflict((oc) => oc.columns(['connection_id', 'assertion_id']).doNothing())
    .executeTakeFirst()
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0
}
