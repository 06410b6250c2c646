import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import type { ServerOptions } from '../../server/src/server.ts'
import { client, startTestServer, type TestServer } from '../../server/test/support/harness.ts'

import { expectAccessible } from './a11y.ts'
import { go } from './go.ts'
import { newPage, releasePages } from './worker-page.ts'

export { describeViolations, expectAccessible } from './a11y.ts'
export { go } from './go.ts'
export { newPage, REDUCED_MOTION } from './worker-page.ts'

/** The server each person's page belongs to (`person`), for calls made before the page has loaded anything. */
const homes = new WeakMap<Page, string>()

// Shared by the preset and roles e2e tests: the same browser, build and sign-up steps as console.e2e.test.ts.
/**
 * Debian's chromium-headless-shell when installed (.ci/run installs it): Chromium's old headless mode, the
 * one Playwright itself runs headless, the same version, ~20 % less CPU over the walks than the full browser
 * in its new headless mode (docs/performance.md); else the full `chromium`. ORGKIT_CHROMIUM picks another.
 */
const CHROMIUM =
  process.env.ORGKIT_CHROMIUM ??
  ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((path) => existsSync(path)) ??
  '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // V8 no higher than its baseline compiler (Sparkplug): a walk's pages live seconds, too short for what
  // Maglev and TurboFan spend optimizing the console and axe-core to pay back. Alternated pairs, Chromium's
  // CPU, load 3-5: presets 33.2/29.4 -> 26.0/25.2 s, seed-edges 33.9/27.0 -> 24.2/21.3, console 28.6/25.4 ->
  // 22.4/20.0, the walks no slower. What the pages do is the same; only how V8 compiles it.
  '--js-flags=--max-opt=1',
]

/**
 * The worker's Chromium: started by the first walk a vitest worker runs and kept for the next (isolate is false
 * in vitest.config.ts: this module outlives a file), ~1.5-2 s of CPU a file less than a start each (load ~5).
 * Each file closes only the contexts it opened (release); Playwright kills the browser when the worker exits.
 */
let workerBrowser: Promise<Browser> | undefined

