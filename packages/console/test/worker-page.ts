import type { EventEmitter } from 'node:events'
import type { Browser, Page } from 'playwright-core'

// The walks' pages (e2e-support.ts re-exports newPage and REDUCED_MOTION): a vitest worker keeps one page from
// one file to the next, reset in full between them.

/**
 * The walks' browser contexts ask for reduced motion, which the console's theme respects: modals, menus,
 * dropdowns and notifications open and close at once, and no click waits for an element to stop moving or
 * for an overlay on its way out.
 */
export const REDUCED_MOTION = { reducedMotion: 'reduce' } as const

const VIEWPORT = { width: 1280, height: 860 }
const DEFAULT_TIMEOUT = 20_000

/** What a page must hear no more of to be handed to the next file (the events a test might listen for). */
const PAGE_EVENTS = [
  'close',
  'console',
  'crash',
  'dialog',
  'domcontentloaded',
  'download',
  'filechooser',
  'frameattached',
  'framedetached',
  'framenavigated',
  'load',
  'pageerror',
  'popup',
  'request',
  'requestfailed',
  'requestfinished',
  'response',
  'websocket',
  'worker',
] as const

/**
 * The worker's page: the first page a file asks newPage for, in a context of its own kept from one file to
 * the next (isolate is false: this module outlives a file). A new context is a cold renderer that starts and
 * compiles the console and axe-core again: a person's first screen (console home and an axe check) cost
 * 0.99-1.21 s of Chromium's CPU in a new context against 0.36-0.70 s in this one reset, its last screen
 * served from another test server (6 alternated visits each, load ~9). `release` makes it as a fresh browser
 * would be for the next file (resetForNextFile); a page it can't reset is closed and the next file's first
 * page is a new one. `origins` are the sites it has shown.
 */
let workerPage:
  | { browser: Browser; page: Page; taken: boolean; origins: Set<string>; listening: number[] }
  | undefined

/** How many listeners the page has for each of PAGE_EVENTS (its type omits the EventEmitter's count). */
const listenersOn = (page: Page) =>
  PAGE_EVENTS.map((event) => (page as unknown as EventEmitter).listenerCount(event))

/**
 * The worker's page made ready for another file, as if a new person sat down at a new browser: no page of
 * the file's left open in it, the console it showed left (its script, dialogs and timers gone with it), no
 * cookie, no storage of any site it showed (local and session storage, IndexedDB, caches, service workers),
 * no permission, the viewport and timeout newPage gives, nothing `forget` clears (the server fetchAs remembers). Throws when it
 * can't, or when a listener the file added is still on the page (its test would hear the next file's events).
 */
async function resetForNextFile(kept: NonNullable<typeof workerPage>, forget: (page: Page) => void) {
  const { page } = kept
  const context = page.context()
  if (page.isClosed()) throw new Error('the worker page was closed')
  if (listenersOn(page).some((count, i) => count !== kept.listening[i]))
    throw new Error('a listener added to the worker page is still on it')
  await Promise.all(
    context
      .pages()
      .filter((other) => other !== page)
      .map((other) => other.close()),
  )
  // Session storage is the tab's, which outlives a navigation: emptied here, at the site the page is on.
  if (page.url().startsWith('http'))
    await page.evaluate(() => {
      sessionStorage.clear()
      localStorage.clear()
    })
  await page.goto('about:blank')
  const devtools = await context.newCDPSession(page)
  for (const origin of kept.origins)
    await devtools.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' })
  await devtools.detach()
  kept.origins.clear()
  await context.clearCookies()
  await context.clearPermissions()
  await page.setViewportSize(VIEWPORT)
  page.setDefaultTimeout(DEFAULT_TIMEOUT)
  forget(page)
}

/**
 * A page that has loaded nothing yet, in a browser context of its own: the file's first is the worker's page
 * (reset by the last file's `release`: see workerPage), any other a new context's.
 */
export async function newPage(browser: Browser) {
  const kept = workerPage
  if (kept?.browser === browser && !kept.taken && !kept.page.isClosed()) {
    kept.taken = true
    return kept.page
  }
  const page = await (await browser.newContext({ viewport: VIEWPORT, ...REDUCED_MOTION })).newPage()
  page.setDefaultTimeout(DEFAULT_TIMEOUT)
  if (!kept || kept.browser !== browser || kept.page.isClosed()) {
    const origins = new Set<string>()
    page.on('framenavigated', (frame) => {
      if (frame.url().startsWith('http')) origins.add(new URL(frame.url()).origin)
    })
    workerPage = { browser, page, taken: true, origins, listening: listenersOn(page) }
  }
  return page
}

/**
 * A file's end with the worker's Chromium (e2e-support's `release`): the contexts it opened are closed, and
 * the worker's page reset for the next file's first person, or closed when it can't be; `forget` drops what
 * the caller keeps of the page.
 */
export async function releasePages(browser: Browser | undefined, forget: (page: Page) => void) {
  const kept = workerPage?.browser === browser ? workerPage : undefined
  const others = browser?.contexts().filter((context) => context !== kept?.page.context()) ?? []
  await Promise.all(others.map((context) => context.close()))
  if (!kept) return
  try {
    await resetForNextFile(kept, forget)
    kept.taken = false
  } catch {
    workerPage = undefined
    await kept.page
      .context()
      .close()
      .catch(() => {})
  }
}
