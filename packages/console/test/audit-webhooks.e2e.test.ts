import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../server/test/support/harness.ts'
import { addMember, consoleSession, createOrgApi, expectAccessible, go, person, pick } from './e2e-support.ts'

// Issue 26.2 and 26.3 in headless Chromium, as an org owner: the audit log read by names with a before/after
// table, filtered by actor, action, target and time, and its chain verified; then a webhook endpoint added
// (the loopback refusal explained under the URL), tested, redelivered and its secret rotated.
const session = consoleSession('audit-webhooks')
const { pages } = session
let server: TestServer
let receiver: Server
let receiverUrl = ''
const received: string[] = []
beforeAll(async () => {
  server = session.server
  receiver = createServer((req, res) => {
    received.push(String(req.headers['webhook-id']))
    res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks from the receiver')
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`
})
afterAll(() => new Promise<void>((resolve) => receiver?.close(() => resolve())))

let page: Page

/** The delivery log as the worker gets to it: Refresh until `target` shows (the worker runs beside the page). */
async function refreshUntil(target: Locator) {
  for (let i = 0; i < 10; i++) {
    await server.ctx.webhooks.runOnce()
    await page.getByRole('button', { name: 'Refresh' }).click()
    if (
      await target.waitFor({ timeout: 1000 }).then(
        () => true,
        () => false,
      )
    )
      return
  }
  await target.waitFor()
}
let orgId = ''
let appId = ''

describe('audit log and webhooks (Chromium, capgo preset)', () => {
  it('reads the audit log by names, with what changed, filters it and verifies the chain', async () => {
    const owner = await person(server, session.browser, 'Olivia Owner', 'olivia@audit.test')
    page = owner.page
    pages.push(page)
    orgId = await createOrgApi(server, owner.userId, 'Acme')
    const as = server.as(owner.userId)
    appId = (await as.post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Shop' })).body.id
    expect((await as.patch(`/v1/orgs/${orgId}/resources/${appId}`, { name: 'Storefront' })).status).toBe(200)
    await addMember(server, orgId, 'Bob Builder', 'bob@audit.test', ['org_member'])

    await go(page, `${server.url}/orgs/${orgId}/settings/audit-logs`)
    const log = page.getByRole('table', { name: 'Audit log' })
    await log
      .getByRole('button', { name: /^Bob Builder \(person / })
      .first()
      .waitFor()
    // Names, with the id on hover/focus, never `user:7bc0ab6d`.
    await expect(log.textContent()).resolves.not.toMatch(/\b(user|app):[0-9a-f]{8}/)
    const ownerRef = log.getByRole('button', {
      name: `Olivia Owner (person ${owner.userId}): show only the entries about it`,
    })
    await ownerRef.first().hover()
    await page
      .getByRole('tooltip')
      .filter({ hasText: `Person ${owner.userId}` })
      .waitFor()

    await pick(page, 'Action', /^resource\.updated/)
    const row = log.getByRole('row').filter({ hasText: 'resource.updated' })
    await row.getByRole('button', { name: /^Storefront/ }).waitFor()
    await log.getByRole('row').filter({ hasText: 'member.added' }).first().waitFor({ state: 'detached' })
    await row.getByRole('button', { name: /^Changes of entry/ }).click()
    const changes = page.getByRole('table', { name: /^Changes of entry/ })
    await changes.getByRole('row', { name: /name Shop Storefront/ }).waitFor()

    // Actor and target filters too: the owner's renames of the app, then none after a time to come.
    await pick(page, 'Actor', /^Olivia Owner/)
    await log
      .getByRole('button', { name: /^Storefront/ })
      .first()
      .click()
    await page.getByText('Target: Storefront (app)').waitFor()
    await expect.poll(() => log.getByRole('button', { name: /^Changes of entry/ }).count()).toBe(1)
    await page.getByLabel('From').fill('2999-01-01T00:00')
    await page.getByText('No entry matches these filters').waitFor()

    await page.getByRole('button', { name: 'Verify chain' }).click()
    const verdict = page.getByRole('status').filter({ hasText: 'Chain intact' })
    await verdict.getByText(/^All \d+ entries are unchanged/).waitFor()
    await verdict.getByText(/^Head: entry #\d+/).waitFor()
    await page.mouse.move(0, 0) // the screen at rest: not the clicked button in its hover colour
    await expectAccessible(page, 'audit log')
  })

  it('adds an endpoint (loopback refused in place), tests, redelivers and rotates its secret', async () => {
    await go(page, `${server.url}/orgs/${orgId}/settings/webhooks`)
    await page.getByText('No webhook endpoints yet').waitFor()
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    const dialog = page.getByRole('dialog', { name: 'Add endpoint' })
    await dialog.getByLabel('Endpoint URL').fill(receiverUrl)
    await dialog.getByLabel('Description').fill('Deploy bot')
    await dialog.getByRole('switch', { name: 'Send every event' }).click()
    await dialog.getByLabel('Events', { exact: true }).click()
    await page.getByRole('option', { name: /^group\.\*/ }).click()
    await page.getByRole('option', { name: /^member\.added/ }).click()
    await dialog.getByLabel('Events', { exact: true }).press('Escape')

    // This server refuses private receivers (the production default): said under the URL, in words.
    server.ctx.settings.webhooksAllowPrivate = false
    await dialog.getByRole('button', { name: 'Add endpoint' }).click()
    await dialog.getByText(/This address is on a private network .* ask whoever runs this server/).waitFor()
    await expect(dialog.textContent()).resolves.not.toContain('ORGKIT_')
    await expectAccessible(page, 'add endpoint refused')
    server.ctx.settings.webhooksAllowPrivate = true
    await dialog.getByRole('button', { name: 'Add endpoint' }).click()

    // The endpoint's screen: its secret once, with a copy button, its description and events.
    const first = await page
      .getByRole('alert')
      .filter({ hasText: 'shown once' })
      .locator('code')
      .textContent()
    expect(first).toMatch(/^whsec_/)
    await page.getByRole('button', { name: 'Copy signing secret' }).waitFor()
    await page.getByRole('heading', { name: receiverUrl }).waitFor()
    await page.getByText('Deploy bot').waitFor()
    await page.getByRole('list', { name: 'Subscribed events' }).getByText('group.*').waitFor()
    await page.getByRole('button', { name: 'I have copied the secret' }).click()

    await page.getByRole('button', { name: 'Send test event' }).click()
    const ping = page
      .getByRole('table', { name: 'Deliveries' })
      .getByRole('row')
      .filter({ hasText: 'webhook.test' })
    await refreshUntil(ping.getByText('Delivered'))
    await ping.getByText('HTTP 200').waitFor()
    await ping.getByText('thanks from the receiver').waitFor()
    await ping.getByRole('button', { name: /^Redeliver webhook\.test/ }).click()
    await refreshUntil(ping.getByRole('cell', { name: '2', exact: true }))
    expect(received).toHaveLength(2)
    expect(received[0]).toBe(received[1])

    await page.getByRole('button', { name: 'Rotate secret' }).click()
    await page.getByRole('dialog', { name: 'Rotate the signing secret' }).getByText('24 hours').waitFor()
    await page.getByRole('button', { name: 'Rotate', exact: true }).click()
    const rotated = page.getByRole('alert').filter({ hasText: 'The previous secret also signs until' })
    const second = await rotated.locator('code').textContent()
    expect(second).toMatch(/^whsec_/)
    expect(second).not.toBe(first)
    await expectAccessible(page, 'webhook endpoint')

    await page.getByRole('link', { name: 'All endpoints' }).click()
    const list = page.getByRole('table', { name: 'Webhooks' })
    await list.getByText('Deploy bot').waitFor()
    await list.getByText('group.*, member.added').waitFor()
    await expectAccessible(page, 'webhooks')
  })
})
