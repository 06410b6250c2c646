import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  type AuditFilter,
  appendAudit,
  appendAuditEntry,
  type ChainHead,
  canonical,
  chainHead,
  changesSince,
  currentRevision,
  entryHash,
  listAuditEntries,
  orgChainHeads,
  pruneAudit,
  verifyChain,
  webhooks,
} from '../src/index.ts'
import { insertOrgRow } from './support/billing-rows.ts'
import { testFeedMac } from './support/feed-mac.ts'
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
    expect(await verifyChain(db(), orgId)).toMatchObject({ ok: true, checked: 2, firstBroken: null })
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

describe.each(TARGETS)('audit heads: a cut or rewritten tail (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  async function chain(n: number) {
    const orgId = await insertOrgRow(db())
    for (let i = 1; i <= n; i++) {
      await db()
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
              targetId: `u${i}`,
              ip: null,
              userAgent: null,
              requestId: null,
            },
            at(i),
          ),
        )
    }
    return orgId
  }

  it('answers the head; the links alone miss deleted newest entries, a kept head does not', async () => {
    const orgId = await chain(5)
    const head = (await chainHead(db(), orgId))!
    expect(head.seq).toBe(5)
    expect(await verifyChain(db(), orgId, head)).toMatchObject({
      ok: true,
      truncated: false,
      head,
      kept: { ...head, status: 'reached', found: head.hash },
    })
    expect((await orgChainHeads(db())).find((h) => h.orgId === orgId)).toEqual({ orgId, ...head })
    await db().deleteFrom('audit_log').where('org_id', '=', orgId).where('seq', '>', '3').execute()
    const without = await verifyChain(db(), orgId)
    expect(without).toMatchObject({ ok: true, checked: 3, truncated: false, kept: null, head: { seq: 3 } })
    expect(await verifyChain(db(), orgId, head)).toMatchObject({
      ok: false,
      truncated: true,
      kept: { seq: 5, status: 'missing', found: null },
      head: { seq: 3 },
    })
  })

  it('catches a tail rewritten with hashes recomputed, which the links accept', async () => {
    const orgId = await chain(4)
    const head = (await chainHead(db(), orgId))!
    // A careful forger: rewrite entry 2 and recompute every hash after it.
    const rows = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('seq')
      .execute()
    let prev = rows[0]!.hash!
    for (const row of rows.slice(1)) {
      const forged = { ...row, target_id: row.seq === '2' ? 'someone-else' : row.target_id, prev_hash: prev }
      const hash = entryHash(prev, forged as never)
      await db()
        .updateTable('audit_log')
        .set({ target_id: forged.target_id, prev_hash: prev, hash })
        .where('id', '=', row.id)
        .execute()
      prev = hash
    }
    expect(await verifyChain(db(), orgId)).toMatchObject({ ok: true, truncated: false })
    expect(await verifyChain(db(), orgId, head)).toMatchObject({
      ok: false,
      truncated: true,
      kept: { seq: 4, status: 'mismatch', found: prev },
    })
  })

  it('says a kept head older than the retention anchor cannot be checked, and checks one at the anchor', async () => {
    const orgId = await chain(4)
    const early = { seq: 2, hash: (await verifyChain(db(), orgId)).head!.hash }
    const rows = await db()
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where('org_id', '=', orgId)
      .orderBy('seq')
      .execute()
    const third = { seq: 3, hash: rows[2]!.hash! }
    early.hash = rows[1]!.hash!
    await db()
      .transaction()
      .execute((tx) => pruneAudit(tx, at(4)))
    expect(await verifyChain(db(), orgId, early)).toMatchObject({
      ok: true,
      truncated: false,
      kept: { status: 'pruned' },
    })
    expect(await verifyChain(db(), orgId, third)).toMatchObject({
      ok: true,
      truncated: false,
      kept: { status: 'reached' },
    })
    expect(await verifyChain(db(), orgId, { seq: 3, hash: 'f'.repeat(64) })).toMatchObject({
      ok: false,
      truncated: true,
      kept: { status: 'mismatch' },
    })
  })
})

