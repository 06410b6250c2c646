import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { billing } from '../src/index.ts'
import { insertOrgRow, insertUserRow } from './support/billing-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

const NOW = new Date('2030-06-01T12:00:00Z')

describe.each(TARGETS)('billing repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  it('reads an org’s plan, billing email and balance, null plan meaning the default', async () => {
    const orgId = await insertOrgRow(db())
    expect(await billing.findBilling(db(), orgId)).toEqual({
      plan: null,
      billing_email: null,
      credit_balance: '0',
    })
    expect(await billing.findBilling(db(), randomUUID())).toBeUndefined()
    expect(await billing.planKeyOf(db(), orgId)).toBeNull()
    expect(await billing.planKeyOf(db(), randomUUID())).toBeNull()
  })

  it('sets the plan and the billing email, stamping updated_at with the given time', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    await db()
      .transaction()
      .execute((tx) => billing.setPlan(tx, orgId, 'pro', NOW))
    expect(await billing.planKeyOf(db(), orgId)).toBe('pro')
    expect(await billing.planKeyOf(db(), other)).toBeNull()
    const later = new Date(NOW.getTime() + 60_000)
    await db()
      .transaction()
      .execute((tx) => billing.setBillingEmail(tx, orgId, 'pay@example.com', later))
    expect(await billing.findBilling(db(), orgId)).toMatchObject({
      plan: 'pro',
      billing_email: 'pay@example.com',
    })
    const row = await db()
      .selectFrom('orgs')
      .select('updated_at')
      .where('id', '=', orgId)
      .executeTakeFirstOrThrow()
    expect(row.updated_at).toEqual(later)
    await db()
      .transaction()
      .execute((tx) => billing.setBillingEmail(tx, orgId, null, later))
    expect((await billing.findBilling(db(), orgId))?.billing_email).toBeNull()
  })

  it('counts members, pending ones included', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const statuses = ['active', 'active', 'pending'] as const
    for (const status of statuses)
      await db()
        .insertInto('memberships')
        .values({ org_id: orgId, user_id: await insertUserRow(db()), status })
        .execute()
    await db()
      .insertInto('memberships')
      .values({ org_id: other, user_id: await insertUserRow(db()), status: 'active' })
      .execute()
    expect(await billing.countMembers(db(), orgId)).toBe(3)
    expect(await billing.countMembers(db(), randomUUID())).toBe(0)
  })

  it('counts the invitations that hold a seat at a time: not accepted, revoked or expired', async () => {
    const orgId = await insertOrgRow(db())
    const invite = (over: { expires_at: Date; accepted_at?: Date; revoked_at?: Date; org_id?: string }) =>
      db()
        .insertInto('invitations')
        .values({
          id: randomUUID(),
          org_id: orgId,
          email: `${randomUUID()}@example.com`,
          role: 'org_member',
          token_hash: randomUUID(),
          ...over,
        })
        .execute()
    const later = new Date(NOW.getTime() + 1000)
    await invite({ expires_at: later })
    await invite({ expires_at: later })
    await invite({ expires_at: NOW }) // expires at this very instant: no longer pending
    await invite({ expires_at: later, accepted_at: NOW })
    await invite({ expires_at: later, revoked_at: NOW })
    await invite({ expires_at: later, org_id: await insertOrgRow(db()) })
    expect(await billing.countPendingInvitations(db(), orgId, NOW)).toBe(2)
    expect(await billing.countPendingInvitations(db(), orgId, new Date(NOW.getTime() - 1))).toBe(3)
    expect(await billing.countPendingInvitations(db(), orgId, later)).toBe(0)
  })

  it('counts resources by type, leaving out types with none', async () => {
    const orgId = await insertOrgRow(db())
    const other = await insertOrgRow(db())
    const add = (org: string, type: string) =>
      db()
        .insertInto('resources')
        .values({ id: randomUUID(), org_id: org, type, name: 'r', parent_id: null })
        .execute()
    await add(orgId, 'app')
    await add(orgId, 'app')
    await add(orgId, 'channel')
    await add(other, 'bundle')
    expect(await billing.countResourcesByType(db(), orgId)).toEqual({ app: 2, channel: 1 })
    expect(await billing.countResourcesByType(db(), randomUUID())).toEqual({})
  })

  it('counts custom roles and child orgs', async () => {
    const orgId = await insertOrgRow(db())
    const child = await insertOrgRow(db(), { parentId: orgId })
    await insertOrgRow(db(), { parentId: orgId })
    await insertOrgRow(db(), { parentId: child }) // a grandchild is not a child
    for (const key of ['custom_a', 'custom_b'])
      await db()
        .insertInto('custom_roles')
        .values({
          org_id: orgId,
          key,
          scope: 'org',
          slot: 'org',
          label: key,
          permissions: ['org.read'],
          priority: 1,
        })
        .execute()
    expect(await billing.countCustomRoles(db(), orgId)).toBe(2)
    expect(await billing.countCustomRoles(db(), child)).toBe(0)
    expect(await billing.countChildOrgs(db(), orgId)).toBe(2)
    expect(await billing.countChildOrgs(db(), child)).toBe(1)
  })
})
