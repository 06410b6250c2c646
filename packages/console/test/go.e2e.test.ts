import type { Browser, Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../server/test/support/harness.ts'
import { addMember, consoleSession, createOrgApi, go, newPage, person, release } from './e2e-support.ts'

// The walks' `go` (go.ts) moves inside the running console instead of loading it again (issue 25.6). What it
// shows must be what a full load would: these fail if it ever shows a screen's old data, leaves an earlier
// notification up, or keeps a session the server no longer answers.
const session = consoleSession('go')
const { pages } = session
let server: TestServer
let browser: Browser
beforeAll(() => {
  ;({ server, browser } = session)
})

/** How many full loads the page has made from now on; `stop` takes the counter off the page. */
const fullLoads = (page: Page) => {
  let count = 0
  const counted = () => count++
  page.on('load', counted)
  return Object.assign(() => count, { stop: () => page.off('load', counted) })
}

describe('go, the walks’ move between screens (Chromium)', () => {
  it('moves in place to freshly loaded screens, closes notifications, and loads afresh once the session changed', async () => {
    const { page, userId } = await person(server, browser, 'Olivia Owner', 'olivia@go.test')
    pages.push(page)
    const orgId = await createOrgApi(server, userId, 'Acme')
    const loads = fullLoads(page)
    const members = page.getByRole('table', { name: 'Members' })
    await go(page, `${server.url}/orgs/${orgId}/settings/members`)
    await members.getByText('olivia@go.test').waitFor()
    expect(loads()).toBe(1)

    // A member added over the API leaves the session as it was: go moves in place, and the screen it opens
    // (and the one it reopens, at the same address) loads its list again.
    await addMember(server, orgId, 'Bob', 'bob@go.test', ['org_member'])
    await go(page, `${server.url}/orgs/${orgId}/settings/groups`)
    await go(page, `${server.url}/orgs/${orgId}/settings/members`)
    await members.getByText('bob@go.test').waitFor()
    await addMember(server, orgId, 'Cy', 'cy@go.test', ['org_member'])
    await go(page, page.url())
    await members.getByText('cy@go.test').waitFor()
    expect(loads()).toBe(1)

    // The notification of a screen left behind is closed: a later "… created" can't be this one.
    await go(page, `${server.url}/orgs/${orgId}/settings/groups`)
    await page.getByRole('button', { name: 'Add' }).click()
    await page.getByRole('dialog').getByLabel('Name').fill('QA')
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await page.getByText('Group created').first().waitFor()
    await go(page, `${server.url}/orgs/${orgId}/settings/members`)
    expect(await page.getByText('Group created').count()).toBe(0)
    expect(loads()).toBe(1)

    // Renamed over the API: the console's session (its list of orgs) is out of date, so go loads afresh.
    expect((await server.as(userId).patch(`/v1/orgs/${orgId}`, { name: 'Acme Corp' })).status).toBe(200)
    await go(page, `${server.url}/orgs/${orgId}/settings/groups`)
    expect(loads()).toBe(2)
    await expect
      .poll(() => page.getByRole('combobox', { name: 'Organization' }).inputValue())
      .toBe('Acme Corp')
    loads.stop()
  }, 120_000)
})

// The first page a file asks for is the worker's, kept from the last file (newPage): it must reach the next
// file as a new browser would, or one file's person would be signed in, or remembered, in the next.
describe('the worker page, handed from one file to the next (Chromium)', () => {
  it("reaches the next file signed out, with nothing stored and newPage's settings, or not at all", async () => {
    await release(browser) // as the file's end does: its pages closed, the worker's page free again
    const { page } = await person(server, browser, 'Sid Signed-in', 'sid@go.test')
    pages.push(page)
    await go(page, server.url)
    await page.waitForURL(/\/orgs\//)
    const stored = () =>
      page.evaluate(async () => [
        sessionStorage.getItem('left'),
        localStorage.getItem('left'),
        localStorage.getItem('orgkit.org'),
        (await indexedDB.databases()).map((database) => database.name),
      ])
    await page.evaluate(async () => {
      sessionStorage.setItem('left', 'behind')
      localStorage.setItem('left', 'behind')
      await new Promise((done) => {
        indexedDB.open('left').onsuccess = done
      })
    })
    expect(await stored()).toEqual(['behind', 'behind', expect.any(String), ['left']])
    await page.setViewportSize({ width: 390, height: 800 })
    expect(await page.context().cookies()).not.toEqual([])

    await release(browser) // the file ends; the next one's first person gets the same page
    const next = await newPage(browser)
    expect(next).toBe(page)
    expect(await next.context().cookies()).toEqual([])
    expect(next.viewportSize()).toEqual({ width: 1280, height: 860 })
    // The console at the same site, loaded afresh: signed out, and nothing of Sid's remembered.
    await next.goto(server.url)
    await next.waitForURL(/\/login/)
    expect(await stored()).toEqual([null, null, null, []])

    // A listener a file left on the page would hear the next file's events: such a page is closed instead.
    next.on('console', () => {})
    await release(browser)
    expect(next.isClosed()).toBe(true)
    expect(await newPage(browser)).not.toBe(next)
  }, 120_000)
})
