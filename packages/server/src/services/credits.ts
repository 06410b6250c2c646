import { ORG, OrgkitError } from '@orgkit/core'
import { credits } from '@orgkit/store'
import {
  type Actor,
  authorize,
  type Ctx,
  isPlatform,
  type RequestMeta,
  requireOrg,
  write,
} from './context.ts'

export type CreditKind = credits.CreditKind
/** Purchases and grants add credits; consumptions and refunds take them away. */
const SIGN: Record<CreditKind, 1 | -1> = { purchase: 1, grant: 1, consumption: -1, refund: -1 }

const toView = (r: credits.CreditEntryRow) => ({
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
  const balance = await credits.creditBalance(ctx.db, orgId)
  const rows = await credits.listCreditEntries(ctx.db, orgId, { beforeSeq: q.cursor, limit: q.limit })
  return {
    balance,
    items: rows.map(toView),
    nextCursor: rows.length === q.limit ? rows.at(-1)!.seq : null,
  }
}

/**
 * Appends one ledger entry and moves the balance with it, in the org's locked write: the balance is
 * always the sum of the entries, and never negative (checked by the ledger's append, and by a constraint
 * on `orgs` should anything else ever try). A billing manager buys credits (`org.update_billing`; the purchase is charged
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
    const appended = await credits.appendCreditEntry(
      work.tx,
      {
        orgId,
        kind: input.kind,
        amount: delta,
        description: input.description ?? '',
        actorType: actor.kind === 'platform' ? 'platform' : actor.keyId ? 'api_key' : 'user',
        actorId: actor.kind === 'platform' ? actor.tokenId : (actor.keyId ?? actor.userId),
      },
      new Date(ctx.clock()),
    )
    if (!appended.applied) {
      throw new OrgkitError('INSUFFICIENT_CREDITS', `the balance is ${appended.balance} credits`, {
        balance: appended.balance,
        requested: input.amount,
      })
    }
    const row = appended.entry
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
