import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AxeResults, ImpactValue, Result } from 'axe-core'
import type { Page } from 'playwright-core'

// Issue 26.6: every screen the Chromium tests visit is checked with axe-core against WCAG 2.0–2.2 A/AA.
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']
const FAILING: ImpactValue[] = ['serious', 'critical']

let source: string | undefined
const axeSource = () => {
  source ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  return source
}

/** Waits for finite animations (Mantine's modal and menu transitions) so contrast is read at rest. */
const settle = (page: Page) =>
  page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Number.POSITIVE_INFINITY))
        .map((a) => a.finished.catch(() => {})),
    ),
  )

/** One line per failing node: rule, where, what it is about, and axe's own reason (e.g. the contrast found). */
export function describeViolations(violations: Result[]): string {
  return violations
    .flatMap((v) =>
      v.nodes.map(
        (n) =>
          `- [${v.impact}] ${v.id} at ${n.target.join(' ')}: ${v.help} (${v.helpUrl})\n    ${
            n.failureSummary?.replaceAll('\n', '\n    ') ?? ''
          }`,
      ),
    )
    .join('\n')
}

/**
 * Runs axe-core on the page as it stands and fails on any serious or critical WCAG 2.x A/AA violation,
 * naming the rule, the element and the help. Cheap (~100–300 ms): call it at every screen a test visits.
 * Injected through the DevTools protocol, so the console's CSP is not loosened for it.
 */
export async function expectAccessible(page: Page, screenName: string): Promise<void> {
  await settle(page)
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource())
  const results = (await page.evaluate(
    (tags) =>
      (window as unknown as { axe: { run(c: Document, o: object): Promise<unknown> } }).axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    TAGS,
  )) as AxeResults
  const failing = results.violations.filter((v) => v.impact && FAILING.includes(v.impact))
  if (failing.length > 0)
    throw new Error(`accessibility: ${screenName} (${page.url()}) has\n${describeViolations(failing)}`)
}
