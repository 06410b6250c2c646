import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILT_IN_PLANS, type PlanCatalog, parsePlans } from '../src/billing/plans.ts'
import { issueDueInvoices } from '../src/services/invoices.ts'
import { capgoWorld, useCapgoServer } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/** Built-in plans, with new orgs starting on `free` (3 seats, 2 apps, no custom roles, no sub-orgs). */
const SAAS: PlanCatalog = parsePlans({ ...BUILT_IN_PLANS, defaultPlan: 'free' }, 'test')

/**
 * Issue #9: plans, limits, credits, invoices, usage and seed 001's billing roles (only Super Admin and
 * Billing Manager see or change billing), over HTTP on every database.
 *
 * One server for billing, usage metering and invoices on each database, not one for each (a server is
 * ~0.6 s of CPU to start and stop; issue 25.6): its clock is the real one until a test sets `now`, and the
 * tests that set it do so first and work in orgs of their own.
 */
describe.each(DATABASES)('billing, usage and invoices (%s)', (database) => {
  let now: number | null = null
  const { s, w } = useCapgoServer(database, { clock: () => now ?? Date.now() })

  describe('billing', () => {
    it('lets a billing manager see and change billing, but not see apps or members', async () => {
      const bm = s.as(w.users.billing)
      const org = `/v1/orgs/${w.orgId}`
      expect((await bm.get(`${org}/billing`)).body).toMatchObject({
        plan: { key: 'unlimited' },
        creditBalance: 0,
      })
      expect((await bm.patch(`${org}/billing`, { billingEmail: 'Pay@Acme.example' })).body.billingEmail).toBe(
        'pay@acme.example',
      )
      expect((await bm.put(`${org}/billing/plan`, { plan: 'team' })).status).toBe(200)
      expect((await bm.get(`${org}/billing`)).body).toMatchObject({
        plan: { key: 'team', seats: 25 },
        billingEmail: 'pay@acme.example',
      })
      expect((await bm.post(`${org}/billing/credits`, { kind: 'purchase', amount: 50 })).status).toBe(201)
      const usage = await bm.get(`${org}/usage`)
      expect(usage.status).toBe(200)
      expect(usage.body.seats).toMatchObject({ used: 4, max: 25, members: 4, pendingInvitations: 0 })
      expect(usage.body.resources.app).toEqual({ used: 1, max: 25 })

      // …and nothing of the product: no member list, no app, an empty resource list.
      expect((await bm.get(`${org}/members`)).body.code).toBe('FORBIDDEN')
      expect((await bm.get(`${org}/resources/${w.appId}`)).status).toBe(404)
      expect((await bm.get(`${org}/resources`)).body.items).toEqual([])
      expect((await bm.post(`${org}/resources`, { type: 'app', name: 'Nope' })).status).toBe(403)
      // Its audit view is the billing category only, and holds every billing write above.
      const log = (await bm.get(`${org}/audit-logs`)).body.items as { action: string }[]
      expect(log.length).toBeGreaterThan(0)
      expect(log.every((e) => e.action.startsWith('billing.'))).toBe(true)
      expect(log.map((e) => e.action)).toEqual(
        expect.arrayContaining(['billing.email_changed', 'billing.plan_changed', 'billing.credits_purchase']),
      )
      await s.platform.put(`${org}/billing/plan`, { plan: 'unlimited' })
    })

    it("doesn't let an admin see or change billing, nor read billing audit entries", async () => {
      const admin = s.as(w.users.admin)
      const org = `/v1/orgs/${w.orgId}`
      for (const path of ['billing', 'billing/credits', 'billing/invoices', 'usage']) {
        const reply = await admin.get(`${org}/${path}`)
        expect([path, reply.status, reply.body.code]).toEqual([path, 403, 'FORBIDDEN'])
      }
      expect((await admin.put(`${org}/billing/plan`, { plan: 'enterprise' })).status).toBe(403)
      expect((await admin.patch(`${org}/billing`, { billingEmail: 'me@example.com' })).status).toBe(403)
      expect((await admin.post(`${org}/billing/credits`, { kind: 'purchase', amount: 1 })).status).toBe(403)
      const log = (await admin.get(`${org}/audit-logs?limit=500`)).body.items as { action: string }[]
      expect(log.some((e) => e.action.startsWith('billing.'))).toBe(false)
    })

    it('keeps the credit balance non-negative and audits every entry', async () => {
      const org = `/v1/orgs/${(await capgoWorld(s)).orgId}`
      expect((await s.platform.post(`${org}/billing/credits`, { kind: 'grant', amount: 20 })).status).toBe(
        201,
      )
      const over = await s.platform.post(`${org}/billing/credits`, { kind: 'consumption', amount: 21 })
      expect([over.status, over.body.code, over.body.details]).toEqual([
        409,
        'INSUFFICIENT_CREDITS',
        { balance: 20, requested: 21 },
      ])
      expect(
        (await s.platform.post(`${org}/billing/credits`, { kind: 'consumption', amount: 20 })).body,
      ).toMatchObject({ amount: -20, balanceAfter: 0 })
      expect((await s.platform.post(`${org}/billing/credits`, { kind: 'refund', amount: 1 })).body.code).toBe(
        'INSUFFICIENT_CREDITS',
      )
      // Grants, consumption and refunds are the host product's; a super admin only buys.
      const creator = (await s.platform.get(`${org}/members`)).body.items[0].userId as string
      const grant = await s.as(creator).post(`${org}/billing/credits`, { kind: 'grant', amount: 5 })
      expect([grant.status, grant.body.code]).toEqual([403, 'PLATFORM_ONLY'])
      const ledger = (await s.platform.get(`${org}/billing/credits`)).body
      expect(ledger.balance).toBe(0)
      expect(ledger.items.map((e: { kind: string }) => e.kind)).toEqual(['consumption', 'grant'])
      const audit = (await s.platform.get(`${org}/audit-logs?action=billing.*`)).body.items
      expect(audit.map((e: { action: string }) => e.action)).toEqual([
        'billing.credits_consumption',
        'billing.credits_grant',
      ])
    })

    it('keeps the billing email in General settings, changed only with org.update_billing, all or nothing', async () => {
      const world = await capgoWorld(s)
      const org = `/v1/orgs/${world.orgId}`
      const email = async () => (await s.platform.get(`${org}/billing`)).body.billingEmail
      expect((await s.as(world.users.billing).patch(org, { billingEmail: 'bm@example.com' })).status).toBe(
        200,
      )
      expect(await email()).toBe('bm@example.com')
      // An admin may rename the org, but not touch the billing email, not even along with a rename.
      const mixed = await s
        .as(world.users.admin)
        .patch(org, { name: 'Renamed', billingEmail: 'admin@example.com' })
      expect([mixed.status, mixed.body.details.permission]).toEqual([403, 'org.update_billing'])
      expect([(await s.platform.get(org)).body.name, await email()]).toEqual(['Acme', 'bm@example.com'])
      // A billing manager can't rename it.
      expect((await s.as(world.users.billing).patch(org, { name: 'Nope', billingEmail: null })).status).toBe(
        403,
      )
      const both = await s
        .as(world.users.creator)
        .patch(org, { name: 'Renamed', billingEmail: 'owner@example.com' })
      expect(both.body).toMatchObject({ name: 'Renamed' })
      expect(both.body.billingEmail).toBeUndefined() // not in the org view every member reads
      expect(await email()).toBe('owner@example.com')
      const actions = (await s.platform.get(`${org}/audit-logs?limit=5`)).body.items.map(
        (e: { action: string }) => e.action,
      )
      expect(actions.slice(0, 2).sort()).toEqual(['billing.email_changed', 'org.updated'])
    })

    it('sends no billing event to the webhooks admins manage without billing rights', async () => {
      const world = await capgoWorld(s)
      const org = `/v1/orgs/${world.orgId}`
      expect(
        (await s.as(world.users.admin).post(`${org}/webhooks`, { url: 'http://127.0.0.1:9/hook' })).status,
      ).toBe(201)
      await s.as(world.users.billing).patch(`${org}/billing`, { billingEmail: 'pay@example.com' })
      await s.as(world.users.billing).post(`${org}/billing/credits`, { kind: 'purchase', amount: 3 })
      await s.as(world.users.admin).patch(org, { name: 'Renamed' })
      const events = await s.store.db
        .selectFrom('webhook_events')
        .select('type')
        .where('org_id', '=', world.orgId)
        .execute()
      expect(events.map((e) => e.type)).toContain('org.updated')
      expect(events.filter((e) => e.type.startsWith('billing.'))).toEqual([])
    })

    it('names an unknown plan', async () => {
      const reply = await s.platform.put(`/v1/orgs/${w.orgId}/billing/plan`, { plan: 'platinum' })
      expect([reply.status, reply.body.code]).toEqual([400, 'UNKNOWN_PLAN'])
    })

    it('counts checks in memory and flushes them in one batch, without counting twice', async () => {
      const world = await capgoWorld(s)
      const member = s.as(world.users.member)
      for (let i = 0; i < 5; i++)
        await member.post('/v1/check', { permission: 'app.read', resource: { type: 'app', id: world.appId } })
      await member.post('/v1/check/batch', {
        checks: [
          { permission: 'org.read', resource: { org: world.orgId } },
          { permission: 'app.read', resource: { type: 'app', id: world.appId } },
        ],
      })
      const usage = async () =>
        (await s.as(world.users.billing).get(`/v1/orgs/${world.orgId}/usage?days=7`)).body
      const before = await usage()
      expect(before.checks.today).toBe(7)
      expect(before.checks.daily).toHaveLength(7)
      expect(before.checks.daily.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), count: 7 })
      const stored = () =>
        s.store.db.selectFrom('usage_daily').select('count').where('org_id', '=', world.orgId).execute()
      expect(await stored()).toEqual([]) // nothing written on the check path
      await s.ctx.billing.usage.flush()
      expect((await stored()).map((r) => Number(r.count))).toEqual([7])
      expect((await usage()).checks.today).toBe(7)
    })
  })

  describe('usage metering over midnight', () => {
    it('books each check to the day it was answered, across midnight and an engine reload', async () => {
      now = Date.UTC(2026, 9, 15, 23, 59, 59, 900) // 100 ms before 2026-10-16
      const w = await capgoWorld(s)
      const member = s.as(w.users.member)
      const checks = async (n: number) => {
        for (let i = 0; i < n; i++)
          await member.post('/v1/check', { permission: 'app.read', resource: { type: 'app', id: w.appId } })
      }
      const batch = (resources: object[]) =>
        member.post('/v1/check/batch', {
          checks: resources.map((resource) => ({
            permission: 'org' in resource ? 'org.read' : 'app.read',
            resource,
          })),
        })
      await checks(2)
      // Only existing targets count; an unknown permission is an error and counts nothing.
      await batch([
        { type: 'app', id: w.appId },
        { type: 'app', id: crypto.randomUUID() },
      ])
      await member.post('/v1/check', { permission: 'app.fly', resource: { type: 'app', id: w.appId } })
      now = Date.UTC(2026, 9, 16, 0, 0, 0, 100) // 200 ms later: 2026-10-16, 00:00:00.100
      await checks(4)
      await s.ctx.engine.load() // a resync replaces the engine: what the old one counted is kept
      await batch([{ org: w.orgId }, { type: 'app', id: w.appId }])
      const usage = async () =>
        (await s.as(w.users.billing).get(`/v1/orgs/${w.orgId}/usage?days=2`)).body.checks
      const expected = {
        today: 6,
        daily: [
          { day: '2026-10-15', count: 3 },
          { day: '2026-10-16', count: 6 },
        ],
      }
      expect(await usage()).toEqual(expected)
      await s.ctx.billing.usage.flush()
      const stored = await s.store.db
        .selectFrom('usage_daily')
        .select(['day', 'count'])
        .where('org_id', '=', w.orgId)
        .orderBy('day')
        .execute()
      expect(stored.map((r) => [new Date(r.day).toISOString().slice(0, 10), Number(r.count)])).toEqual([
        ['2026-10-15', 3],
        ['2026-10-16', 6],
      ])
      expect(await usage()).toEqual(expected) // flushed once, not counted twice
    })
  })

  describe('invoices', () => {
    it('issues a period’s invoice from the plan and credits, as JSON and escaped HTML, paid by the platform', async () => {
      now = Date.UTC(2026, 9, 15, 12) // 2026-10-15
      const w = await capgoWorld(s)
      const org = `/v1/orgs/${w.orgId}`
      const bm = s.as(w.users.billing)
      await s.as(w.users.creator).patch(org, { name: '<script>alert(1)</script> & Co' })
      await bm.patch(`${org}/billing`, { billingEmail: 'pay@acme.example' })
      await bm.put(`${org}/billing/plan`, { plan: 'team' })
      await bm.post(`${org}/billing/credits`, { kind: 'purchase', amount: 300 })
      await s.platform.post(`${org}/billing/credits`, { kind: 'consumption', amount: 120 })

      const early = await s.platform.post(`${org}/billing/invoices`, { period: '2026-10' })
      expect([early.status, early.body.code]).toEqual([400, 'VALIDATION_FAILED'])
      now = Date.UTC(2026, 10, 2) // November: October has ended
      const issued = await s.platform.post(`${org}/billing/invoices`, {})
      expect(issued.status).toBe(201)
      expect(issued.body).toMatchObject({
        period: '2026-10',
        plan: 'team',
        status: 'open',
        provider: 'manual',
        currency: 'usd',
        billingEmail: 'pay@acme.example',
        total: 4900 + 300,
        lines: [
          { description: 'Team plan, 2026-10', quantity: 1, unitAmount: 4900, amount: 4900 },
          { description: 'Credits purchased', quantity: 300, unitAmount: 1, amount: 300 },
          { description: 'Credits consumed (prepaid)', quantity: 120, unitAmount: 0, amount: 0 },
        ],
      })
      const again = await s.platform.post(`${org}/billing/invoices`, { period: '2026-10' })
      expect([again.status, again.body.code]).toEqual([409, 'ALREADY_EXISTS'])

      const list = await bm.get(`${org}/billing/invoices`)
      expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([issued.body.id])
      expect((await s.as(w.users.admin).get(`${org}/billing/invoices`)).status).toBe(403)
      expect((await bm.get(`${org}/billing/invoices/${issued.body.id}`)).body.total).toBe(5200)

      const page = await fetch(`${s.url}${org}/billing/invoices/${issued.body.id}?format=html`, {
        headers: { authorization: `Bearer ${s.token}`, 'x-orgkit-user': w.users.billing },
      })
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await page.text()
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co')
      expect(html).not.toContain('<script>')
      expect(html).toContain('52.00 USD')
      const hidden = await fetch(`${s.url}${org}/billing/invoices/${issued.body.id}?format=html`, {
        headers: { authorization: `Bearer ${s.token}`, 'x-orgkit-user': w.users.admin },
      })
      expect(hidden.status).toBe(403)

      const byManager = await bm.post(`${org}/billing/invoices/${issued.body.id}/pay`, {})
      expect([byManager.status, byManager.body.code]).toEqual([403, 'PLATFORM_ONLY'])
      const paid = await s.platform.post(`${org}/billing/invoices/${issued.body.id}/pay`, {
        reference: 'wire-42',
      })
      expect(paid.body).toMatchObject({ status: 'paid', providerReference: 'wire-42' })
      const twice = await s.platform.post(`${org}/billing/invoices/${issued.body.id}/pay`, {})
      expect([twice.status, twice.body.code]).toEqual([409, 'INVOICE_NOT_OPEN'])
      const audit = (await bm.get(`${org}/audit-logs?action=billing.*`)).body.items as { action: string }[]
      expect(audit.map((e) => e.action).filter((a) => a.startsWith('billing.invoice_'))).toEqual([
        'billing.invoice_paid',
        'billing.invoice_issued',
      ])

      // The hourly job invoices November for orgs that owe something — this one (team) — once.
      now = Date.UTC(2026, 11, 1, 3)
      expect(await issueDueInvoices(s.ctx)).toBeGreaterThanOrEqual(1)
      expect(await issueDueInvoices(s.ctx)).toBe(0)
      const periods = (await bm.get(`${org}/billing/invoices`)).body.items.map(
        (i: { period: string }) => i.period,
      )
      expect(periods).toEqual(['2026-11', '2026-10'])
      // An org on a free plan that bought nothing owes nothing: no invoice.
      const idle = await capgoWorld(s)
      const none = await s.platform.post(`/v1/orgs/${idle.orgId}/billing/invoices`, { period: '2026-11' })
      expect([none.status, none.body.code]).toEqual([409, 'NOTHING_TO_INVOICE'])
    })
  })
})

