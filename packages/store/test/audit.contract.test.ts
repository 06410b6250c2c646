import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type AuditFilter, appendAudit, canonical, listAuditEntries, verifyChain } from '../src/index.ts'
import { insertOrgRow } from './support/billing-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

const at = (day: number) => new Date(Date.UTC(2030, 0, day))

describe.each(TARGETS)('audit reads (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  /** An org with six entries, one a day from Jan 1st, and an entry in another org. */
  async function seeded() {
    const orgId = await insertOrgRow(db())
    const entries = [
      { action: 'member.added', actorId: 'alice', targetType: 'user', targetId: 'u1' },
      { action: 'member.removed', actorId: 'bob', targetType: 'user', targetId: 'u1' },
      { action: 'billing.plan_changed', actorId: 'alice', targetType: 'org', targetId: orgId },
      { action: 'group.created', actorId: 'alice', targetType: 'group', targetId: 'g1' },
      { action: 'billing.credits_purchase', actorId: 'bob', targetType: 'credit_entry', targetId: 'c1' },
      { action: 'membership.x', actorId: 'carol', targetType: 'user', targetId: 'u2' },
    ]
    for (const [i, e] of [...entries.entries()]) {
      await db()
        .transaction()
        .execute((tx) =>
          appendAudit(
            tx,
            { orgId, actorType: 'user', ip: null, userAgent: null, requestId: null, ...e },
            at(i + 1),
          ),
        )
    }
    const other = await insertOrgRow(db())
    await db()
      .transaction()
      .execute((tx) =>
        appendAudit(
          tx,
          {
            orgId: other,
            actorType: 'user',
            actorId: 'alice',
            action: 'member.added',
            targetType: 'user',
            targetId: 'u1',
            ip: null,
            userAgent: null,
            requestId: null,
          },
          at(1),
        ),
      )
    return orgId
  }

  const all: AuditFilter = { billing: true, rest: true }
  const actions = async (orgId: string, filter: Partial<AuditFilter>, limit = 100) =>
    (await listAuditEntries(db(), orgId, { ...all, ...filter }, limit)).map((r) => r.action)

  it('reads an org’s entries newest first, and a page at a time by seq', async () => {
    const orgId = await seeded()
    const rows = await listAuditEntries(db(), orgId, all, 100)
    expect(rows.map((r) => Number(r.seq))).toEqual([6, 5, 4, 3, 2, 1])
    expect(rows[0]).toMatchObject({ org_id: orgId, actor_id: 'carol', created_at: at(6) })
    const page1 = await listAuditEntries(db(), orgId, all, 4)
    const page2 = await listAuditEntries(db(), orgId, { ...all, beforeSeq: page1.at(-1)!.seq! }, 4)
    expect([...page1, ...page2].map((r) => r.id)).toEqual(rows.map((r) => r.id))
  })

  it('keeps billing entries and the others apart by what the reader may see', async () => {
    const orgId = await seeded()
    expect(await actions(orgId, { billing: false })).toEqual([
      'membership.x',
      'group.created',
      'member.removed',
      'member.added',
    ])
    expect(await actions(orgId, { rest: false })).toEqual([
      'billing.credits_purchase',
      'billing.plan_changed',
    ])
  })

  it('filters by actor, action or action family, target, and time', async () => {
    const orgId = await seeded()
    expect(await actions(orgId, { actorId: 'bob' })).toEqual(['billing.credits_purchase', 'member.removed'])
    expect(await actions(orgId, { action: 'member.added' })).toEqual(['member.added'])
    // A family is `member.` and what follows: `membership.x` is not in it.
    expect(await actions(orgId, { action: 'member.*' })).toEqual(['member.removed', 'member.added'])
    expect(await actions(orgId, { action: 'billing.*', billing: false })).toEqual([])
    expect(await actions(orgId, { targetType: 'user', targetId: 'u1' })).toEqual([
      'member.removed',
      'member.added',
    ])
    // From inclusive, to exclusive.
    expect(await actions(orgId, { from: at(2), to: at(4) })).toEqual([
      'billing.plan_changed',
      'member.removed',
    ])
  })
})

describe.each(TARGETS)('audit actors: how they authenticated (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const append = (orgId: string, extra: object, day: number) =>
    db()
      .transaction()
      .execute((tx) =>
        appendAudit(
          tx,
          {
            orgId,
            actorType: 'user',
            actorId: 'u1',
            action: 'member.added',
            targetType: 'user',
            targetId: 'u2',
            ip: null,
            userAgent: null,
            requestId: null,
            ...extra,
          },
          at(day),
        ),
      )

  it('hashes an entry without them exactly as before migration 0009, so old chains still verify', async () => {
    const orgId = await insertOrgRow(db())
    const row = await append(orgId, {}, 1)
    expect([row.actor_via, row.actor_credential_id]).toEqual([null, null])
    // The hash as audit.repository.ts computed it before the two fields existed.
    const before = canonical({
      seq: '1',
      org_id: orgId,
      actor_type: 'user',
      actor_id: 'u1',
      action: 'member.added',
      target_type: 'user',
      target_id: 'u2',
      before: null,
      after: null,
      ip: null,
      user_agent: null,
      request_id: null,
      created_at: at(1).toISOString(),
    })
    expect(row.hash).toBe(createHash('sha256').update(`orgkit-audit-genesis\n${before}`).digest('hex'))
    const acting = await append(orgId, { actorVia: 'platform', actorCredentialId: 'token-1' }, 2)
    expect([acting.actor_via, acting.actor_credential_id]).toEqual(['platform', 'token-1'])
    expect(await verifyChain(db(), orgId)).toEqual({ ok: true, checked: 2, firstBroken: null })
  })

  it('covers them in the hash once set: rewriting how someone acted breaks the chain', async () => {
    const orgId = await insertOrgRow(db())
    await append(orgId, { actorVia: 'session' }, 1)
    const acting = await append(orgId, { actorVia: 'platform', actorCredentialId: 'token-1' }, 2)
    await db().updateTable('audit_log').set({ actor_via: 'session' }).where('id', '=', acting.id).execute()
    expect(await verifyChain(db(), orgId)).toMatchObject({
      ok: false,
      firstBroken: { id: acting.id, reason: 'content' },
    })
  })
})
