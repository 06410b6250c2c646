import { randomUUID } from 'node:crypto'
import { ORG, OrgkitError } from '@orgkit/core'
import { sql } from 'kysely'
import {
  type Actor,
  authorize,
  type Ctx,
  isPlatform,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

export type CreditKind = 'purchase' | 'grant' | 'consumption' | 'refund'
/** Purchases and grants add credits; consumptions and refunds take them away. */
const SIGN: Record<CreditKind, 1 | -1> = { purchase: 1, grant: 1, consumption: -1, refund: -1 }

type Row = {
  id: string
  seq: string
  kind: CreditKind
  amount: string
  balance_after: string
  description: string
  actor_type: string
  actor_id: string | null
  created_at: Date
}
const toView = (r: Row) => ({
  id: r.id,
  kind: r.kind,
  amount: Number(r.amount),
  balanceAfter: Number(r.balance_after),
  description: r.description,
  actor: { type: r.actor_type, id: r.actor_id },
  createdAt: r.created_at.toISOString(),
})

/** The balance and the ledger, newest first, a page at a time (`org.read_billing`). */
export async function listCredits(
  ctx: Ctx,
  actor: Actor,
  orgId: string,
  q: { cursor?: string | undefined; limit: number },
) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, 'org.read_billing', { type: ORG, id: orgId })
  const org = await ctx.db
    .selectFrom('orgs')
    .select('credit_balance')
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow()
  let query = ctx.db.selectFrom('credit_entries').selectAll().where('org_id', '=', orgId)
  if (q.cursor) query = query.where('seq', '<', q.cursor)
  const rows = await query.orderBy('seq', 'desc').limit(q.limit).execute()
  return {
    balance: Number(org.credit_balance),
    items: rows.map(toView),
    nextCursor: rows.length === q.limit ? rows.at(-1)!.seq : null,
  }
}

/**
 * Appends one ledger entry and moves the balance with it, in the org's locked write: the balance is
 * always the sum of the entries, and never negative (checked here, and by a constraint on `orgs` should
 * anything else ever try). A billing manager buys credits (`org.update_billing`; the purchase is charged
 * on the period's invoice); grants, consumption and refunds come from the host product (platform token).
 */
export async function addCredits(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: { kind: CreditKind; amount: number; description?: string | undefined },
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    requireOrg(ctx, actor, orgId)
    if (input.kind === 'purchase') authorize(ctx, actor, 'org.update_billing', { type: ORG, id: orgId })
    else if (!isPlatform(actor))
      throw new OrgkitError('PLATFORM_ONLY', `a ${input.kind} of credits comes from the platform token`, {
        field: 'kind',
      })
    const delta = SIGN[input.kind] * input.amount
    const org = await work.tx
      .selectFrom('orgs')
      .select('credit_balance')
      .where('id', '=', orgId)
      .executeTakeFirstOrThrow()
    const balance = Number(org.credit_balance) + delta
    if (balance < 0) {
      throw new OrgkitError('INSUFFICIENT_CREDITS', `the balance is ${org.credit_balance} credits`, {
        balance: Number(org.credit_balance),
        requested: input.amount,
      })
    }
    await work.tx
      .updateTable('orgs')
      .set({ credit_balance: sql<string>`credit_balance + ${delta}` })
      .where('id', '=', orgId)
      .execute()
    const row = await work.tx
      .insertInto('credit_entries')
      .values({
        id: randomUUID(),
        org_id: orgId,
        kind: input.kind,
        amount: delta,
        balance_after: balance,
        description: input.description ?? '',
        actor_type: actor.kind === 'platform' ? 'platform' : actor.keyId ? 'api_key' : 'user',
        actor_id: actor.kind === 'platform' ? actor.tokenId : (actor.keyId ?? actor.userId),
        created_at: new Date(ctx.clock()),
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    const entry = toView(row)
    work.audit({
      orgId,
      action: `billing.credits_${input.kind}`,
      targetType: 'credit_entry',
      targetId: row.id,
      after: entry,
    })
    return entry
  })
}
