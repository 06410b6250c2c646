import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import type { ServerOptions } from '../../server/src/server.ts'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'

// Shared by the preset and roles e2e tests: the same browser, build and sign-up steps as console.e2e.test.ts.
const CHROMIUM = process.env.ORGKIT_CHROMIUM ?? '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Builds the console when stale and starts Chromium; screenshots go to test-artifacts/<folder>/. */
export async function launch(folder: string): Promise<{ browser: Browser; artifacts: string }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`)
  execFileSync(process.execPath, [new URL('../scripts/build-if-stale.mjs', import.meta.url).pathname], {
    stdio: 'inherit',
  })
  const artifacts = new URL(`../../../test-artifacts/${folder}/`, import.meta.url).pathname
  mkdirSync(artifacts, { recursive: true })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
  return { browser, artifacts }
}

export const screenshot = (artifacts: string) => (page: Page, name: string) =>
  page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true })

/** The link in the newest outbox mail to `to` whose URL contains `part`, read through the console. */
export async function linkFromOutbox(server: TestServer, page: Page, to: string, part: string) {
  await page.goto(`${server.url}/outbox`)
  const mail = page.getByRole('article', { name: `Mail to ${to}` }).first()
  await mail.waitFor()
  const href = await mail.locator(`a[href*="${part}"]`).first().getAttribute('href')
  expect(href).toBeTruthy()
  return href!
}

/** Signs up through the console, verifies from the local outbox, and returns the signed-in page. */
export async function signUp(server: TestServer, browser: Browser, name: string, email: string) {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage()
  page.setDefaultTimeout(20_000)
  await page.goto(`${server.url}/signup`)
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Email').fill(email)
  await page.getByRole('textbox', { name: 'Password' }).fill('correct horse battery staple')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByText('Check your email').waitFor()
  await page.goto(await linkFromOutbox(server, page, email, '/verify?token='))
  await page.getByRole('button', { name: 'Open the console' }).click()
  await page.waitForURL(/\/orgs\//)
  return page
}

/** Creates an organization (a sub-organization with `parent`) and returns its id. */
export async function createOrg(server: TestServer, page: Page, name: string, parent?: RegExp) {
  await page.goto(`${server.url}/orgs/new`)
  await page.getByLabel('Organization name').fill(name)
  if (parent) await pick(page, 'Parent organization', parent)
  await page.getByRole('button', { name: 'Create', exact: true }).click()
  await page.waitForURL(/\/orgs\/[0-9a-f-]{36}\/settings\/members/)
  return /\/orgs\/([0-9a-f-]{36})\//.exec(page.url())![1]!
}

export async function pick(page: Page, label: string, option: string | RegExp) {
  await page.getByRole('combobox', { name: label }).click()
  await page.getByRole('option', { name: option }).first().click()
}

/** The explain view's answer for a member, a permission and (for a resource permission) a resource. */
export async function explain(
  server: TestServer,
  page: Page,
  orgId: string,
  what: { person: RegExp; permission: string; resourceLabel?: string; resource?: RegExp },
) {
  await page.goto(`${server.url}/orgs/${orgId}/explain`)
  await pick(page, 'Person', what.person)
  await pick(page, 'Permission', new RegExp(`^${what.permission.replace('.', '\\.')} `))
  if (what.resourceLabel && what.resource) await pick(page, what.resourceLabel, what.resource)
  await page.getByRole('button', { name: 'Explain' }).click()
  const result = page.getByTestId('explain-result')
  await result.waitFor()
  return result
}

/** Provisions a user with this email (no password: they never sign in here) and returns the id. */
export async function provision(server: TestServer, name: string, email: string) {
  const reply = await server.platform.post('/v1/users', { email, name })
  expect(reply.status).toBe(201)
  return reply.body.id as string
}

/** Adds a provisioned user to an org through the API (the invitation flow is console.e2e's subject). */
export async function addMember(
  server: TestServer,
  orgId: string,
  name: string,
  email: string,
  roles: string[],
) {
  const userId = await provision(server, name, email)
  const reply = await server.platform.post(`/v1/orgs/${orgId}/members`, { userId, roles })
  expect(reply.status).toBe(201)
  return userId
}

/** The built console the test servers serve (they are API-only unless a test asks). */
export const CONSOLE_DIST = new URL('../dist', import.meta.url).pathname

/**
 * One Chromium and one console-serving server (capgo, PGlite, local outbox) for a test file, made before
 * its tests and closed after them; every page pushed to `pages` is photographed when a test fails.
 * `serverOptions` (read when the server starts) adds server options, e.g. a DNS resolver started before.
 */
export function consoleSession(folder: string, serverOptions?: () => Partial<ServerOptions>) {
  const session = {
    server: undefined as unknown as TestServer,
    browser: undefined as unknown as Browser,
    pages: [] as Page[],
    /** A screenshot into test-artifacts/<folder>/ (once the browser is up). */
    shot: (page: Page, name: string): Promise<unknown> => take(page, name),
  }
  let take: (page: Page, name: string) => Promise<unknown>
  beforeAll(async () => {
    const launched = await launch(folder)
    session.browser = launched.browser
    take = screenshot(launched.artifacts)
    session.server = await startTestServer('pglite', {
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
      ...(serverOptions && { server: serverOptions() }),
    })
  }, 180_000)
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail')
      for (const [i, page] of session.pages.entries()) await take(page, `failure-${i}`).catch(() => {})
  })
  afterAll(async () => {
    await session.browser?.close()
    await session.server?.stop()
  })
  return session
}

/** A call from the page's own session (the console's CSRF double submit), for setting up a fixture. */
export const fetchAs = (page: Page, method: string, path: string, body?: unknown) =>
  page.evaluate(
    async ([method, path, body]) => {
      const reply = await fetch(path as string, {
        method: method as string,
        headers: {
          'content-type': 'application/json',
          'x-orgkit-csrf': /orgkit_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '',
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
      return { status: reply.status, body: await reply.json() }
    },
    [method, path, body] as const,
  )
