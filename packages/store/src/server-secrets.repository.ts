import type { Executor } from './database.ts'

/**
 * The secret every instance shares under this name: `candidate` becomes it if there is none yet. Instances
 * starting together each offer one; the first insert wins and all of them read the same value back.
 */
export async function sharedSecret(db: Executor, name: string, candidate: string): Promise<string> {
  await db
    .insertInto('server_secrets')
    .values({ name, value: candidate })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute()
  const row = await db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow()
  return row.value
}
