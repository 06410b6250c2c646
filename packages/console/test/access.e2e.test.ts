import type { Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../server/test/support/harness.ts'
import {
  actAs,
  consoleSession,
  createOrgApi,
  expectAccessible,
  fetchAs,
  go,
  newPage,
  someone,
} from './e2e-support.ts'

// Issue 26.4 in Chromium (capgo, PGlite): the Access tab shows every way a person reaches the app, and a
// channel override is set for someone who holds no role on the app — then the engine refuses them.
const session = consoleSession('access')
const { pages, shot } = session
let server: TestServer
/**
 * The one page the admin and Pat use in turn (actAs hands it on; they never need two live sessions at once):
 * a second browser context would be a cold renderer compiling the console and axe-core again (~2 s of CPU).
 */
let page: Page
beforeAll(async () => {
  server = session.server
  page = await newPage(session.browser)
  pages.push(page)
})

/** The background of the chosen segment's indicator in a Default / Allow / Deny control. */
const indicatorColour = (page: Page, name: string) =>
  page
    .getByRole('radiogroup', { name })
    .locator('.mantine-SegmentedControl-indicator')
    .evaluate((el) => getComputedStyle(el).backgroundColor)

describe('Access tab: who reaches the app, and channel overrides for anyone (Chromium)', () => {
  it('shows an org role and a group’s app role as the ways in; a Deny for that person takes the action away', async () => {
    const admin = await someone(server, 'Ada Admin', 'ada@example.com')
    const pat = await someone(server, 'Pat Person', 'pat@example.com')
    // Set-up over the API: Acme, the app Shop with its production channel, Pat a Member of Acme and of the
    // group QA, which is App Developer on Shop. Pat holds no role on the app of their own.
    const orgId = await createOrgApi(server, admin.userId, 'Acme')
    const as = server.as(admin.userId)
    const appId = (await as.post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Shop' })).body.id
    // Blog: an app with no role given on it, reached only through org roles.
    const blogId = (await as.post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Blog' })).body.id
    const production = (
      await as.post(`/v1/orgs/${orgId}/resources`, { type: 'channel', name: 'production', parentId: appId })
    ).body.id
    expect(
      (await server.platform.post(`/v1/orgs/${orgId}/members`, { userId: pat.userId, roles: ['org_member'] }))
        .status,
    ).toBe(201)
    const qa = (await as.post(`/v1/orgs/${orgId}/groups`, { name: 'QA' })).body.id
    await as.put(`/v1/orgs/${orgId}/groups/${qa}/members/${pat.userId}`, {})
    await as.post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'group', id: qa },
      role: 'app_developer',
      resourceId: appId,
    })
    /** Pat's own session asks the engine (Pat takes the page over: actAs). */
    const promote = async () => {
      await actAs(page, server, pat)
      return fetchAs(page, 'POST', '/v1/check', {
        permission: 'channel.promote_bundle',
        resource: { type: 'channel', id: production },
      })
    }
    expect((await promote()).body).toMatchObject({ allowed: true })

    // The admin may read access: the list offers each app's Access tab, as the app page does.
    await actAs(page, server, admin)
    await go(page, `${server.url}/orgs/${orgId}/apps`)
    const apps = page.getByRole('table', { name: 'Apps' })
    await apps.getByRole('row').filter({ hasText: 'Shop' }).getByRole('link', { name: 'Access' }).waitFor()
    await apps.getByRole('row').filter({ hasText: 'Blog' }).getByRole('link', { name: 'Access' }).click()
    await page.waitForURL(new RegExp(`/apps/${blogId}/access$`))
    // Regression (new-user walk): Blog's empty state said "Nobody has access yet" above a list of who
    // reaches it (Ada, through her org role); it speaks of roles on the app itself.
    await page
      .getByRole('alert')
      .getByText('No one has a role on this app itself yet', { exact: true })
      .waitFor()
    await page.getByText('Give a member or a group a role on this app with Add access.').waitFor()
    await page
      .getByRole('table', { name: 'How people reach this app' })
      .getByRole('row')
      .filter({ hasText: 'ada@example.com' })
      .getByText('Super Admin on the organization Acme')
      .waitFor()
    expect(await page.getByText(/nobody has access/i).count()).toBe(0)
    await expectAccessible(page, 'access-tab-no-app-roles')

    // The admin's Access tab: Pat, with both ways in, in words.
    await go(page, `${server.url}/orgs/${orgId}/apps/${appId}/access`)
    const reach = page.getByRole('table', { name: 'How people reach this app' })
    const row = reach.getByRole('row').filter({ hasText: 'pat@example.com' })
    await row.getByText('Member on the organization Acme').waitFor()
    await row.getByText('App Developer on this app, through the group QA').waitFor()
    await reach
      .getByRole('row')
      .filter({ hasText: 'ada@example.com' })
      .getByText('Super Admin on the organization Acme')
      .waitFor()
    // Pat holds no role on the app itself: the granted-roles table lists the group, not Pat.
    const granted = page.getByRole('table', { name: 'Access', exact: true })
    await granted.getByText('QA').waitFor()
    expect(await granted.getByText('pat@example.com').count()).toBe(0)
    await expectAccessible(page, 'access-tab')
    await shot(page, '01-access-reach')

    // Channel permissions for Pat: Deny "Associate bundle" (red), Allow "History" (green), with their words.
    await row.getByRole('button', { name: 'Channel permissions for pat@example.com' }).click()
    const dialog = page.getByRole('dialog', { name: 'Channel permissions' })
    await dialog.getByText(/App Developer, Member/).waitFor()
    const associate = dialog.getByRole('radiogroup', { name: 'Associate bundle on production' })
    // Under Default, what it resolves to for Pat: allowed, through QA's App Developer (the engine's answer).
    const now = (name: string) =>
      dialog
        .getByRole('cell')
        .filter({ has: page.getByRole('radiogroup', { name }) })
        .getByText(/^Now: /)
    await expect.poll(() => now('Associate bundle on production').innerText()).toBe('Now: allowed')
    await associate.getByText('Deny').click()
    await page.getByText('Associate bundle on production: deny').waitFor()
    await expect.poll(() => now('Associate bundle on production').innerText()).toBe('Now: not allowed')
    expect(await associate.getByRole('radio', { name: 'Deny' }).isChecked()).toBe(true)
    await dialog.getByRole('radiogroup', { name: 'History on production' }).getByText('Allow').click()
    await page.getByText('History on production: allow').waitFor()
    await expect.poll(() => indicatorColour(page, 'Associate bundle on production')).toBe('rgb(201, 42, 42)')
    await expect.poll(() => indicatorColour(page, 'History on production')).toBe('rgb(31, 111, 48)')
    await expectAccessible(page, 'channel-permissions')
    await shot(page, '02-channel-deny-allow')

    // Pat can no longer associate a bundle on production, and the engine says why.
    expect((await promote()).body).toMatchObject({ allowed: false, reason: 'override_deny' })
    const overrides = (await as.get(`/v1/orgs/${orgId}/resources/${appId}/access`)).body.overrides
    expect(overrides).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          principal: { type: 'user', id: pat.userId },
          permission: 'channel.promote_bundle',
          effect: 'deny',
        }),
      ]),
    )
    // Pat's own console (the page is Pat's since promote): the app is there to read, its Access tab isn't
    // theirs to see, nor (regression: a new-user walk) the list's Access link that opened it refused twice.
    await go(page, `${server.url}/orgs/${orgId}/apps`)
    const shop = page.getByRole('table', { name: 'Apps' }).getByRole('row').filter({ hasText: 'Shop' })
    await shop.getByRole('link', { name: 'Channels' }).waitFor()
    // Once every check the list asks (the per-app ones come after the list) has its answer.
    await page.waitForLoadState('networkidle')
    expect(await shop.getByRole('link', { name: 'Access' }).count()).toBe(0)
    await go(page, `${server.url}/orgs/${orgId}/apps/${appId}`)
    await page.getByText('production').first().waitFor()
    await expectAccessible(page, 'app-as-pat')
    // The Access tab's address, typed: said once what it is and who may, with the way back (it was refused
    // twice, no tab chosen).
    await go(page, `${server.url}/orgs/${orgId}/apps/${appId}/access`)
    const notYours = page.getByRole('alert').filter({ hasText: 'Not for you to see' })
    await notYours.getByText(/ask an owner of the organization/).waitFor()
    expect(await page.getByText('You are not allowed to do this').count()).toBe(0)
    await notYours.getByRole('link', { name: 'Back to its channels' }).click()
    await page.waitForURL(/\/channels$/)

    // "Why can they?" offers Pat only Pat (others' access is for who may read the org's: SPEC 6), and picking
    // Pat again keeps Pat (it cleared the field and greyed Explain out).
    await go(page, `${server.url}/orgs/${orgId}/explain`)
    await page.getByText('You can ask about yourself here.').waitFor()
    const person = page.getByRole('combobox', { name: 'Person' })
    await person.click()
    const options = page.getByRole('option')
    await expect.poll(() => options.allInnerTexts()).toEqual(['Pat Person <pat@example.com>'])
    await options.first().click()
    await expect.poll(() => person.inputValue()).toBe('Pat Person <pat@example.com>')

    // Sam, the app's own admin, sets Pat's overrides without org.read_access, so may not ask what Pat may do:
    // the cells say nothing of it (review: every cell read "Now: not allowed", the checks' FORBIDDEN taken for
    // a denial).
    const sam = await someone(server, 'Sam Appadmin', 'sam@example.com')
    await server.platform.post(`/v1/orgs/${orgId}/members`, { userId: sam.userId, roles: ['org_member'] })
    await as.post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: sam.userId },
      role: 'app_admin',
      resourceId: appId,
    })
    await actAs(page, server, sam)
    await go(page, `${server.url}/orgs/${orgId}/apps/${appId}/access`)
    await page
      .getByRole('table', { name: 'How people reach this app' })
      .getByRole('row')
      .filter({ hasText: 'pat@example.com' })
      .getByRole('button', { name: 'Channel permissions for pat@example.com' })
      .click()
    const samsDialog = page.getByRole('dialog', { name: 'Channel permissions' })
    await samsDialog.getByRole('radiogroup', { name: 'Read on production' }).getByText('Deny').click()
    await page.getByText('Read on production: deny').waitFor()
    await page.waitForLoadState('networkidle')
    expect(await samsDialog.getByText(/^Now: /).count()).toBe(0)
    expect(await samsDialog.getByText(/Under each/).count()).toBe(0)
  }, 150_000)
})
