import type { ConsoleMessage, Page, Request } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../server/test/support/harness.ts'
import { actAs, consoleSession, createOrgApi, fetchAs, go, newPage, pick, someone } from './e2e-support.ts'

// Issue #8's custom roles screen (Settings → Roles) on the capgo preset, in headless Chromium.
const session = consoleSession('roles')
const { pages, shot } = session
let server: TestServer
/**
 * The one page the owner, then Max, then the API reference use in turn (actAs hands it on): a new browser
 * context would be a cold renderer (newPage).
 */
let tab: Page
beforeAll(async () => {
  server = session.server
  tab = await newPage(session.browser)
  pages.push(tab)
})

describe('Roles tab (Chromium, capgo preset)', () => {
  it('lists built-in roles, creates, edits and deletes a custom role, and shows the API refusals', async () => {
    const olivia = await someone(server, 'Olivia Owner', 'owner@example.com')
    const { userId } = olivia
    const owner = tab
    await actAs(owner, server, olivia)
    const orgId = await createOrgApi(server, userId, 'Acme')
    await go(owner, `${server.url}/orgs/${orgId}/settings/roles`)
    const builtIn = owner.getByRole('table', { name: 'Built-in roles' })
    await builtIn.getByText('Super Admin').waitFor()
    await builtIn.getByText('App Developer').waitFor()
    // Built-in roles are read-only: no edit or delete on them.
    expect(await builtIn.getByRole('button').count()).toBe(0)
    await owner.getByText('No custom roles yet').waitFor()
    await shot(owner, '01-roles')

    // Create: scope, slot and permissions from the model's catalogue, grouped by module.
    await owner.getByRole('button', { name: 'New role' }).click()
    const dialog = owner.getByRole('dialog')
    await dialog.getByRole('textbox', { name: 'Label' }).fill('Release manager')
    await dialog.getByRole('textbox', { name: 'Key' }).fill('release_manager')
    await pick(owner, 'Slot', 'Organization role')
    await dialog.getByRole('checkbox', { name: /\(org\.read\)$/ }).check()
    await dialog.getByRole('checkbox', { name: /\(org\.read_members\)$/ }).check()
    await dialog.getByRole('checkbox', { name: /\(app\.read\)$/ }).check()
    await shot(owner, '02-new-role')
    await dialog.getByRole('button', { name: 'Create role' }).click()
    const custom = owner.getByRole('table', { name: 'Custom roles' })
    const row = custom.locator('tr[data-role="release_manager"]')
    await row.getByText('Release manager').waitFor()
    expect(await row.locator('td').nth(4).textContent()).toBe('3')

    // A role ranking above the owner's own is refused, and the problem code says so.
    await owner.getByRole('button', { name: 'New role' }).click()
    await dialog.getByRole('textbox', { name: 'Label' }).fill('Emperor')
    await dialog.getByRole('textbox', { name: 'Key' }).fill('emperor')
    await pick(owner, 'Slot', 'Organization role')
    await dialog.getByRole('textbox', { name: 'Priority' }).fill('1000000')
    await dialog.getByRole('checkbox', { name: /\(org\.read\)$/ }).check()
    await dialog.getByRole('button', { name: 'Create role' }).click()
    await dialog.getByRole('alert').getByText('You cannot define a role ranking above your own.').waitFor()
    await shot(owner, '03-rank-too-low')
    await dialog.getByRole('button', { name: 'Cancel' }).click()

    // Edit: one more permission.
    await row.getByRole('button', { name: 'Edit role Release manager' }).click()
    await dialog
      .getByRole('checkbox', { name: /\(app\.read_logs\)$|\(app\.read_bundles\)$/ })
      .first()
      .check()
    await dialog.getByRole('button', { name: 'Save role' }).click()
    await expect.poll(() => row.locator('td').nth(4).textContent()).toBe('4')

    // In use (a group holds it): deleting answers ROLE_IN_USE, and the screen offers reassigning.
    const group = await fetchAs(owner, 'POST', `/v1/orgs/${orgId}/groups`, { name: 'Releases' })
    expect(group.status).toBe(201)
    const binding = await fetchAs(owner, 'POST', `/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'group', id: group.body.id },
      role: 'release_manager',
    })
    expect(binding.status).toBe(201)
    await row.getByRole('button', { name: 'Delete role Release manager' }).click()
    await dialog.getByRole('button', { name: 'Delete role' }).click()
    await dialog.getByText('This role is in use').waitFor()
    await dialog.getByText(/1 binding\(s\) hold it/).waitFor()
    await pick(owner, 'Reassign to', /^Member$/)
    await shot(owner, '04-delete-in-use')
    await dialog.getByRole('button', { name: 'Delete role' }).click()
    await owner.getByText('No custom roles yet').waitFor()
    // The group's binding now holds the role it was reassigned to.
    await go(owner, `${server.url}/orgs/${orgId}/settings/groups`)
    await owner.getByRole('button', { name: 'Releases', exact: true }).click()
    await owner.getByRole('tab', { name: 'Access Control' }).click()
    const groupAccess = owner.getByRole('table', { name: 'Group access' })
    await groupAccess.getByText('Member', { exact: true }).waitFor()
    await owner.keyboard.press('Escape')

    // Someone without org.update_user_roles has no Roles tab; an Admin has it, but may not define a
    // role holding a permission they lack (Admin: no org.delete).
    const maxAccount = await someone(server, 'Max Admin', 'max@example.com')
    const maxId = maxAccount.userId
    // Max takes over the owner's page, whose part is done (actAs): its warm renderer spares a cold one.
    const max = owner
    await actAs(max, server, maxAccount)
    expect(
      (await server.platform.post(`/v1/orgs/${orgId}/members`, { userId: maxId, roles: ['org_member'] }))
        .status,
    ).toBe(201)
    await go(max, `${server.url}/orgs/${orgId}/settings/members`)
    await max.getByRole('tab', { name: 'Members' }).waitFor()
    expect(await max.getByRole('tab', { name: 'Roles' }).count()).toBe(0)
    await server.platform.patch(`/v1/orgs/${orgId}/members/${maxId}`, { roles: ['org_admin'] })
    await go(max, `${server.url}/orgs/${orgId}/settings/roles`)
    await max.getByRole('tab', { name: 'Roles' }).waitFor()
    await max.getByRole('button', { name: 'New role' }).click()
    const maxDialog = max.getByRole('dialog')
    await maxDialog.getByRole('textbox', { name: 'Label' }).fill('Deleter')
    await maxDialog.getByRole('textbox', { name: 'Key' }).fill('deleter')
    await pick(max, 'Slot', 'Organization role')
    await maxDialog.getByRole('checkbox', { name: /\(org\.delete\)$/ }).check()
    await maxDialog.getByRole('button', { name: 'Create role' }).click()
    const refusal = maxDialog.getByRole('alert')
    await refusal.getByText('You cannot define a role holding permissions you lack.').waitFor()
    await shot(max, '05-escalation')
  }, 240_000)
})

// Issue 24.4: the API reference, beside the roles (one server and page for both), read signed out: it is public.
describe('API reference at /v1/docs (Chromium)', () => {
  it("renders the OpenAPI document with Redoc, the server's own copy: operations and webhook events, nothing fetched elsewhere", async () => {
    const page = tab
    await actAs(page, server, null)
    const elsewhere: string[] = []
    // Loaded, not asked for: the page's CSP refuses Redoc's CDN badge before it leaves the browser.
    const heard = (r: Request) => {
      if (!r.url().startsWith(server.url) && !/^(blob|data):/.test(r.url())) elsewhere.push(r.url())
    }
    page.on('requestfinished', heard)
    // Nothing refused either: the CDN badge refused by the CSP was a console error on every visit.
    const errors: string[] = []
    const said = (m: ConsoleMessage) => {
      if (m.type() === 'error') errors.push(m.text())
    }
    page.on('console', said)
    const answer = await page.goto(`${server.url}/v1/docs`)
    expect(answer?.headers()['content-security-policy']).toMatch(/^default-src 'self'/)
    await page.locator('h2', { hasText: 'Check a permission' }).first().waitFor({ timeout: 150_000 })
    await page
      .locator('h2', { hasText: 'Someone joined the organization, with the roles they were given' })
      .waitFor({ timeout: 150_000 })
    page.off('requestfinished', heard)
    page.off('console', said)
    expect(elsewhere).toEqual([])
    expect(errors).toEqual([])
  }, 360_000)
})
