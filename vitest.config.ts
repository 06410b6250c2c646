import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// The repository runs its packages' TypeScript sources: their exports name them under the "@orgkit/source"
// condition (docs/packages.md), beside the dist/ an installer gets.
const SOURCE = '@orgkit/source'

export default defineConfig({
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // API suites drive a real server over a real database (PGlite runs PostgreSQL in WebAssembly).
    testTimeout: 60_000,
    // Vitest's default is one worker on a 2-core machine (cores - 1); most suites wait on a database,
    // a browser or a child server rather than compute, so two files at a time keep `npm test` near half
    // its sequential time here (805 s of tests one at a time).
    maxWorkers: 2,
    // A worker keeps its modules from one file to the next: the server's module graph is loaded once per
    // worker, not once per file (measured on 11 server files: 75 s of CPU instead of 131 s, imports 50 s
    // instead of 303 s). No test file mocks a module or changes process-wide state it doesn't restore.
    isolate: false,
    hookTimeout: 60_000,
    // expect.poll waits like a browser locator does (20 s), not vitest's 1 s: a screen that loads in 1.4 s
    // quiet takes longer when both cores are busy.
    expect: { poll: { timeout: 20_000 } },
    // The default reporter plus one that prints the plain "N passed, N failed" line CI reads.
    reporters: ['default', './tools/summary-reporter.ts'],
    // The browser tests serve the built console: build it once, before any of them starts. The embedded
    // databases start from a migrated template: made once here too (tools/pglite-template.ts).
    globalSetup: [
      './tools/build-console.ts',
      './tools/pglite-template.ts',
      './tools/postgres-test-database.ts',
    ],
  },
})
