import type { Browser, Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../server/test/support/harness.ts'
import {
  actAs,
  consoleSession,
  createOrgApi,
  expectAccessible,
  go,
  linkFromOutboxApi,
  newPage,
  person,
  pick,
  type Someone,
  someone,
} from './e2e-support.ts'

// Issue 26.1 and 26.5 in headless Chromium (capgo): the admin renames, transfers and deletes an app, a
// channel and the organization, each confirmation naming who loses access as the API counts it; the
// person affected sees what became of it, told in one sentence; an invitee is told the role by its label,
// finds the name the inviter typed, and is told "You joined …". Set-up goes over the API.
const session = consoleSession('manage-entities')
const { pages, shot } = session
let server: TestServer
let browser: Browser
let owner: Page
/** Ann's page; the invitee (Ivy) uses it signed out in between (actAs), sparing a cold renderer (~2 s of CPU). */
let ann: Page
let annAccount: Someone
let acmeId: string
let globexId: string
let shopId: string
beforeAll(async () => {
  ;({ server, browser } = session)
  const o = await person(server, browser, 'Olivia Owner', 'olivia@acme.test')
  annAccount = await someone(server, 'Ann Member', 'ann@acme.test')
  owner = o.page
  ann = await newPage(browser)
  await actAs(ann, server, annAccount)
  // A loaded shared machine makes a page's first lazy load slow: room for it, not a sleep.
  for (const page of [owner, ann]) page.setDefaultTimeout(45_000)
  pages.push(owner, ann)
  acmeId = await createOrgApi(server, o.userId, 'Acme')
  globexId = await createOrgApi(server, o.userId, 'Globex')
  const as = server.as(o.userId)
  expect(
    (
      await server.platform.post(`/v1/orgs/${acmeId}/members`, {
        userId: annAccount.userId,
        roles: ['org_member'],
      })
    ).status,
  ).toBe(201)
  shopId = (await as.post(`/v1/orgs/${acmeId}/resources`, { type: 'app', name: 'Shop' })).body.id
  for (const name of ['staging', 'production'])
    await as.post(`/v1/orgs/${acmeId}/resources`, { type: 'channel', name, parentId: shopId })
})

const dialog = (page: Page) => page.getByRole('dialog')

describe('managing apps, channels and the organization (Chromium, capgo preset)', () => {
  it('renames, deletes and transfers as the admin; the member sees what is left', async () => {
    await go(owner, `${server.url}/orgs/${acmeId}/apps/${shopId}/channels`)
    await owner.getByRole('button', { name: 'Manage staging' }).waitFor()
    await expectAccessible(owner, 'app page with its actions')

    // Rename the app.
    await owner.getByRole('button', { name: 'Manage Shop' }).click()
    await owner.getByRole('menuitem', { name: 'Rename' }).click()
    await dialog(owner).getByRole('textbox', { name: 'Name' }).fill('Shop Pro')
    await expectAccessible(owner, 'rename dialog')
    await dialog(owner).getByRole('button', { name: 'Rename' }).click()
    await owner.getByRole('heading', { name: 'Apps / Shop Pro' }).waitFor()

    // Delete a channel: the confirmation says who stops reaching it (Olivia and Ann read every channel).
    await owner.getByRole('button', { name: 'Manage staging' }).click()
    await owner.getByRole('menuitem', { name: 'Delete' }).click()
    await dialog(owner).getByText('2 people who can open it now lose access.').waitFor()
    await expectAccessible(owner, 'delete channel confirmation')
    await shot(owner, '01-delete-channel')
    await dialog(owner).getByRole('button', { name: 'Delete channel' }).click()
    await owner.getByRole('button', { name: 'Manage staging' }).waitFor({ state: 'detached' })

    // Transfer the app to Globex: only Olivia reads apps there, so Ann loses it; its channel goes along.
    await owner.getByRole('button', { name: 'Manage Shop Pro' }).click()
    await owner.getByRole('menuitem', { name: 'Transfer' }).click()
    await pick(owner, 'To organization', 'Globex')
    await dialog(owner).getByText('1 channel moves with it.').waitFor()
    await dialog(owner).getByText('1 of the 2 people who can open it now loses access.').waitFor()
    await expectAccessible(owner, 'transfer app confirmation')
    await shot(owner, '02-transfer-app')
    await dialog(owner).getByRole('button', { name: 'Transfer to Globex' }).click()
    await owner.waitForURL(new RegExp(`/orgs/${globexId}/apps/${shopId}`))
    await owner.getByRole('button', { name: 'Manage production' }).waitFor()

    // Ann, a member of Acme: the app is gone from her list, and its old address says so in one sentence.
    await go(ann, `${server.url}/orgs/${acmeId}/apps`)
    await ann.getByText('No apps yet').waitFor()
    await expectAccessible(ann, 'empty app list')
    await ann.goto(`${server.url}/orgs/${acmeId}/apps/${shopId}`)
    const gone = ann.getByRole('alert')
    await gone.getByText('It no longer exists, or you can no longer see it.', { exact: true }).waitFor()
    // Reloading can't bring it back (it said to): the way out is back to the org.
    await gone.getByRole('link', { name: 'Back to the organization' }).click()
    await ann.waitForURL(new RegExp(`/orgs/${acmeId}/apps$`))
    await ann.getByText('No apps yet').waitFor()
  }, 120_000)

  it('tells an invitee the role by its label, prefills the name and says they joined', async () => {
    const invited = await server.platform.post(`/v1/orgs/${acmeId}/invitations`, {
      email: 'ivy@acme.test',
      role: 'org_member',
      firstName: 'Ivy',
      lastName: 'Invitee',
    })
    expect(invited.status).toBe(201)
    // Ivy at Ann's page signed out: no one's cookies or stored state, as a fresh browser has.
    const page = ann
    await actAs(page, server, null)
    const link = await linkFromOutboxApi(server, 'ivy@acme.test', '/invitations/')
    await page.goto(link)
    // The model's label, as everywhere else ("Member"), not the key.
    await page.getByText('Member', { exact: true }).waitFor()
    expect(await page.getByText(/org member/i).count()).toBe(0)
    expect(await page.getByLabel('Name').inputValue()).toBe('Ivy Invitee')
    await expectAccessible(page, 'invitation page')
    await page.getByRole('textbox', { name: 'Password' }).fill('another long passphrase')
    await page.getByRole('button', { name: 'Create account and join' }).click()
    await page.getByRole('heading', { name: 'You joined Acme' }).waitFor()
    await page.getByText('You are now a member of Acme as Member.').waitFor()
    await expectAccessible(page, 'joined page')
    await shot(page, '03-joined')

    // Regression (new-user walk): the spent link said only that it is spent. It leads on, as the verification
    // page's does: into the console when signed in, to sign in when not.
    const spent = 'This invitation is invalid, used, revoked or expired.'
    await page.goto(link)
    await page.getByRole('alert').getByText(spent, { exact: true }).waitFor()
    await expectAccessible(page, 'spent invitation, signed in')
    await page.getByRole('link', { name: 'Open the console' }).click()
    await page.waitForURL(/\/orgs\/[0-9a-f-]{36}\//)
    await actAs(page, server, null)
    await page.goto(link)
    await page.getByRole('alert').getByText(spent, { exact: true }).waitFor()
    await page.getByRole('link', { name: 'Sign in' }).click()
    await page.waitForURL(/\/login$/)
  }, 120_000)

  it('transfers the ownership and deletes the organization, naming who loses access', async () => {
    await go(owner, `${server.url}/orgs/${acmeId}/settings/general`)
    await owner.getByRole('button', { name: 'Transfer ownership' }).click()
    await pick(owner, 'New owner', /Ann Member/)
    await dialog(owner)
      .getByText(/becomes the owner, with the Super Admin role/)
      .waitFor()
    await expectAccessible(owner, 'transfer ownership dialog')
    await dialog(owner).getByRole('button', { name: 'Transfer ownership' }).click()
    await owner.getByText(/Acme now belongs to Ann Member/).waitFor()

    // Ann, the new owner (her page back from Ivy), now finds the organization's own fate in her hands.
    await actAs(ann, server, annAccount)
    await go(ann, `${server.url}/orgs/${acmeId}/settings/general`)
    await ann.getByRole('button', { name: 'Transfer ownership' }).waitFor()

    await owner.getByRole('button', { name: 'Delete organization' }).click()
    await dialog(owner).getByText('Lose access: 3 members.').waitFor()
    await expectAccessible(owner, 'delete organization confirmation')
    await shot(owner, '04-delete-org')
    const confirm = dialog(owner).getByRole('button', { name: 'Delete organization' })
    expect(await confirm.isDisabled()).toBe(true)
    await dialog(owner).getByRole('textbox', { name: 'Type Acme to confirm' }).fill('Acme')
    await confirm.click()
    await owner.waitForURL((url) => !url.pathname.includes(acmeId))

    // Regression (new-user walk): a deleted or made-up org's address said to reload, which did nothing; it
    // says so plainly and leads to one's own organizations.
    const gone = 'This organization does not exist, or you are not in it.'
    await go(ann, `${server.url}/orgs/${acmeId}/apps`)
    await ann.getByRole('alert').getByText(gone, { exact: true }).waitFor()
    await go(ann, `${server.url}/orgs/00000000-0000-0000-0000-000000000000/apps`)
    await ann.getByRole('alert').getByText(gone, { exact: true }).waitFor()
    await expectAccessible(ann, 'unknown organization')
    await ann.getByRole('alert').getByRole('button', { name: 'Back to the console' }).click()
    await ann.waitForURL(new RegExp(`/orgs/${annAccount.orgId}/apps$`))
  }, 120_000)
})
