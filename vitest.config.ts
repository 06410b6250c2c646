import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // The default reporter plus one that prints the plain "N passed, N failed" line CI reads.
    reporters: ['default', './tools/summary-reporter.ts'],
  },
})
