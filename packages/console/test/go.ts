import type { Page } from 'playwright-core'

// Issue 25.6: a `page.goto` boots the whole console again (HTML, JS chunks, the session's /v1/me, /v1/model
// and /v1/orgs, then the screen's own loads): ~1.4 s on a quiet machine. `go` moves inside the running
// console instead, by its router, when that shows the screen as a full load would.

/** What the console read at its boot and keeps until the next full load (session.tsx): me, model, orgs. */
const SESSION = ['/v1/me', '/v1/model', '/v1/orgs']

/** How long a dialog just closed may take to leave the page (ms): renders, no transition (REDUCED_MOTION). */
const DIALOG_GRACE = 250

/** Per page: what the session answered just before the page's last full load. */
const booted = new WeakMap<Page, string>()

/** The session's answers now, read with the page's cookies (the context's request shares its cookie jar). */
const sessionNow = async (page: Page, origin: string) => {
  const answers = await Promise.all(
    SESSION.map(async (path) => {
      const reply = await page.context().request.get(`${origin}${path}`)
      return `${reply.status()} ${await reply.text()}`
    }),
  )
  return answers.join('\n')
}

/**
 * Opens `url` in the page as a full load would show it, by the console's router when it can:
 * - only from a signed-in screen of the console at the same origin (the shell is up), with no dialog left open;
 * - only while the session the console holds (me, model, orgs: read once at boot) is still what the
 *   server answers, else it loads the page afresh;
 * - through the sign-in screen, so the shell and the screen unmount and every screen-level load (its
 *   permissions, its lists, the suggested orgs) runs again on arrival, and with the notifications of the
 *   screen left closed, so a later "… saved" cannot be an earlier one.
 * Keep `page.goto` where the full load is the subject: deep links, sign-in redirects, mail links.
 */
export async function go(page: Page, url: string): Promise<void> {
  const target = new URL(url, page.url())
  const here = page.url().startsWith('http') ? new URL(page.url()) : undefined
  // Read once, for either way: compared with what the console booted with, or kept for the full load.
  let session = await sessionNow(page, target.origin)
  // A changed session loads afresh at once, before any wait for a dialog.
  let inApp = here?.origin === target.origin && booted.get(page) === session
  if (inApp) {
    const shown = await page.evaluate(async (grace) => {
      // A dialog just closed is given a moment to go; one left open means a full load. The walks ask for
      // reduced motion (REDUCED_MOTION), so a closing dialog has no transition to wait out: the moment is a
      // render or two, not the second a dialog left open used to cost.
      const hadDialog = !!document.querySelector('[role="dialog"]')
      for (let waited = 0; document.querySelector('[role="dialog"]') && waited < grace; waited += 16)
        await new Promise((resolve) => setTimeout(resolve, 16))
      const ready =
        !!document.querySelector('.mantine-AppShell-root') && !document.querySelector('[role="dialog"]')
      return { ready, hadDialog }
    }, DIALOG_GRACE)
    // What the dialog did (a confirm closes before its call returns) may have changed the session: read again.
    if (shown.hadDialog) session = await sessionNow(page, target.origin)
    inApp = shown.ready && booted.get(page) === session
  }
  if (!inApp) {
    await page.goto(target.href)
    booted.set(page, session)
    return
  }
  await page.evaluate(async (to) => {
    const move = (path: string, replace: boolean) => {
      if (replace) window.history.replaceState(null, '', path)
      else window.history.pushState(null, '', path)
      window.dispatchEvent(new PopStateEvent('popstate'))
    }
    const until = async (done: () => boolean, what: string) => {
      const start = performance.now()
      while (!done()) {
        if (performance.now() - start > 10_000) throw new Error(`go: ${what} after 10 s`)
        await new Promise((resolve) => setTimeout(resolve, 16))
      }
    }
    document.querySelectorAll<HTMLElement>('.mantine-Notification-closeButton').forEach((close) => {
      close.click()
    })
    await until(() => !document.querySelector('.mantine-Notification-root'), 'notifications still open')
    move('/login', false)
    await until(() => !document.querySelector('.mantine-AppShell-root'), 'the shell still up')
    move(to, true)
  }, target.pathname + target.search)
}
