import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parsePlans } from '../../server/src/billing/plans.ts'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import {
  actAs,
  CONSOLE_DIST,
  go,
  launch,
  newPage,
  photograph,
  release,
  screenshot,
  signInApi,
} from './e2e-support.ts'

// The billing tabs and the password reset, end to end in headless Chromium against a real server
// (see console.e2e.test.ts for the set-up this shares). Seed 001: only Super Admin and Billing Manager
// see billing; an Admin sees members and apps but no billing, a Billing Manager the opposite.

/** A small catalogue: new orgs on Free (3 seats, 1 app), so the limits bite within a few clicks. */
const PLANS = parsePlans(
  {
    currency: 'usd',
    creditPrice: 1,
    defaultPlan: 'free',
    plans: {
      free: { name: 'Free', price: 0, seats: 3, resources: { app: 1 }, features: [] },
      team: { name: 'Team', price: 4900, seats: 10, resources: { app: 5 }, features: ['customRoles'] },
    },
  },
  'billing e2e',
)

let server: TestServer
let browser: Browser
/**
 * The one page the billing manager, the admin, the owner and then someone signed out use in turn (actAs hands
 * it on): a new browser context would be a cold renderer compiling the console and axe-core again (~2 s of
 * CPU a person).
 */
let tab: Page
/** Each main screen: checked with axe-core (issue 26.6), then photographed. */
let shot: (page: Page, name: string) => Promise<unknown>
let failed: (page: Page, name: string) => Promise<unknown>

beforeAll(async () => {
  const launched = await launch('console')
  browser = launched.browser
  shot = screenshot(launched.artifacts)
  failed = photograph(launched.artifacts)
  server = await startTestServer('pglite', { localOutbox: true, plans: PLANS, consoleDir: CONSOLE_DIST })
  tab = await newPage(browser)
}, 180_000)

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await failed(tab, 'billing-failure').catch(() => {})
})

afterAll(async () => {
  await release(browser)
  await server?.stop()
})

/** The newest outbox mail's link to `to` containing `part` (the platform reads the outbox). */
async function mailedLink(to: string, part: string): Promise<string> {
  const { body } = await server.platform.get('/v1/outbox')
  const mail = (body.items as { to: string; text: string }[]).find(
    (m) => m.to === to && m.text.includes(part),
  )
  expect(mail, `a mail to ${to} with ${part}`).toBeTruthy()
  return new RegExp(`https?://\\S*${part.replace(/[?]/g, '\\?')}\\S+`).exec(mail!.text)![0]
}

/** An account signed up and verified through the API (the sign-up screens have their own test). */
async function account(name: string, email: string, password: string): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  expect((await post('/v1/auth/signup', { name, email, password })).status).toBe(200)
  const token = new URL(await mailedLink(email, '/verify?token=')).searchParams.get('token')
  const verified = await post('/v1/auth/verify', { token })
  expect(verified.status).toBe(200)
  return ((await verified.json()) as { userId: string }).userId
}

/**
 * The tab, signed in as `email` over the API (the sign-in page is walked in the password reset below): the
 * next `go` loads the console afresh as them.
 */
async function signIn(email: string, password: string): Promise<Page> {
  await actAs(tab, server, await signInApi(server, email, password))
  return tab
}

const tabNames = async (page: Page) => {
  await page.getByRole('tablist').waitFor()
  return page.getByRole('tab').allTextContents()
}