async function startChromium() {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium-headless-shell (see .ci/run)`)
  execFileSync(process.execPath, [new URL('../scripts/build-if-stale.mjs', import.meta.url).pathname], {
    stdio: 'inherit',
  })
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
}

/**
 * The worker's Chromium (started, with the console built when stale, if none is up); screenshots go to
 * test-artifacts/<folder>/. A file ends with `release(browser)`, never `browser.close()`.
 */
export async function launch(folder: string): Promise<{ browser: Browser; artifacts: string }> {
  const running = await workerBrowser?.catch(() => undefined)
  if (!running?.isConnected()) workerBrowser = startChromium()
  const artifacts = new URL(`../../../test-artifacts/${folder}/`, import.meta.url).pathname
  mkdirSync(artifacts, { recursive: true })
  return { browser: await workerBrowser!, artifacts }
}

/**
 * A file's end with the worker's Chromium: the contexts it opened are closed, the browser kept for the next,
 * and the worker's page (newPage) reset for the next file's first person, or closed when it can't be.
 */
export async function release(browser: Browser | undefined) {
  await releasePages(browser, (page) => homes.delete(page))
}

/**
 * Whether the walks photograph every screen they check (`ORGKIT_SCREENSHOTS=1`, as `npm run
 * docs:screenshots` sets): a full-page screenshot costs about as much as the check, and nobody looks at them
 * in `npm test`. A failing test's pages are photographed whatever this says.
 */
const PHOTOGRAPH_EVERY_SCREEN = process.env.ORGKIT_SCREENSHOTS === '1'

/**
 * A screen the test reached: checked with axe-core (issue 26.6: zero serious violations on every screen the
 * walks visit), then photographed into the artifacts folder when screenshots are asked for.
 */
export const screenshot = (artifacts: string) => async (page: Page, name: string) => {
  await expectAccessible(page, name)
  if (PHOTOGRAPH_EVERY_SCREEN) await photograph(artifacts)(page, name)
}

/** A plain screenshot (what a page showed when a test failed: no check, whatever state it is in). */
export const photograph = (artifacts: string) => (page: Page, name: string) =>
  page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true })

/** The link in the newest outbox mail to `to` whose URL contains `part`, read through the console. */
export async function linkFromOutbox(server: TestServer, page: Page, to: string, part: string) {
  await go(page, `${server.url}/outbox`)
  const mail = page.getByRole('article', { name: `Mail to ${to}` }).first()
  await mail.waitFor()
  const href = await mail.locator(`a[href*="${part}"]`).first().getAttribute('href')
  expect(href).toBeTruthy()
  return href!
}

/**
 * A signed-in page for a new person: signed up, verified and signed in over the API (signedIn). The pages
 * doing the same are walked where they are the subject (console.e2e, signUpThroughPages).
 */
export async function signUp(server: TestServer, browser: Browser, name: string, email: string) {
  return (await signedIn(server, browser, name, email)).page
}

/** Signs up through the console, verifies from the local outbox, and returns the signed-in page. */
export async function signUpThroughPages(server: TestServer, browser: Browser, name: string, email: string) {
  const page = await newPage(browser)
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

/** The newest outbox mail's link to `to` containing `part`, read over the API (no page load). */
export async function linkFromOutboxApi(server: TestServer, to: string, part: string) {
  const reply = await server.platform.get('/v1/outbox')
  const mail = (reply.body.items as { to: string; text: string }[]).find(
    (m) => m.to === to && m.text.includes(part),
  )
  const link = mail?.text.match(/https?:\/\/\S+/g)?.find((url) => url.includes(part))
  if (!link) throw new Error(`no mail to ${to} with a link containing ${part}`)
  return link
}

/** The cookies a reply sets (`name=value` before the first `;`), as Playwright takes them for `url`. */
const cookiesOf = (response: Response, url: string) =>
  response.headers.getSetCookie().map((line) => {
    const [pair] = line.split(';')
    const at = pair!.indexOf('=')
    return { name: pair!.slice(0, at), value: pair!.slice(at + 1), url }
  })

/** Someone signed up, verified and signed in over the API: their session's cookies, in no browser yet. */
export interface Someone {
  userId: string
  /** The organization every account gets at sign-up. */
  orgId: string
  cookies: { name: string; value: string; url: string }[]
}

/**
 * Signs someone up, verifies and signs them in over the API: the same calls the sign-up page makes, ~0.2 s
 * instead of ~5 s through the pages.
 */
export async function someone(
  server: TestServer,
  name: string,
  email: string,
  password = 'correct horse battery staple',
): Promise<Someone> {
  const signup = await client(server.url, '').post('/v1/auth/signup', { email, password, name })
  expect(signup.status, JSON.stringify(signup.body)).toBe(200)
  const token = new URL(await linkFromOutboxApi(server, email, '/verify?token=')).searchParams.get('token')
  const verified = await fetch(`${server.url}/v1/auth/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  })
  expect(verified.status).toBe(200)
  const { userId } = (await verified.json()) as { userId: string }
  const orgs = (await server.as(userId).get('/v1/orgs')).body.items as { id: string }[]
  return { userId, orgId: orgs[0]?.id as string, cookies: cookiesOf(verified, server.url) }
}

/**
 * Hands the page to `who` (signed out: no one), as if they had sat down at it in a fresh browser: the cookies
 * and the console's stored state of whoever used it go, `who`'s session comes in, and the next `go` loads the
 * console afresh as them (it sees the session changed). For people who act one after another: a new browser
 * context is a cold renderer that compiles the console and axe-core again, ~2 s of Chromium's CPU a person
 * more than this page's warm one (6 people each way, load ~10). Not where two sessions must be live at once.
 */
export async function actAs(page: Page, server: TestServer, who: Pick<Someone, 'cookies'> | null) {
  if (page.url().startsWith('http')) await page.evaluate(() => localStorage.clear())
  await page.context().clearCookies()
  if (who) await page.context().addCookies(who.cookies)
  homes.set(page, server.url)
}

/**
 * A person signed up, verified and signed in over the API (`someone`), and a browser page of their own
 * carrying their session that has loaded nothing yet: the test's first `go` opens the screen it is about, once
 * any set-up over the API is done (a console loaded before it would have to load again to see that set-up).
 */
export async function person(
  server: TestServer,
  browser: Browser,
  name: string,
  email: string,
  password = 'correct horse battery staple',
) {
  const who = await someone(server, name, email, password)
  const page = await newPage(browser)
  await actAs(page, server, who)
  return { page, userId: who.userId, orgId: who.orgId }
}

