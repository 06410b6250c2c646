import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import {
  CONSOLE_DIST,
  go,
  launch,
  linkFromOutboxApi,
  newPage,
  photograph,
  REDUCED_MOTION,
  release,
  screenshot,
} from './e2e-support.ts'

// The console end to end, in a real headless Chromium against a real server on the embedded database.
// CI installs Debian's chromium (.ci/run); without it this fails rather than skip.

let server: TestServer
let browser: Browser
/** The first test's owner, signed in, and their org: the second test visits the other screens as them. */
let owner: Page
let orgId: string
const ownerEmail = 'owner@example.com'
const ownerPassword = 'correct horse battery staple'

beforeAll(async () => {
  // The same build `npm start` makes, when the sources changed since the last one (launch).
  const launched = await launch('console')
  browser = launched.browser
  shot = screenshot(launched.artifacts)
  failed = photograph(launched.artifacts)
  server = await startTestServer('pglite', { localOutbox: true, consoleDir: CONSOLE_DIST })
}, 180_000)

afterEach(async (context) => {
  // What each browser showed when a step failed: the first thing to look at.
  if (context.task.result?.state === 'fail')
    for (const [i, page] of pages.entries()) await failed(page, `failure-${i}`).catch(() => {})
})

afterAll(async () => {
  await release(browser)
  await server?.stop()
})

const pages: Page[] = []
/** Each main screen: checked with axe-core (issue 26.6), then photographed. */
let shot: (page: Page, name: string) => Promise<unknown>
let failed: (page: Page, name: string) => Promise<unknown>

/** The link in the newest outbox mail to `to` whose URL contains `part`, read through the console. */
async function linkFromOutbox(page: Page, to: string, part: string): Promise<string> {
  await go(page, `${server.url}/outbox`)
  const mail = page.getByRole('article', { name: `Mail to ${to}` }).first()
  await mail.waitFor()
  const href = await mail.locator(`a[href*="${part}"]`).first().getAttribute('href')
  expect(href).toBeTruthy()
  return href!
}

async function pick(page: Page, label: string, option: string | RegExp) {
  await page.getByRole('combobox', { name: label }).click()
  await page.getByRole('option', { name: option }).first().click()
}

async function explain(page: Page, orgId: string, person: RegExp, permission: string, resource: RegExp) {
  await go(page, `${server.url}/orgs/${orgId}/explain`)
  await pick(page, 'Person', person)
  await pick(page, 'Permission', new RegExp(`^${permission.replace('.', '\\.')} `))
  await pick(page, 'Channel', resource)
  await page.getByRole('button', { name: 'Explain' }).click()
  const result = page.getByTestId('explain-result')
  await result.waitFor()
  return result
}

