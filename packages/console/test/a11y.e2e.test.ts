import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccessible, launch, newPage, release } from './e2e-support.ts'

// The walks' accessibility check (a11y.ts, issue 26.6) must be able to fail: a page with serious and critical
// WCAG violations is refused, naming each rule and node, and the same page once mended passes.
let browser: Browser
beforeAll(async () => {
  ;({ browser } = await launch('a11y'))
}, 180_000)
afterAll(() => release(browser))

describe('expectAccessible (Chromium)', () => {
  it('refuses serious and critical violations, naming rule and node, and passes the page once mended', async () => {
    const page = await newPage(browser)
    await page.setContent(`<html lang="en"><head><title>Check</title></head><body><main>
      <h1>Check</h1>
      <p id="faint" style="color:#bbb;background:#fff">Hard to read</p>
      <button id="nameless"><svg width="10" height="10"></svg></button>
    </main></body></html>`)
    const refused = await expectAccessible(page, 'broken').then(
      () => '',
      (error: Error) => error.message,
    )
    expect(refused).toContain('accessibility: broken')
    expect(refused).toMatch(/\[serious\] color-contrast at #faint/)
    expect(refused).toMatch(/\[critical\] button-name at #nameless/)

    await page.evaluate(() => {
      document.querySelector('#faint')?.setAttribute('style', 'color:#333;background:#fff')
      document.querySelector('#nameless')?.setAttribute('aria-label', 'Close')
    })
    await expectAccessible(page, 'mended')
  })
})