/**
 * An existing account signed in over the API (POST /v1/auth/login, as the sign-in page does; that page is
 * walked where it is the subject): its session's cookies, for `actAs` to hand a page to it.
 */
export async function signInApi(server: TestServer, email: string, password: string) {
  const login = await fetch(`${server.url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  expect(login.status).toBe(200)
  return { cookies: cookiesOf(login, server.url) }
}

/**
 * A person signed in over the API (`person`) whose page has opened the console's home: for tests whose
 * subject is not the sign-up (console.e2e walks that one through the UI). Lands in their organization.
 */
export async function signedIn(
  server: TestServer,
  browser: Browser,
  name: string,
  email: string,
  password = 'correct horse battery staple',
) {
  const { page, userId } = await person(server, browser, name, email, password)
  await go(page, server.url)
  await page.waitForURL(/\/orgs\//)
  return { page, userId }
}

/** Creates an organization as `userId` over the API (the form is console.e2e's subject) and returns its id. */
export async function createOrgApi(server: TestServer, userId: string, name: string, parentId?: string) {
  const reply = await server.as(userId).post('/v1/orgs', { name, ...(parentId && { parentId }) })
  expect(reply.status, JSON.stringify(reply.body)).toBe(201)
  return reply.body.id as string
}

/**
 * Creates an organization (a sub-organization of the one named `parent`) as the page's person over the API
 * (the form is console.e2e's subject), opens its members screen as the form would, and returns its id.
 */
export async function createOrg(server: TestServer, page: Page, name: string, parent?: RegExp) {
  homes.set(page, server.url)
  let parentId: string | undefined
  if (parent) {
    const listed = await fetchAs(page, 'GET', '/v1/orgs')
    parentId = (listed.body.items as { id: string; name: string }[]).find((o) => parent.test(o.name))?.id
    expect(parentId, `an org named ${parent}`).toBeTruthy()
  }
  const created = await fetchAs(page, 'POST', '/v1/orgs', { name, ...(parentId && { parentId }) })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const orgId = created.body.id as string
  await go(page, `${server.url}/orgs/${orgId}/settings/members`)
  // The members table, named in the model's words (Members, Accounts…).
  await page.getByRole('table').first().waitFor()
  return orgId
}

/** Creates an organization through the form (a sub-organization with `parent`) and returns its id. */
export async function createOrgThroughPages(server: TestServer, page: Page, name: string, parent?: RegExp) {
  await go(page, `${server.url}/orgs/new`)
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
  await go(page, `${server.url}/orgs/${orgId}/explain`)
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
 * The worker's Chromium and one console-serving server (capgo, PGlite, local outbox) for a test file, made
 * ready before its tests and released / stopped after them; every page pushed to `pages` is photographed when a test fails.
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
  let failed: (page: Page, name: string) => Promise<unknown>
  beforeAll(async () => {
    const launched = await launch(folder)
    session.browser = launched.browser
    take = screenshot(launched.artifacts)
    failed = photograph(launched.artifacts)
    session.server = await startTestServer('pglite', {
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
      ...(serverOptions && { server: serverOptions() }),
    })
  }, 180_000)
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail')
      for (const [i, page] of session.pages.entries()) await failed(page, `failure-${i}`).catch(() => {})
  })
  afterAll(async () => {
    await release(session.browser)
    await session.server?.stop()
  })
  return session
}

/**
 * A call with the page's own session (its cookies, and the console's CSRF double submit), for setting up a
 * fixture. Made from the page's browser context, so it needs no screen loaded (and leaves the one shown as
 * it is).
 */
export async function fetchAs(page: Page, method: string, path: string, body?: unknown) {
  const origin = page.url().startsWith('http') ? new URL(page.url()).origin : homes.get(page)
  if (!origin) throw new Error(`fetchAs ${path}: the page belongs to no server yet`)
  const csrf = (await page.context().cookies(origin)).find((c) => c.name === 'orgkit_csrf')?.value ?? ''
  const reply = await page.context().request.fetch(`${origin}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-orgkit-csrf': csrf },
    ...(body !== undefined && { data: JSON.stringify(body) }),
  })
  // biome-ignore lint/suspicious/noExplicitAny: a fixture's reply, read as the test needs it
  return { status: reply.status(), body: (await reply.json()) as any }
}
