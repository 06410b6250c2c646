import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ImpactValue, Result } from 'axe-core'
import type { CDPSession, Page } from 'playwright-core'

// Issue 26.6: every screen the Chromium tests visit is checked with axe-core against WCAG 2.0–2.2 A/AA.
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']
const FAILING: ImpactValue[] = ['serious', 'critical']

let source: string | undefined
const axeSource = () => {
  source ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  return source
}

/** Per page, a DevTools session of its own: axe-core goes in through it (inject). */
const devtools = new WeakMap<Page, Promise<CDPSession>>()

/**
 * Evaluates axe-core in the page's main world with the DevTools protocol's own Runtime.evaluate rather than
 * `page.evaluate(source)`, whose wrapper hands the 650 kB source to the page as an argument to eval there:
 * ~55 ms less of Chromium's CPU after each full load. Still through the DevTools protocol, so the console's
 * CSP is not loosened for it.
 */
async function inject(page: Page) {
  const session = devtools.get(page) ?? page.context().newCDPSession(page)
  devtools.set(page, session)
  const { exceptionDetails } = await (await session).send('Runtime.evaluate', { expression: axeSource() })
  if (exceptionDetails) throw new Error(`axe-core did not load: ${exceptionDetails.exception?.description}`)
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
  if (!(await page.evaluate(() => 'axe' in window))) await inject(page)
  // Only the violations come back (not the passes and the rest, serialized for nothing), without each node's
  // HTML snippet (the message names a node by its selector). With inject: a check just after a full load
  // 704-722 -> 590-594 ms of Chromium's CPU (members screen, mean of 6-10, load 5).
  const violations = (await page.evaluate(
    (tags) =>
      (window as unknown as { axe: { run(c: Document, o: object): Promise<{ violations: Result[] }> } }).axe
        .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'], noHtml: true })
        .then((results) => results.violations),
    TAGS,
  )) as Result[]
  const failing = violations.filter((v) => v.impact && FAILING.includes(v.impact))
  if (failing.length > 0)
    throw new Error(`accessibility: ${screenName} (${page.url()}) has\n${describeViolations(failing)}`)
}
