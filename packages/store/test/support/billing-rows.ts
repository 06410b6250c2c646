import { randomUUID } from 'node:crypto'
import type { Executor } from '../../src/index.ts'

/**
 * Plain rows for the billing and webhook suites, inserted directly: those suites test their own
 * repositories, not the ones that create orgs and users.
 */
export async function insertOrgRow(
  db: Executor,
  org: { parentId?: string | null; plan?: string | null; name?: string } = {},
): Promise<string> {
  const id = randomUUID()
  await db
    .insertInto('orgs')
    .values({
      id,
      parent_id: org.parentId ?? null,
      name: org.name ?? `Org ${id.slice(0, 8)}`,
      creator_id: null,
      password_policy: null,
      api_key_policy: null,
      plan: org.plan ?? null,
      billing_email: null,
    })
    .execute()
  return id
}

export async function insertUserRow(db: Executor): Promise<string> {
  const id = randomUUID()
  await db
    .insertInto('users')
    .values({ id, email: `${id}@example.com`, name: 'U', password_hash: null })
    .execute()
  return id
}
