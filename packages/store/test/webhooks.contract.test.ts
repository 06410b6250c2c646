import { randomUUID } from 'node:crypto'
import { setTimeout } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { webhookDeliveries, webhooks } from '../src/index.ts'
import { insertOrgRow } from './support/billing-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('webhooks repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  const newHook = (orgId: string, over: Partial<{ url: string; events: string[] | null }> = {}) =>
    db()
      .transaction()
      .execute((tx) =>
        webhooks.insertWebhook(tx, {
          id: randomUUID(),
          orgId,
          url: over.url ?? 'https://example.com/hook',
          events: over.events === undefined ? null : over.events,
          secret: 'whsec_test',
          description: 'd',
        }),
      )

  it('inserts an endpoint enabled, with its secret, and lists an org’s endpoints oldest first', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const first = await newHook(orgId, { url: 'https://a.example.com' })
    await setTimeout(2) // oldest first is by creation time: a millisecond apart, or they tie (PGlite's clock)
    const second = await newHook(orgId, { url: 'https://b.example.com', events: ['member.*'] })
    await newHook(other)
    expect(first).toMatchObject({
      org_id: orgId,
      url: 'https://a.example.com',
      events: null,
      enabled: true,
      secret: 'whsec_test',
      description: 'd',
      disabled_reason: null,
    })
    expect(first.created_at).toBeInstanceOf(Date)
    expect(second.events).toEqual(['member.*'])
    const listed = await webhooks.listWebhooks(db(), orgId)
    expect(listed.map((h) => h.id)).toEqual([first.id, second.id])
    expect(await webhooks.listWebhooks(db(), randomUUID())).toEqual([])
  })

  it('finds an endpoint only in its own org, and by id alone for the worker', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const hook = await newHook(orgId)
    expect(await webhooks.findWebhook(db(), orgId, hook.id)).toEqual(hook)
    expect(await webhooks.findWebhook(db(), other, hook.id)).toBeUndefined()
    expect(await webhooks.findWebhookById(db(), hook.id)).toEqual(hook)
    expect(await webhooks.findWebhookById(db(), randomUUID())).toBeUndefined()
  })

  it('updates only the fields given, and disables with a reason', async () => {
    const orgId = await insertOrgRow(db())
    const hook = await newHook(orgId, { events: ['a.b'] })
    const updated = await db()
      .transaction()
      .execute((tx) => webhooks.updateWebhook(tx, hook.id, { url: 'https://new.example.com' }))
    expect(updated).toEqual({ ...hook, url: 'https://new.example.com' })
    const off = await db()
      .transaction()
      .execute((tx) =>
        webhooks.updateWebhook(tx, hook.id, { enabled: false, disabled_reason: 'by hand', events: null }),
      )
    expect(off).toEqual({ ...updated, enabled: false, disabled_reason: 'by hand', events: null })
    await db()
      .transaction()
      .execute((tx) => webhooks.updateWebhook(tx, hook.id, { enabled: true, disabled_reason: null }))
    await db()
      .transaction()
      .execute((tx) => webhooks.disableWebhook(tx, hook.id, 'the receiver answered 410 Gone'))
    expect(await webhooks.findWebhookById(db(), hook.id)).toMatchObject({
      enabled: false,
      disabled_reason: 'the receiver answered 410 Gone',
    })
  })

  it('answers only the enabled endpoints and their event lists to the outbox', async () => {
    const orgId = await insertOrgRow(db())
    const on = await newHook(orgId, { events: ['member.*'] })
    const all = await newHook(orgId)
    const off = await newHook(orgId)
    await db()
      .transaction()
      .execute((tx) => webhooks.disableWebhook(tx, off.id, 'off'))
    const enabled = await webhooks.enabledWebhooks(db(), orgId)
    expect(enabled.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: on.id, events: ['member.*'] },
        { id: all.id, events: null },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    )
  })

  it('deletes an endpoint of its own org only, its deliveries with it', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const hook = await newHook(orgId)
    const now = new Date('2030-01-01T00:00:00Z')
    await db()
      .transaction()
      .execute(async (tx) => {
        await webhookDeliveries.insertEvent(tx, {
          id: `msg_${randomUUID()}`,
          orgId,
          type: 't',
          payload: {},
          createdAt: now,
        })
      })
    const eventId = (
      await db().selectFrom('webhook_events').select('id').where('org_id', '=', orgId).execute()
    )[0]!.id
    await db()
      .transaction()
      .execute((tx) => webhookDeliveries.insertDeliveries(tx, eventId, [hook.id], now))

    expect(
      await db()
        .transaction()
        .execute((tx) => webhooks.deleteWebhook(tx, other, hook.id)),
    ).toBeUndefined()
    expect(await webhooks.findWebhookById(db(), hook.id)).toBeDefined()

    expect(
      await db()
        .transaction()
        .execute((tx) => webhooks.deleteWebhook(tx, orgId, hook.id)),
    ).toEqual(hook)
    expect(await webhooks.findWebhookById(db(), hook.id)).toBeUndefined()
    expect(
      await db().selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', hook.id).execute(),
    ).toEqual([])
  })
})
