import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { bindings, type Executor, groups, members, orgs, resources, type Tx, users } from '../../src/index.ts'

/**
 * Rows for the org-model suites, made through the repositories (their own suites check what those
 * return): each helper opens its own transaction and gives back the new id.
 */
const inTx = <T>(db: Executor, fn: (tx: Tx) => Promise<T>) =>
  db.isTransaction ? fn(db as Tx) : db.transaction().execute(fn)

export async function newUser(db: Executor, email?: string): Promise<string> {
  const id = randomUUID()
  await inTx(db, (tx) =>
    users.insertUser(tx, { id, email: email ?? `${id}@example.com`, name: `U ${id.slice(0, 4)}` }),
  )
  return id
}

export async function newOrg(db: Executor, parentId: string | null = null, name?: string): Promise<string> {
  const id = randomUUID()
  await inTx(db, (tx) =>
    orgs.insertOrg(tx, { id, parentId, name: name ?? `Org ${id.slice(0, 8)}`, creatorId: null }),
  )
  return id
}

export async function newApp(db: Executor, orgId: string): Promise<string> {
  const id = randomUUID()
  await inTx(db, (tx) =>
    resources.insertResource(tx, { id, orgId, type: 'app', parentId: null, name: 'App' }),
  )
  return id
}

export async function newChannel(db: Executor, orgId: string, appId: string): Promise<string> {
  const id = randomUUID()
  await inTx(db, (tx) =>
    resources.insertResource(tx, { id, orgId, type: 'channel', parentId: appId, name: 'Ch' }),
  )
  return id
}

export async function newGroup(db: Executor, orgId: string, name?: string, role: string | null = null) {
  const id = randomUUID()
  await inTx(db, (tx) =>
    groups.insertGroup(tx, { id, orgId, name: name ?? `G ${id}`, description: '', role }),
  )
  return id
}

export async function join(
  db: Executor,
  orgId: string,
  userId: string,
  status: 'active' | 'pending' = 'active',
) {
  await inTx(db, (tx) => members.upsertMembership(tx, orgId, userId, status))
}

/** A binding of a user (or, with `group`, a group) at the org or at a resource of it. */
export async function bind(
  db: Executor,
  b: { orgId: string; userId?: string; groupId?: string; role: string; scope?: { type: string; id: string } },
): Promise<string> {
  const id = randomUUID()
  await inTx(db, (tx) =>
    bindings.insertBinding(tx, {
      id,
      orgId: b.orgId,
      userId: b.userId ?? null,
      groupId: b.groupId ?? null,
      role: b.role,
      scopeType: b.scope?.type ?? 'org',
      resourceId: b.scope?.id ?? null,
      expiresAt: null,
      grantedBy: null,
      reason: null,
    }),
  )
  return id
}

/** How many rows of a table hold one of these ids in this column. */
export async function countWhere(db: Executor, table: string, column: string, ids: readonly string[]) {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} in (${sql.join(ids)})
  `.execute(db)
  return Number(rows[0]!.n)
}