describe('billing and password reset in the console (Chromium)', () => {
  const password = 'correct horse battery staple'
  const owner = { email: 'olivia@example.com', id: '' }
  const manager = { email: 'bill@example.com', id: '' }
  const admin = { email: 'ada@example.com', id: '' }
  let orgId = ''

  beforeAll(async () => {
    owner.id = await account('Olivia Owner', owner.email, password)
    manager.id = await account('Bill Payer', manager.email, password)
    admin.id = await account('Ada Admin', admin.email, password)
    const asOwner = server.as(owner.id)
    orgId = (await asOwner.post('/v1/orgs', { name: 'Acme' })).body.id
    for (const [user, role] of [
      [manager.id, 'org_billing_admin'],
      [admin.id, 'org_admin'],
    ] as const)
      expect(
        (await server.platform.post(`/v1/orgs/${orgId}/members`, { userId: user, roles: [role] })).status,
      ).toBe(201)
    expect((await asOwner.post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Shop' })).status).toBe(
      201,
    )
  }, 120_000)

  it('shows a billing manager billing but no members or apps, and an admin no billing', async () => {
    const bm = await signIn(manager.email, password)
    await go(bm, `${server.url}/orgs/${orgId}/settings/plans`)
    expect(await tabNames(bm)).toEqual(['General', 'API Keys', 'Plans', 'Credits', 'Usage', 'Billing'])
    await bm.getByRole('region', { name: 'Plan Free' }).getByText('Current plan').waitFor()
    await shot(bm, '40-billing-manager-plans')
    await bm.getByRole('tab', { name: 'Usage' }).click()
    await bm.getByRole('group', { name: 'Seats' }).getByText('3 / 3').waitFor()
    await bm.getByRole('group', { name: 'Apps' }).getByText('1 / 1').waitFor()
    await shot(bm, '41-billing-manager-usage')
    // No members: neither the tab nor the list through the URL; no apps either.
    await bm.goto(`${server.url}/orgs/${orgId}/settings/members`)
    expect(await tabNames(bm)).not.toContain('Members')
    expect(await bm.getByRole('table', { name: 'Members' }).count()).toBe(0)
    await go(bm, `${server.url}/orgs/${orgId}/apps`)
    await bm.getByRole('heading', { level: 2 }).first().waitFor()
    await expect.poll(() => bm.getByLabel('Loading').count()).toBe(0)
    expect(await bm.getByText('Shop').count()).toBe(0)
    await shot(bm, '42-billing-manager-apps')

    const ad = await signIn(admin.email, password)
    await go(ad, `${server.url}/orgs/${orgId}/settings/billing`)
    const tabs = await tabNames(ad)
    expect(tabs).toContain('Members')
    for (const billing of ['Plans', 'Credits', 'Usage', 'Billing']) expect(tabs).not.toContain(billing)
    // The URL of a billing tab falls back to a tab the admin may use.
    await ad.getByRole('tab', { name: 'General', selected: true }).waitFor()
    await shot(ad, '43-admin-no-billing')
  }, 180_000)

  it('lets the super admin hit the seat limit, change plan, buy credits and read invoices', async () => {
    const page = await signIn(owner.email, password)
    const settings = (tab: string) => go(page, `${server.url}/orgs/${orgId}/settings/${tab}`)

    // A fourth seat on Free (3 seats): the invite form names the limit.
    await settings('members')
    await page.getByRole('button', { name: 'Add' }).click()
    await page.getByRole('radio', { name: 'Member', exact: true }).check()
    await page.getByRole('button', { name: 'Confirm' }).click()
    await page.getByRole('dialog').getByLabel('Email').fill('fourth@example.com')
    await page.getByLabel("I'm not a robot").click()
    await page.getByText('Verified').waitFor()
    await page.getByRole('button', { name: 'Send invitation' }).click()
    const refused = page.getByRole('dialog').getByRole('alert')
    await refused.getByText(/"free" plan allows 3 seats and 3 are in use/).waitFor()
    await shot(page, '44-invite-seat-limit')
    await page.keyboard.press('Escape')

    // Upgrade to Team.
    await settings('plans')
    await page
      .getByRole('region', { name: 'Plan Team' })
      .getByRole('button', { name: 'Switch to Team' })
      .click()
    await page.getByRole('dialog').getByRole('button', { name: 'Switch to Team' }).click()
    await page.getByRole('region', { name: 'Plan Team' }).getByText('Current plan').waitFor()
    await shot(page, '45-plans-team')

    // Two apps now, Free allows one: the downgrade is refused and says why.
    expect(
      (await server.as(owner.id).post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Blog' })).status,
    ).toBe(201)
    await page
      .getByRole('region', { name: 'Plan Free' })
      .getByRole('button', { name: 'Switch to Free' })
      .click()
    await page.getByRole('dialog').getByRole('button', { name: 'Switch to Free' }).click()
    const blocked = page.getByRole('alert').filter({ hasText: 'plan is too small for this organization' })
    await blocked.getByText(/apps: 2 in use, the plan allows 1/).waitFor()
    await page.getByRole('region', { name: 'Plan Team' }).getByText('Current plan').waitFor()
    await shot(page, '46-plans-downgrade-blocked')

    // Buy credits; the balance and the ledger show them.
    await settings('credits')
    await page.getByRole('textbox', { name: 'Credits to buy' }).fill('250')
    await page.getByRole('button', { name: 'Buy credits' }).click()
    await expect.poll(() => page.getByTestId('credit-balance').textContent()).toBe('250 credits')
    await page.getByRole('table', { name: 'Credit ledger' }).getByText('+250').waitFor()
    await shot(page, '47-credits')

    await settings('usage')
    await page.getByRole('group', { name: 'Seats' }).getByText('3 / 10').waitFor()
    await page.getByRole('group', { name: 'Apps' }).getByText('2 / 5').waitFor()
    await page.locator('.recharts-surface').first().waitFor()
    await shot(page, '48-usage')

    // An invoice for last month (the platform issues it, as the hourly job would), and the billing email.
    expect((await server.platform.post(`/v1/orgs/${orgId}/billing/invoices`, {})).status).toBe(201)
    await settings('billing')
    await page
      .getByTestId('payment-provider')
      .getByText(/Manual/)
      .waitFor()
    await page.getByLabel('Billing email').fill('billing@acme.example')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText('Billing email saved').waitFor()
    const invoices = page.getByRole('table', { name: 'Invoices' })
    await invoices.getByText('$49.00').waitFor()
    const href = await invoices.getByRole('link', { name: 'Download' }).getAttribute('href')
    expect(href).toMatch(new RegExp(`^/v1/orgs/${orgId}/billing/invoices/[0-9a-f-]{36}\\?format=html$`))
    const html = await page.evaluate(async (url) => {
      const reply = await fetch(url)
      return { status: reply.status, type: reply.headers.get('content-type'), body: await reply.text() }
    }, href!)
    expect(html.status).toBe(200)
    expect(html.type).toContain('text/html')
    expect(html.body).toContain('Team')
    await shot(page, '49-billing')
  }, 180_000)

  it('resets a forgotten password from the mailed link and signs in with the new one', async () => {
    // Signed out, as a fresh browser is: no one's cookies or stored state.
    const page = tab
    await actAs(page, server, null)
    await page.goto(`${server.url}/login`)
    await page.getByRole('link', { name: 'Forgot password?' }).click()
    await page.waitForURL(/\/forgot-password$/)
    await page.getByLabel('Email').fill(admin.email)
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.getByText(/If an account exists for ada@example.com, a link/).waitFor()
    await shot(page, '50-forgot-password')

    // The console's local outbox shows the mail; its link opens the reset page.
    await page.goto(`${server.url}/outbox`)
    const mail = page.getByRole('article', { name: `Mail to ${admin.email}` }).first()
    const link = await mail.locator('a[href*="/reset-password?token="]').first().getAttribute('href')
    expect(link).toMatch(/\/reset-password\?token=okr_/)
    await page.goto(link!)
    await page.getByRole('textbox', { name: /^New password/ }).fill('a brand new passphrase')
    await page.getByRole('textbox', { name: /^Repeat the new password/ }).fill('a brand new passphrase')
    await shot(page, '51-reset-password')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.getByText('Your password is changed').waitFor()
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/login/)

    // The old password no longer works; the new one does.
    await page.getByLabel('Email').fill(admin.email)
    await page.getByRole('textbox', { name: 'Password' }).fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').getByText('Wrong email or password.', { exact: true }).waitFor()
    await page.getByRole('textbox', { name: 'Password' }).fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/orgs\//)
  }, 120_000)
})
