import { bindings } from '@orgkit/store'
import { up as foldModelGroupRoles } from '../../../store/src/migrations/0013-model-group-roles.ts'
import { orgRoleBinding } from '../../src/services/joining.ts'
import type { TestServer } from './harness.ts'

/**
 * Rows as orgs made before issue 19.2 held them: a role a model group holds (Owners' `owner`, ADMIN's
 * `org_admin`, DEFAULT's `org_member`) also as a person's own org-scope binding. Written straight to the
 * database, as the old version left them; the running engine is reloaded after the migration.
 */
export async function writeOldCopy(s: TestServer, orgId: string, userId: string, role: string) {
  await s.store.db
    .transaction()
    .execute((tx) => bindings.insertBinding(tx, orgRoleBinding(orgId, userId, role, null, 'creator')))
}

/** Runs migration 0013 over the server's database, then loads the engine from it as a restart would. */
export async function runMigration0013(s: TestServer) {
  await foldModelGroupRoles(s.store.db as never)
  await s.ctx.engine.load()
}
