import { appendFileSync } from 'node:fs'
import { type Model, presets } from '@orgkit/core'
import fc from 'fast-check'
import { it } from 'vitest'
import { type Action, actionArbitrary } from './support/drift-actions.ts'
import { perform } from './support/drift-perform.ts'
import { DriftWorld, rowIds } from './support/drift-world.ts'
import { engineDisagreements, formatDisagreements, freshEngine } from './support/engine-diff.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Issue 18's drift test: after any sequence of API writes — granted or refused — the engine a server runs
 * equals one freshly loaded from its database (what a restart would load). A write that forgets to emit an
 * engine change, or emits one the database doesn't hold, shows up as a check, `listResources` or
 * `listPrincipals` answered differently by the two (support/engine-diff.ts asks both every question over
 * the run's subjects and targets). Each run is a random list of writes by random callers (platform, users,
 * API keys; support/drift-actions.ts) on the presets with apps and channels (capgo), sub-orgs and personal
 * orgs (modules), and teams (teams), on PGlite and, with ORGKIT_TEST_DATABASE_URL, on PostgreSQL. Along the
 * way every write is held to three more rules (support/drift-world.ts): no 5xx, a refused write records no
 * change, and a write answers only once the engine has applied it.
 *
 * Seeded: ORGKIT_DRIFT_SEED picks another seed, ORGKIT_DRIFT_RUNS more runs per preset (a longer search),
 * ORGKIT_DRIFT_PATH (with the seed) replays one counterexample; a failure prints the command that does.
 */
const SEED = Number(process.env.ORGKIT_DRIFT_SEED ?? 18_003)
const RUNS = Number(process.env.ORGKIT_DRIFT_RUNS) || 5
const PATH = process.env.ORGKIT_DRIFT_PATH
/** Shrinking a failure replays its writes again and again: after this long, the smallest one so far is reported. */
const SHRINK_MS = 90_000
const DAY = 86_400_000
/** ORGKIT_DRIFT_LOG=<file>: every run's writes and answers appended there (to see what the runs reach). */
const LOG = process.env.ORGKIT_DRIFT_LOG

const cases = DATABASES.flatMap((database) =>
  ['capgo', 'modules', 'teams'].map((preset) => [preset, database] as const),
)

it.each(cases)(
  'the running engine equals a fresh load after random writes: %s on %s',
  async (preset, database) => {
    const model = presets[preset]!
    // The server's clock, in whole days: each run starts on a new one (fresh rate-limit windows), and its
    // expiries and `tick`s are relative to that start, so a replayed run sees the same times.
    let now = Math.ceil(Date.now() / DAY) * DAY
    const server = await startTestServer(database, { model, clock: () => now })
    let run = 0
    let failedAt: number | null = null
    const property = fc.asyncProperty(
      // Unbiased: fast-check's first runs would otherwise be a handful of writes long.
      fc.noBias(fc.array(actionArbitrary(model), { maxLength: 40, size: 'max' })),
      async (actions) => {
        if (failedAt !== null && Date.now() - failedAt > SHRINK_MS) return // stop shrinking: passes
        now = (Math.floor(now / DAY) + 1) * DAY
        // Runs share the server but not their entities: each compares only what it made, so a drift left by
        // one run (a failure being shrunk) is not seen by the next.
        const world = new DriftWorld(
          server,
          model,
          (ms) => {
            now += ms
          },
          run++,
        )
        try {
          await writeAndCompare(world, server, model, actions)
        } catch (error) {
          failedAt ??= Date.now()
          throw error
        }
      },
    )
    try {
      const details = await fc.check(property, {
        seed: SEED,
        numRuns: RUNS,
        includeErrorInReport: true,
        ...(PATH && { path: PATH }),
      })
      if (details.failed) {
        const replay = `ORGKIT_DRIFT_SEED=${details.seed} ORGKIT_DRIFT_PATH=${details.counterexamplePath} npx vitest run packages/server/test/drift.property.test.ts -t '${preset} on ${database}'`
        throw new Error(
          `drift test failed (${preset} on ${database}). Replay this counterexample alone with\n  ${replay}\n` +
            `${database === 'postgres' ? '(and ORGKIT_TEST_DATABASE_URL set)\n' : ''}\n${fc.defaultReportMessage(details)}`,
        )
      }
    } finally {
      await server.stop()
    }
  },
  600_000,
)

/**
 * A few users, an org (u0 its creator; u1 a member with the model's second org role, u2 with the default
 * one) and one resource of each type in it, so most random writes have something to act on.
 */
async function prelude(world: DriftWorld, model: Model): Promise<void> {
  for (let i = 0; i < 3; i++) await perform(world, { do: 'createUser' })
  await perform(world, { do: 'createOrg', by: 'u0', parent: null })
  await perform(world, { do: 'addMember', by: 'platform', org: 0, user: 1, roles: [1] })
  await perform(world, { do: 'addMember', by: 'platform', org: 0, user: 2, roles: [] })
  for (const type of Object.keys(model.resourceTypes))
    await perform(world, { do: 'createResource', by: 'u0', org: 0, type, parent: 0 })
  world.note('(prelude done)')
}

async function writeAndCompare(world: DriftWorld, server: TestServer, model: Model, actions: Action[]) {
  const before = await rowIds(server.store.db)
  await prelude(world, model)
  for (const action of actions) await perform(world, action)
  if (LOG) appendFileSync(LOG, `--- ${model.name} run ${world.run}\n${world.transcript()}\n`)

  const running = server.ctx.engine
  const fresh = await freshEngine(server.store.db, server.ctx.compiled, server.ctx.clock)
  // Everything this run made, however it was made (a personal org at sign-up too), deleted or not.
  const scope = world.scope()
  const after = await rowIds(server.store.db)
  for (const id of after.users) if (!before.users.has(id)) scope.subjects.push({ type: 'user', id })
  for (const id of after.apiKeys) if (!before.apiKeys.has(id)) scope.subjects.push({ type: 'apiKey', id })
  for (const id of after.orgs) if (!before.orgs.has(id)) scope.targets.push({ type: 'org', id })
  for (const [id, type] of after.resources) if (!before.resources.has(id)) scope.targets.push({ type, id })
  const unique = <T extends { type: string; id: string }>(list: T[]) => [
    ...new Map(list.map((x) => [`${x.type}:${x.id}`, x])).values(),
  ]
  const found = engineDisagreements(running.authorizer, fresh.authorizer, {
    subjects: unique(scope.subjects),
    targets: unique(scope.targets),
  })
  if (running.revision !== fresh.revision)
    found.unshift({
      kind: 'revision',
      question: 'revision',
      running: String(running.revision),
      fresh: String(fresh.revision),
    })
  if (found.length > 0) {
    throw new Error(
      `the running engine (${model.name}) drifted from its database: ${found.length} answers differ\n` +
        `${formatDisagreements(found, world.names)}\n\nthe run's writes, in order:\n${world.transcript()}`,
    )
  }
}