/** One server on the SaaS catalogue for its limits and for seats over time, on each database (as above). */
describe.each(DATABASES)('the SaaS catalogue (%s)', (database) => {
  let s: TestServer
  let now: number | null = null
  beforeAll(async () => {
    s = await startTestServer(database, { plans: SAAS, clock: () => now ?? Date.now() })
  }, 60_000)
  afterAll(() => s?.stop())

  describe('plan limits', () => {
    async function freeOrg() {
      const owner = await s.user('Owner')
      const orgId = (await s.as(owner).post('/v1/orgs', { name: 'Small' })).body.id as string
      return { owner, orgId, org: `/v1/orgs/${orgId}` }
    }

    it('refuses the seat past the limit, counting pending invitations, and names the limit', async () => {
      const { org } = await freeOrg()
      const invite = (n: number) =>
        s.platform.post(`${org}/invitations`, { email: `seat${n}@example.com`, role: 'org_member' })
      expect((await invite(1)).status).toBe(201)
      const second = await invite(2)
      expect(second.status).toBe(201)
      const third = await invite(3)
      expect([third.status, third.body.code, third.body.details]).toEqual([
        409,
        'PLAN_LIMIT_REACHED',
        { limit: 'seats', max: 3, current: 3, plan: 'free' },
      ])
      // Adding a member directly counts the same seats.
      const added = await s.platform.post(`${org}/members`, { userId: await s.user('Direct') })
      expect([added.status, added.body.details?.limit]).toEqual([409, 'seats'])
      // A revoked invitation frees its seat.
      await s.platform.delete(`${org}/invitations/${second.body.id}`)
      expect((await invite(3)).status).toBe(201)
      const usage = (await s.platform.get(`${org}/usage`)).body.seats
      expect(usage).toEqual({ used: 3, max: 3, members: 1, pendingInvitations: 2 })
    })

    it('refuses the resource past the limit, per type', async () => {
      const { owner, org } = await freeOrg()
      const me = s.as(owner)
      const app1 = await me.post(`${org}/resources`, { type: 'app', name: 'One' })
      expect((await me.post(`${org}/resources`, { type: 'app', name: 'Two' })).status).toBe(201)
      const third = await me.post(`${org}/resources`, { type: 'app', name: 'Three' })
      expect([third.status, third.body.code, third.body.details]).toEqual([
        409,
        'PLAN_LIMIT_REACHED',
        { limit: 'app', max: 2, current: 2, plan: 'free' },
      ])
      // Channels are not limited on this plan.
      for (const name of ['a', 'b', 'c'])
        expect(
          (await me.post(`${org}/resources`, { type: 'channel', name, parentId: app1.body.id })).status,
        ).toBe(201)
    })

    it('refuses custom roles on a plan without them, and allows them after an upgrade', async () => {
      const { owner, org } = await freeOrg()
      const role = {
        key: 'viewer',
        scope: 'app',
        slot: 'app',
        label: 'Viewer',
        permissions: ['app.read'],
        priority: 1,
      }
      const refused = await s.as(owner).post(`${org}/roles`, role)
      expect([refused.status, refused.body.code, refused.body.details.feature]).toEqual([
        403,
        'PLAN_FEATURE_UNAVAILABLE',
        'customRoles',
      ])
      expect((await s.as(owner).put(`${org}/billing/plan`, { plan: 'team' })).status).toBe(200)
      expect((await s.as(owner).post(`${org}/roles`, role)).status).toBe(201)
      // …and now a move back to free is blocked by that role.
      const back = await s.as(owner).put(`${org}/billing/plan`, { plan: 'free' })
      expect([back.status, back.body.code]).toEqual([409, 'PLAN_DOWNGRADE_BLOCKED'])
      expect(back.body.details.excess).toContainEqual({ limit: 'customRoles', max: 0, current: 1 })
    })

    it('refuses a downgrade the current usage exceeds, naming each limit', async () => {
      const { owner, org } = await freeOrg()
      await s.as(owner).put(`${org}/billing/plan`, { plan: 'team' })
      for (let i = 0; i < 3; i++) {
        await s.platform.post(`${org}/invitations`, { email: `many${i}@example.com`, role: 'org_member' })
        await s.as(owner).post(`${org}/resources`, { type: 'app', name: `App ${i}` })
      }
      const down = await s.as(owner).put(`${org}/billing/plan`, { plan: 'free' })
      expect([down.status, down.body.code]).toEqual([409, 'PLAN_DOWNGRADE_BLOCKED'])
      expect(down.body.details).toMatchObject({ plan: 'free', limit: 'seats', max: 3, current: 4 })
      expect(down.body.details.excess).toEqual([
        { limit: 'seats', max: 3, current: 4 },
        { limit: 'app', max: 2, current: 3 },
      ])
      expect((await s.platform.get(`${org}/billing`)).body.plan.key).toBe('team')
    })
  })

  describe('seats over time', () => {
    it('frees the seat of an expired invitation, and takes one again to resend it', async () => {
      now = Date.UTC(2026, 0, 10)
      const owner = await s.user('Owner')
      const org = `/v1/orgs/${(await s.as(owner).post('/v1/orgs', { name: 'Clocked' })).body.id}`
      const invite = (email: string) => s.platform.post(`${org}/invitations`, { email, role: 'org_member' })
      const a = await invite('a@example.com')
      expect((await invite('b@example.com')).status).toBe(201)
      now = Date.UTC(2026, 0, 18) // 8 days later: both expired after 7 days, their seats are free again
      expect((await s.platform.get(`${org}/usage`)).body.seats).toMatchObject({
        used: 1,
        pendingInvitations: 0,
      })
      expect((await invite('c@example.com')).status).toBe(201)
      const d = await invite('d@example.com')
      expect(d.status).toBe(201)
      const resent = await s.platform.post(`${org}/invitations/${a.body.id}/resend`)
      expect([resent.status, resent.body.code, resent.body.details?.limit]).toEqual([
        409,
        'PLAN_LIMIT_REACHED',
        'seats',
      ])
      await s.platform.delete(`${org}/invitations/${d.body.id}`)
      expect((await s.platform.post(`${org}/invitations/${a.body.id}/resend`)).status).toBe(200)
    })
  })
})