describe.each(TARGETS)('audit appends from a kept head (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const entry = (orgId: string | null, targetId: string) => ({
    orgId,
    actorType: 'user' as const,
    actorId: 'u1',
    action: 'member.added',
    targetType: 'user',
    targetId,
    ip: null,
    userAgent: null,
    requestId: null,
  })
  const append = (orgId: string, head: ChainHead | null, day: number) =>
    db()
      .transaction()
      .execute((tx) => appendAuditEntry(tx, entry(orgId, `u${day}`), at(day), head))
  const headOf = ({ row }: { row: { seq: string | null; hash: string | null } }) => ({
    seq: Number(row.seq),
    hash: row.hash!,
  })
  const seqs = async (orgId: string) =>
    (
      await db().selectFrom('audit_log').select('seq').where('org_id', '=', orgId).orderBy('seq').execute()
    ).map((r) => Number(r.seq))

  it('chains from the head it is given, and from the chain itself when that head is stale or false', async () => {
    const orgId = await insertOrgRow(db())
    const first = await append(orgId, null, 1)
    const second = await append(orgId, headOf(first), 2)
    expect(second.row).toMatchObject({ seq: '2', prev_hash: first.row.hash })
    // Stale: another instance appended after the head this one kept.
    const third = await append(orgId, headOf(first), 3)
    expect(third.row).toMatchObject({ seq: '3', prev_hash: second.row.hash })
    // Not in the chain: a hash it never held, a seq past its end (a write that rolled back).
    const fourth = await append(orgId, { seq: 3, hash: 'f'.repeat(64) }, 4)
    expect(fourth.row).toMatchObject({ seq: '4', prev_hash: third.row.hash })
    const fifth = await append(orgId, { seq: 9, hash: fourth.row.hash! }, 5)
    expect(fifth.row).toMatchObject({ seq: '5', prev_hash: fourth.row.hash })
    expect(await seqs(orgId)).toEqual([1, 2, 3, 4, 5])
    expect(await verifyChain(db(), orgId)).toMatchObject({ ok: true, checked: 5, firstBroken: null })
  })

  it('chains from a head retention pruned, which the anchor holds', async () => {
    const orgId = await insertOrgRow(db())
    const first = await append(orgId, null, 1)
    const second = await append(orgId, headOf(first), 2)
    await db()
      .transaction()
      .execute((tx) => pruneAudit(tx, at(3)))
    expect(await seqs(orgId)).toEqual([])
    const third = await append(orgId, headOf(second), 3)
    expect(third.row).toMatchObject({ seq: '3', prev_hash: second.row.hash })
    expect(await verifyChain(db(), orgId)).toMatchObject({ ok: true, checked: 1, firstBroken: null })
  })

  it('returns the org’s enabled endpoints with the entry, the account chain none', async () => {
    const orgId = await insertOrgRow(db())
    const hook = (id: string, events: string[] | null) =>
      db()
        .transaction()
        .execute((tx) =>
          webhooks.insertWebhook(tx, {
            id,
            orgId,
            url: 'https://example.test/hook',
            events,
            secret: 's',
            description: '',
          }),
        )
    const on = await hook(crypto.randomUUID(), ['member.*'])
    const off = await hook(crypto.randomUUID(), null)
    await db().updateTable('webhooks').set({ enabled: false }).where('id', '=', off.id).execute()
    const first = await append(orgId, null, 1)
    expect(first.endpoints).toEqual([{ id: on.id, events: ['member.*'] }])
    expect((await append(orgId, headOf(first), 2)).endpoints).toEqual([{ id: on.id, events: ['member.*'] }])
    const account = await db()
      .transaction()
      .execute((tx) => appendAuditEntry(tx, entry(null, 'u1'), at(1), null))
    expect(account.endpoints).toEqual([])
  })
  // Issue 25.3: the statement hands back only the id; the rest of the row is made in Node from what went in.
  it('hands back the entry as the database holds it', async () => {
    const orgId = await insertOrgRow(db())
    const first = await append(orgId, null, 1)
    const full = {
      ...entry(orgId, 'u2'),
      actorVia: 'api_key' as const,
      actorCredentialId: 'key-1',
      before: { roles: ['b', 'a'], z: 1, a: { é: 'x"y', n: null, half: 0.5 } },
      after: [1, 'two', { three: true }],
      ip: '10.0.0.1',
      userAgent: 'agent',
      requestId: 'req-1',
    }
    const second = await db()
      .transaction()
      .execute((tx) => appendAuditEntry(tx, full, at(2), headOf(first)))
    const stored = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '=', second.row.id)
      .executeTakeFirstOrThrow()
    expect(second.row).toEqual(stored)
    expect(second.row.seq).toBe('2')
  })

  it('logs the write’s changes in the entry’s statement when the entry goes in, and takes no revision when not', async () => {
    const mac = testFeedMac()
    const orgId = await insertOrgRow(db())
    const first = await append(orgId, null, 1)
    const changes = [{ op: 'user.put' as const, user: { id: crypto.randomUUID(), mfaEnabled: false } }]
    const before = await currentRevision(db())
    const logged = await db()
      .transaction()
      .execute((tx) => appendAuditEntry(tx, entry(orgId, 'u2'), at(2), headOf(first), { changes, mac }))
    expect(logged.row).toMatchObject({ seq: '2', prev_hash: first.row.hash })
    expect(logged.revision).toBe(before + 1)
    expect(await changesSince(db(), before, mac)).toEqual([{ revision: before + 1, changes }])
    // A stale head: the entry goes in by the full append, and the caller records the changes itself.
    const stale = await db()
      .transaction()
      .execute((tx) => appendAuditEntry(tx, entry(orgId, 'u3'), at(3), headOf(first), { changes, mac }))
    expect(stale.row).toMatchObject({ seq: '3', prev_hash: logged.row.hash })
    expect(stale.revision).toBeNull()
    expect(await currentRevision(db())).toBe(before + 1)
  })
})
