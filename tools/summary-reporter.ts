import type { Reporter, TestModule } from 'vitest/node'

/**
 * Prints the plain closing line CI reads: "Tests: N passed, N failed[, N skipped]".
 * Vitest's own summary is formatted for people; this one is for machines. A file that fails to load
 * (no test ran in it) and an unhandled error both count as failures, so a broken suite can't look green.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = unhandledErrors.length
    let skipped = 0
    for (const module of modules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failed++
        else skipped++
      }
    }
    process.stdout.write(
      `\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    )
  }
}