describe('console (Chromium)', () => {
  it('signs up, creates an org, invites, accepts, changes role, denies a channel, removes', async () => {
    owner = await newPage(browser)
    pages.push(owner)
    const memberEmail = 'member@example.com'

    // Sign up, verify from the local outbox, land signed in.
    await owner.goto(`${server.url}/signup`)
    await shot(owner, '01-signup')
    await owner.getByLabel('Name').fill('Olivia Owner')
    await owner.getByLabel('Email').fill(ownerEmail)
    await owner.getByRole('textbox', { name: 'Password' }).fill(ownerPassword)
    await owner.getByRole('button', { name: 'Create account' }).click()
    await owner.getByText('Check your email').waitFor()
    // Its links are words of the sentence, in its size (they were a size larger).
    const sizes = await owner
      .getByRole('status')
      .filter({ hasText: 'Check your email' })
      .evaluate((alert) =>
        [...alert.querySelectorAll('a')].map((a) => [
          getComputedStyle(a).fontSize,
          getComputedStyle(a.parentElement!).fontSize,
        ]),
      )
    expect(sizes.length).toBe(2)
    for (const [link, text] of sizes) expect(link).toBe(text)
    // Signing in first says where the link is and how to get a new one.
    await owner.goto(`${server.url}/login`)
    await owner.getByLabel('Email').fill(ownerEmail)
    await owner.getByRole('textbox', { name: 'Password' }).fill(ownerPassword)
    await owner.getByRole('button', { name: 'Sign in' }).click()
    await owner
      .getByRole('alert')
      .getByText(
        /in the local outbox\)\. Lost it, or too old\? Reset your password: its link verifies your email too\./,
      )
      .waitFor()
    const verify = await linkFromOutbox(owner, ownerEmail, '/verify?token=')
    await shot(owner, '02-outbox')
    await owner.goto(verify)
    await owner.getByRole('button', { name: 'Open the console' }).click()
    await owner.waitForURL(/\/orgs\//)

    // Create an organization.
    await go(owner, `${server.url}/orgs/new`)
    await owner.getByLabel('Organization name').fill('Acme')
    await shot(owner, '03-create-org')
    await owner.getByRole('button', { name: 'Create', exact: true }).click()
    await owner.waitForURL(/\/orgs\/[0-9a-f-]{36}\/settings\/members/)
    orgId = /\/orgs\/([0-9a-f-]{36})\//.exec(owner.url())![1]!
    await owner.getByRole('table', { name: 'Members' }).getByText(ownerEmail).waitFor()

    // An app with a channel.
    await go(owner, `${server.url}/orgs/${orgId}/apps`)
    await owner.getByRole('button', { name: 'New app' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('Shop')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.waitForURL(/\/apps\/[0-9a-f-]{36}$/)
    const appUrl = owner.url()
    await owner.getByRole('button', { name: 'New channel' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('production')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.getByRole('cell', { name: /^production/ }).waitFor()
    await shot(owner, '04-app-channels')

    // Invite: + Add → Select a role → the invitation form with its captcha → Send invitation.
    await go(owner, `${server.url}/orgs/${orgId}/settings/members`)
    await owner.getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('radio', { name: 'Admin', exact: true }).check()
    await shot(owner, '05-select-role')
    await owner.getByRole('button', { name: 'Confirm' }).click()
    await owner.getByRole('dialog').getByLabel('Email').fill(memberEmail)
    await owner.getByLabel('First name').fill('Max')
    // Greyed out until the captcha is ticked, and it says so.
    const tickFirst = owner.getByText('Tick "I\'m not a robot" above to send it.')
    await tickFirst.waitFor()
    await owner.getByLabel("I'm not a robot").click()
    await owner.getByText('Verified').waitFor()
    expect(await tickFirst.count()).toBe(0)
    await shot(owner, '06-invite')
    await owner.getByRole('button', { name: 'Send invitation' }).click()
    const pendingRow = owner.locator(`tr[data-email="${memberEmail}"]`)
    await expect.poll(() => pendingRow.getByText('Pending').count()).toBe(1)
    await shot(owner, '07-members-pending')

    // The invitee opens the mail's link in another browser, signs up from it and joins. The mail is read over
    // the API (the outbox screen is walked above, 02-outbox): the invitee's first load is the link itself, not
    // a whole console booted in a cold renderer only to read it.
    const invitee = await (await browser.newContext(REDUCED_MOTION)).newPage()
    invitee.setDefaultTimeout(20_000)
    pages.push(invitee)
    await invitee.goto(await linkFromOutboxApi(server, memberEmail, '/invitations/'))
    await invitee.getByText('Acme').waitFor()
    await invitee.getByLabel('Name').fill('Max Member')
    await invitee.getByRole('textbox', { name: 'Password' }).fill('another long passphrase')
    await shot(invitee, '08-accept-invitation')
    await invitee.getByRole('button', { name: 'Create account and join' }).click()
    // Told what happened (issue 26.5), then on into the org.
    await invitee.getByRole('button', { name: /^Open / }).click()
    await invitee.waitForURL(/\/orgs\//)
    await shot(invitee, '08b-invitee-joined')
    await expect.poll(() => invitee.getByRole('combobox', { name: 'Organization' }).inputValue()).toBe('Acme')

    // Active now; change the role from Admin to Member.
    await go(owner, owner.url())
    const row = owner.locator(`tr[data-email="${memberEmail}"]`)
    await row.getByText('Active').waitFor()
    await row.getByRole('button', { name: `Edit role of ${memberEmail}` }).click()
    await owner.getByRole('radio', { name: 'Member', exact: true }).check()
    await owner.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => row.getByText('Member', { exact: true }).count()).toBe(1)
    await shot(owner, '09-members')

    // As a Member they see what the engine lets them: the members list, read-only, and no admin tabs.
    await go(invitee, `${server.url}/orgs/${orgId}/settings/members`)
    await invitee.getByRole('table', { name: 'Members' }).getByText(ownerEmail).waitFor()
    const tabs = await invitee.getByRole('tab').allTextContents()
    expect(tabs).toContain('Members')
    for (const hidden of ['Security', 'Audit Logs', 'Webhooks']) expect(tabs).not.toContain(hidden)
    expect(await invitee.getByRole('button', { name: 'Add' }).count()).toBe(0)
    expect(await invitee.getByRole('button', { name: /^Remove / }).count()).toBe(0)
    await shot(invitee, '09b-members-as-member')

    // App Developer on the app (Access tab), then the engine allows promoting a bundle on production.
    await go(owner, `${appUrl}/access`)
    await owner.getByRole('button', { name: 'Add access' }).click()
    await pick(owner, 'Email or group', /Max Member/)
    await pick(owner, 'Role', 'App Developer')
    await owner.getByRole('button', { name: 'Assign' }).click()
    await owner.getByRole('table', { name: 'Access' }).getByText(memberEmail).waitFor()
    await shot(owner, '10-app-access')
    // Seed 001's wrench: the role changes in place (one PATCH: the same binding, never two roles or none).
    const appId = /\/apps\/([0-9a-f-]{36})/.exec(appUrl)![1]!
    const onApp = async () =>
      (await server.platform.get(`/v1/orgs/${orgId}/bindings?resourceId=${appId}`)).body.items.filter(
        (b: { principal: { type: string } }) => b.principal.type === 'user',
      ) as { id: string; role: string }[]
    const [granted] = await onApp()
    await owner.getByRole('button', { name: `Edit role of ${memberEmail}` }).click()
    await pick(owner, 'Role', 'App Uploader')
    await owner.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click()
    const accessRow = owner
      .getByRole('table', { name: 'Access' })
      .getByRole('row')
      .filter({ hasText: memberEmail })
    await expect.poll(() => accessRow.getByText('App Uploader').count()).toBe(1)
    expect(await onApp()).toEqual([expect.objectContaining({ id: granted!.id, role: 'app_uploader' })])
    await shot(owner, '10b-app-access-wrench')
    await owner.getByRole('button', { name: `Edit role of ${memberEmail}` }).click()
    await pick(owner, 'Role', 'App Developer')
    await owner.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => accessRow.getByText('App Developer').count()).toBe(1)
    expect(await onApp()).toEqual([expect.objectContaining({ id: granted!.id, role: 'app_developer' })])
    // The Members tab's app access modal changes a held app role in place too.
    await go(owner, `${server.url}/orgs/${orgId}/settings/members`)
    await owner.getByRole('button', { name: `App access of ${memberEmail}` }).click()
    await pick(owner, 'App', 'Shop')
    await pick(owner, 'Role', 'App Reader')
    await owner.getByRole('dialog').getByRole('button', { name: 'Assign' }).click()
    await expect.poll(async () => (await onApp())[0]?.role).toBe('app_reader')
    expect((await onApp()).map((b) => b.id)).toEqual([granted!.id])
    await owner.getByRole('button', { name: `App access of ${memberEmail}` }).click()
    await pick(owner, 'App', 'Shop')
    await pick(owner, 'Role', 'App Developer')
    await owner.getByRole('dialog').getByRole('button', { name: 'Assign' }).click()
    await expect.poll(async () => (await onApp())[0]?.role).toBe('app_developer')
    await go(owner, `${appUrl}/access`)
    let result = await explain(owner, orgId, /Max Member/, 'channel.promote_bundle', /production/)
    await expect.poll(() => result.getByText('Allowed').count()).toBe(1)
    await shot(owner, '11-explain-allowed')

    // Deny "Associate bundle" on production for them: the member loses the action.
    await go(owner, `${appUrl}/access`)
    await owner.getByRole('button', { name: `Channel permissions for ${memberEmail}` }).click()
    const associate = owner.getByRole('radiogroup', { name: 'Associate bundle on production' })
    await associate.getByText('Deny').click()
    await owner.getByText('Associate bundle on production: deny').waitFor()
    expect(await associate.getByRole('radio', { name: 'Deny' }).isChecked()).toBe(true)
    await shot(owner, '12-channel-permissions')
    await owner.keyboard.press('Escape')
    result = await explain(owner, orgId, /Max Member/, 'channel.promote_bundle', /production/)
    await expect.poll(() => result.getByText('Denied').count()).toBe(1)
    await result.getByText('override_deny').waitFor()
    await shot(owner, '13-explain-denied')
    // The member's own session sees the same decision through the check API.
    const memberCheck = await invitee.evaluate(async () => {
      const channels = await (
        await fetch(
          location.pathname.split('/').slice(0, 3).join('/').replace('/orgs/', '/v1/orgs/') +
            '/resources?type=channel',
        )
      ).json()
      const decision = await fetch('/v1/check', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-orgkit-csrf': /orgkit_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '',
        },
        body: JSON.stringify({
          permission: 'channel.promote_bundle',
          resource: { type: 'channel', id: channels.items[0].id },
        }),
      })
      return decision.json()
    })
    expect(memberCheck).toMatchObject({ allowed: false, reason: 'override_deny' })

    // Remove them, after the warning that it can't be undone.
    await go(owner, `${server.url}/orgs/${orgId}/settings/members`)
    await owner.getByRole('button', { name: `Remove ${memberEmail}` }).click()
    await owner.getByText('This action is not reversible').waitFor()
    await shot(owner, '14-remove-confirm')
    await owner.getByRole('button', { name: 'Delete' }).click()
    await expect.poll(() => owner.locator(`tr[data-email="${memberEmail}"]`).count()).toBe(0)
    await shot(owner, '15-members-after-remove')
    // Now the only Super Admin, the owner can't leave: said before any delete dialog, with what to do first
    // (a walkthrough found the delete dialog, then the server's refusal).
    await owner.getByRole('button', { name: `Remove ${ownerEmail}` }).click()
    const last = owner.getByRole('dialog', { name: 'You are the last owner' })
    await last.getByText(/You are the only Super Admin of this organization/).waitFor()
    await last.getByText(/Make someone else a Super Admin first/).waitFor()
    expect(await owner.getByRole('button', { name: 'Delete' }).count()).toBe(0)
    await shot(owner, '16-last-owner')
    await last.getByRole('button', { name: 'OK' }).click()
    await last.waitFor({ state: 'detached' })
    await owner.locator(`tr[data-email="${ownerEmail}"]`).waitFor()
  }, 240_000)

  it('shows the other screens, and signs in again through the 2FA step', async () => {
    expect(orgId, 'needs the first test').toBeTruthy()
    const settings = (tab: string) => go(owner, `${server.url}/orgs/${orgId}/settings/${tab}`)

    await settings('general')
    await owner.getByLabel('Management email').fill('ops@acme.example')
    await owner.getByRole('button', { name: 'Save' }).click()
    await owner.getByText('Settings saved').waitFor()
    await shot(owner, '20-general')

    await settings('groups')
    await owner.getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('QA Team')
    await owner.getByRole('dialog').getByLabel('Description').fill('Testers')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.getByRole('button', { name: 'QA Team', exact: true }).click()
    await owner.getByRole('dialog').getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('checkbox', { name: /Olivia Owner/ }).check()
    await shot(owner, '21-group-add-members')
    await owner.getByRole('button', { name: 'Add members' }).click()
    await owner.getByRole('table', { name: 'Group members' }).getByText(ownerEmail).waitFor()
    await shot(owner, '22-group-members')
    await owner.keyboard.press('Escape')

    await settings('security')
    await owner.getByRole('table', { name: 'Compliance' }).getByText(ownerEmail).waitFor()
    await shot(owner, '23-security')

    await settings('audit-logs')
    await owner.getByRole('table', { name: 'Audit log' }).locator('tbody tr').first().waitFor()
    await shot(owner, '24-audit-logs')

    await settings('webhooks')
    await owner.getByRole('button', { name: 'Add endpoint' }).click()
    await owner.getByRole('dialog').getByLabel('URL').fill('http://127.0.0.1:9/hooks')
    await owner.getByRole('dialog').getByRole('button', { name: 'Add' }).click()
    await owner.getByText('Signing secret — shown once').waitFor()
    await shot(owner, '25-webhooks')

    // 2FA: enrol with the QR code's secret, keep the recovery codes, sign out, sign in with the 2FA step.
    await go(owner, `${server.url}/account`)
    await owner.getByRole('button', { name: 'Set up an authenticator app' }).click()
    await owner.getByAltText('QR code for your authenticator app').waitFor()
    const secret = (await owner.getByText(/^[A-Z2-7]{16,}$/).textContent())!
    const { TOTP, Secret } = await import('otpauth')
    await owner.getByLabel('Code').fill(new TOTP({ secret: Secret.fromBase32(secret) }).generate())
    await shot(owner, '26-account-2fa-enrol')
    await owner.getByRole('button', { name: 'Turn on' }).click()
    const codes = (await owner.getByTestId('recovery-codes').textContent())!
    const recovery = codes.split('\n')[0]!.trim()
    await owner.getByRole('button', { name: 'Create key' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('CI deploys')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.getByText('Your new key (shown once)').waitFor()
    await shot(owner, '27-account')

    await owner.getByRole('button', { name: 'Account menu' }).click()
    await owner.getByRole('menuitem', { name: 'Sign out' }).click()
    await owner.waitForURL(/\/login/)
    await owner.getByLabel('Email').fill(ownerEmail)
    await owner.getByRole('textbox', { name: 'Password' }).fill(ownerPassword)
    await shot(owner, '28-login')
    await owner.getByRole('button', { name: 'Sign in' }).click()
    await owner.getByText('Two-factor authentication').waitFor()
    await owner.getByRole('button', { name: 'Use a recovery code instead' }).click()
    await owner.getByLabel('Recovery code').fill(recovery)
    await shot(owner, '29-login-2fa')
    await owner.getByRole('button', { name: 'Verify' }).click()
    await owner.waitForURL(/\/orgs\/[0-9a-f-]{36}\/apps/)

    // Narrow screens: the navigation folds behind the burger.
    await owner.setViewportSize({ width: 390, height: 800 })
    await settings('members')
    await owner.getByRole('button', { name: 'Toggle navigation' }).waitFor()
    await shot(owner, '30-members-mobile')
    // Nothing is cut off at phone width: a wide table scrolls inside its own box, never the page sideways
    // (a walkthrough found tables cut off there).
    const reading = () =>
      owner.evaluate(() => {
        const shown = [...document.querySelectorAll('main *')]
        // A table's scroll container is a Mantine ScrollArea: what it holds may reach past the screen.
        const wide = shown.filter(
          (e) =>
            e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.mantine-ScrollArea-root'),
        )
        return {
          elements: shown.length,
          loading: !!document.querySelector('main .mantine-Loader-root'),
          tab: document.querySelector('[role="tab"][aria-selected="true"]')?.id ?? null,
          page: document.documentElement.scrollWidth - window.innerWidth,
          cut: wide.slice(0, 3).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`),
        }
      })
    /**
     * The screen once it has drawn what it shows: no loader left, and two readings 150 ms apart alike (a
     * chart draws after it is sized, with no loader before it; moving inside the console never waits on the
     * network, so "network idle" says nothing here).
     */
    const settled = async () => {
      let last = ''
      for (;;) {
        const now = await reading()
        const key = JSON.stringify(now)
        if (!now.loading && now.elements > 0 && key === last) return now
        last = key
        await owner.waitForTimeout(150)
      }
    }
    const screens: string[] = []
    const tabs = ['general', 'members', 'groups', 'roles', 'api-keys', 'plans', 'credits', 'security']
    tabs.push('directory', 'domains', 'sso', 'usage', 'audit-logs', 'webhooks', 'billing')
    await settings(tabs[0]!)
    for (const tab of tabs) {
      // By its tab, as a person moves between them (a tab this person can't see is not there to click).
      await owner.locator(`[role="tab"][id$="-tab-${tab}"]`).click()
      const seen = await settled()
      expect(seen.tab, tab).toMatch(new RegExp(`-tab-${tab}$`))
      if (seen.page > 0 || seen.cut.length > 0) screens.push(`${tab}: ${JSON.stringify(seen)}`)
    }
    for (const path of ['apps', 'explain']) {
      await go(owner, `${server.url}/orgs/${orgId}/${path}`)
      const seen = await settled()
      if (seen.page > 0 || seen.cut.length > 0) screens.push(`${path}: ${JSON.stringify(seen)}`)
    }
    expect(screens).toEqual([])
  }, 180_000)
})
