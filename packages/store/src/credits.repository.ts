import { randomUUID } from 'node:crypto'
import { type Selectable, sql } from 'kysely'
import type { CreditEntriesTable, Executor, Tx } from './database.ts'

/**
 * The credit ledger (issue #9): each org's entries, and its balance on the org row kept equal to their
 * sum. The balance never goes negative: `appendCreditEntry` refuses such an entry, and a check constraint
 * on `orgs` refuses any other write that would.
 */
export type CreditKind = CreditEntriesTable['kind']
export type CreditEntryRow = Selectable<CreditEntriesTable>

/** The org's balance (the org must exist). */
export async function creditBalance(db: Executor, orgId: string): Promise<number> {
  const org = await db
    .selectFrom('orgs')
    .select('credit_balance')
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow()
  return Number(org.credit_balance)
}

/** The org's entries, newest first; `beforeSeq` is the previous page's last `seq`. */
export function listCreditEntries(
  db: Executor,
  orgId: string,
  page: { beforeSeq?: string | undefined; limit: number },
): Promise<CreditEntryRow[]> {
  let q = db.selectFrom('credit_entries').selectAll().where('org_id', '=', orgId)
  if (page.beforeSeq) q = q.where('seq', '<', page.beforeSeq)
  return q.orderBy('seq', 'desc').limit(page.limit).execute()
}

export type AppendResult = { applied: true; entry: CreditEntryRow } | { applied: false; balance: number }

/**
 * Appends one entry of `amount` (signed: positive adds credits, negative takes them) and moves the
 * balance with it, or, when the balance would go negative, writes nothing and answers the balance.
 * The balance is read under the org row's lock (which `write()` already holds): concurrent appends to one
 * org queue, so each entry's `balance_after` is the balance it leaves and the entries chain.
 */
export async function appendCreditEntry(
  tx: Tx,
  entry: {
    orgId: string
    kind: CreditKind
    amount: number
    description: string
    actorType: string
    actorId: string | null
  },
  now: Date,
): Promise<AppendResult> {
  const org = await tx
    .selectFrom('orgs')
    .select('credit_balance')
    .where('id', '=', entry.orgId)
    .forNoKeyUpdate()
    .executeTakeFirstOrThrow()
  const balance = Number(org.credit_balance) + entry.amount
  if (balance < 0) return { applied: false, balance: Number(org.credit_balance) }
  await tx
    .updateTable('orgs')
    .set({ credit_balance: sql<string>`credit_balance + ${entry.amount}` })
    .where('id', '=', entry.orgId)
    .execute()
  const row = await tx
    .insertInto('credit_entries')
    .values({
      id: randomUUID(),
      org_id: entry.orgId,
      kind: entry.kind,
      amount: entry.amount,
      balance_after: balance,
      description: entry.description,
      actor_type: entry.actorType,
      actor_id: entry.actorId,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return { applied: true, entry: row }
}

/** Credits moved in [start, end), by kind, as positive sums (kinds with no entries are absent). */
export async function creditTotals(
  db: Executor,
  orgId: string,
  start: Date,
  end: Date,
): Promise<Partial<Record<CreditKind, number>>> {
  const rows = await db
    .selectFrom('credit_entries')
    .select(['kind', sql<string>`sum(abs(amount))`.as('n')])
    .where('org_id', '=', orgId)
    .where('created_at', '>=', start)
    .where('created_at', '<', end)
    .groupBy('kind')
    .execute()
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]))
}
