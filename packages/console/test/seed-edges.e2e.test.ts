import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import { CONSOLE_DIST, launch, screenshot, signUp } from './e2e-support.ts'

// Issue 19.8 in the console (capgo preset, headless Chromium): every account has an organization from
// sign-up, and the "Select a role" picker offers only the roles the signed-in person may give.
let server: TestServer
let browser: Browser
let shot: (page: Page, name: string) => Promise<unknown>
const pages: Page[] = []

beforeAll(async () => {
  const launched = await launch('seed-edges')
  browser = launched.browser
  shot = screenshot(launched.artifacts)
  server = await startTestServer('pglite', { localOutbox: true, consoleDir: CONSOLE_DIST })
}, 180_000)

afterEach(async (context) => {
  if (context.task.result?.state === 'fail')
    for (const [i, page] of pages.entries()) await shot(page, `failure-${i}`).catch(() => {})
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

const roleOptions = async (page: Page) => {
  const dialog = page.getByRole('dialog', { name: 'Select a role' })
  await dialog.waitFor()
  return dialog
    .getByRole('radio')
    .evaluateAll((radios) =>
      radios.map((r) => r.closest('.mantine-Radio-root')?.querySelector('label')?.textContent ?? ''),
    )
}

describe('seed 001 edges (Chromium, capgo preset)', () => {
  it('a new account lands in its own organization; an Admin is offered Admin and Member only', async () => {
    const alice = await signUp(server, browser, 'Alice', 'alice@example.com')
    pages.push(alice)
    const org = /\/orgs\/([0-9a-f-]{36})/.exec(alice.url())![1]!
    const adam = await signUp(server, browser, 'Adam', 'adam@example.com')
    pages.push(adam)
    const id = (await adam.evaluate(async () => (await (await fetch('/v1/me')).json()) as { id: string })).id
    expect(
      (await server.platform.post(`/v1/orgs/${org}/members`, { userId: id, roles: ['org_admin'] })).status,
    ).toBe(201)

    await alice.goto(`${server.url}/orgs/${org}/settings/members`)
    await alice.getByRole('button', { name: 'Add' }).click()
    const offeredToAlice = await roleOptions(alice)
    expect(offeredToAlice).toEqual(
      expect.arrayContaining(['Super Admin', 'Admin', 'Billing Manager', 'Member']),
    )
    await shot(alice, '01-super-admin-picker')

    await adam.goto(`${server.url}/orgs/${org}/settings/members`)
    await adam.getByRole('button', { name: 'Add' }).click()
    const offered = await roleOptions(adam)
    await shot(adam, '02-admin-picker')
    expect(offered.sort()).toEqual(['Admin', 'Member'])
  }, 120_000)
})