describe.each(DATABASES)('plan features: sub-organizations (%s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database, { plans: SAAS, model: presets.modules! })
  }, 60_000)
  afterAll(() => s?.stop())

  it('refuses a sub-org under a plan without them', async () => {
    const owner = await s.user('Owner')
    const parentId = (await s.as(owner).post('/v1/orgs', { name: 'Parent' })).body.id as string
    const refused = await s.as(owner).post('/v1/orgs', { name: 'Child', parentId })
    expect([refused.status, refused.body.code, refused.body.details.feature]).toEqual([
      403,
      'PLAN_FEATURE_UNAVAILABLE',
      'subOrgs',
    ])
    await s.platform.put(`/v1/orgs/${parentId}/billing/plan`, { plan: 'enterprise' })
    expect((await s.as(owner).post('/v1/orgs', { name: 'Child', parentId })).status).toBe(201)
  })
})

describe('plan configuration', () => {
  it('accepts the built-in catalogue and a deployment’s own, and fails on mistakes', () => {
    expect(parsePlans(BUILT_IN_PLANS, 'built-in').defaultPlan).toBe('unlimited')
    const own = parsePlans(
      {
        defaultPlan: 'basic',
        plans: { basic: { name: 'Basic', price: 100, seats: 2, resources: { app: 1 } } },
      },
      'own',
    )
    expect(own.plans.basic).toEqual({
      key: 'basic',
      name: 'Basic',
      price: 100,
      seats: 2,
      resources: { app: 1 },
      features: [],
    })
    expect(own.currency).toBe('usd')
    expect(() => parsePlans({ ...BUILT_IN_PLANS, defaultPlan: 'gold' }, 'x')).toThrow(/defaultPlan "gold"/)
    expect(() =>
      parsePlans({ defaultPlan: 'a', plans: { a: { name: 'A', price: -1, seats: null } } }, 'x'),
    ).toThrow(/price/)
    expect(() =>
      parsePlans(
        { defaultPlan: 'a', plans: { a: { name: 'A', price: 0, seats: null, features: ['sso'] } } },
        'x',
      ),
    ).toThrow(/features/)
  })
})
