import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { engineSnapshots, migrate, openStore, recordChanges } from '@orgkit/store'
import { sql } from 'kysely'
import { changeFeedMac, loadKeyring } from '../src/index.ts'
import { loadWorld } from './world.ts'

/**
 * An instance starting at ~1M role bindings (issue 25.4), on PostgreSQL: from rows (ORGKIT_ENGINE_STATE=off,
 * as before) and from the engine's stored state, alternated in one run, `ORGKIT_BENCH_ROUNDS` pairs (default
 * 3), beside the same start on an empty database (the floor: module loading, migrations, listening). Each
 * start is bench-server.ts in a process of its own, timed from spawn to its first line (it is
 * listening): wall time, the process's CPU time to then, and the engine's own load time.
 *
 *   ORGKIT_BENCH_DATABASE_URL=postgres://… npx tsx --conditions=@orgkit/source packages/server/bench/start.bench.ts
 *
 * The world (http.bench.ts's, world.ts) is kept in schema `orgkit_snapstart_<bindings>` between runs;
 * ORGKIT_BENCH_FRESH=1 loads it again (~5 min at 1M on a busy 2-core machine). Not in `npm test`.
 */
const DATABASE_URL =
  process.env.ORGKIT_BENCH_DATABASE_URL ??
  process.env.ORGKIT_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test'
const BINDINGS = Number(process.env.ORGKIT_BENCH_BINDINGS ?? 1_000_000)
const ROUNDS = Number(process.env.ORGKIT_BENCH_ROUNDS ?? 3)
const schema = `orgkit_snapstart_${BINDINGS}`
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')

/** The world, unless the schema already holds it; then a change-feed row, so a state has a revision to name. */
async function prepare(): Promise<void> {
  const store = await openStore({ url: DATABASE_URL, schema, poolSize: 2 })
  try {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from information_schema.tables where table_schema = ${schema} and table_name = 'bindings'`.execute(
      store.db,
    )
    const present =
      rows[0]!.n > 0 && process.env.ORGKIT_BENCH_FRESH !== '1'
        ? (await sql<{ n: number }>`select count(*)::int as n from bindings`.execute(store.db)).rows[0]!.n
        : 0
    if (present < BINDINGS * 0.9) {
      await store.close()
      await loadWorld(DATABASE_URL, schema, BINDINGS)
      return prepare()
    }
    await migrate(store.db)
    // The world is bulk-loaded at revision 1 with no feed row; one written as a write would (no changes),
    // MACed under bench-server.ts's key.
    const key = process.env.ORGKIT_SECRET_KEY ?? `bench:${'be'.repeat(32)}`
    const feedMac = changeFeedMac(await loadKeyring(key, {}))
    await store.db.transaction().execute((tx) => recordChanges(tx, [], feedMac))
    await sql`delete from engine_snapshots`.execute(store.db)
    console.log(`  world: ${present.toLocaleString('en-US')} bindings in schema ${schema}`)
  } finally {
    await store.close().catch(() => {})
  }
}

interface Start {
  wallMs: number
  cpuMs: number
  loadMs: number
  from: string
  rssMb: number
}

/** CPU ms (user + system) a process has used so far (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

/** An empty migrated schema beside the world: the same start with nothing to load, the floor. */
const EMPTY = 'orgkit_snapstart_empty'
async function prepareEmpty(): Promise<void> {
  const store = await openStore({ url: DATABASE_URL, schema: EMPTY, poolSize: 1 })
  try {
    await migrate(store.db)
  } finally {
    await store.close()
  }
}

async function start(state: boolean, until?: () => Promise<unknown>, inSchema = schema): Promise<Start> {
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      '--conditions=@orgkit/source',
      '--import',
      'tsx',
      fileURLToPath(new URL('./bench-server.ts', import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        ORGKIT_BENCH_DATABASE_URL: DATABASE_URL,
        ORGKIT_BENCH_SCHEMA: inSchema,
        ORGKIT_BENCH_WORKERS: '1',
        ORGKIT_ENGINE_STATE: state ? 'on' : 'off',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  try {
    const lines = createInterface({ input: child.stdout! })
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit')])) as [string]
    if (typeof line !== 'string') throw new Error('the instance exited')
    const wallMs = performance.now() - started
    const cpu = cpuMs(child.pid!)
    const { engine } = JSON.parse(line) as {
      engine: { loadMs: number; loadedFrom: { kind: string; refused?: string | null } }
    }
    const from =
      engine.loadedFrom.kind === 'state'
        ? 'state'
        : `rows${engine.loadedFrom.refused ? ` (${engine.loadedFrom.refused})` : ''}`
    const rss = rssMb(child.pid!)
    await until?.()
    return { wallMs, cpuMs: cpu, loadMs: engine.loadMs, from, rssMb: rss }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit').catch(() => {})
  }
}

/** Waits until the stored state names a revision (the first start from rows writes it in the background). */
async function stateWritten(): Promise<{ revision: number; size: number }> {
  const store = await openStore({ url: DATABASE_URL, schema, poolSize: 1 })
  try {
    for (const deadline = Date.now() + 600_000; Date.now() < deadline; ) {
      const kept = await engineSnapshots.engineSnapshotInfo(store.db)
      if (kept) return kept
      await new Promise((r) => setTimeout(r, 500))
    }
    throw new Error('no engine state was written')
  } finally {
    await store.close()
  }
}

const show = (label: string, s: Start) =>
  `  ${label.padEnd(6)} ready in ${(s.wallMs / 1000).toFixed(2)} s wall, ${(s.cpuMs / 1000).toFixed(2)} s CPU; engine ${(s.loadMs / 1000).toFixed(2)} s from ${s.from}; RSS ${s.rssMb.toFixed(0)} MB`

console.log(
  `Start at ~${BINDINGS.toLocaleString('en-US')} bindings — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
)
console.log(`load average at start: ${load()}`)
await prepare()
await prepareEmpty()
// The first start with state on finds none: it loads rows and writes the state (kept alive until written).
let written = { revision: 0, size: 0 }
console.log(show('prime', await start(true, async () => (written = await stateWritten()))))
console.log(`  state: revision ${written.revision}, ${(written.size / 1e6).toFixed(1)} MB`)
const pairs: [Start, Start][] = []
const empties: Start[] = []
for (let round = 0; round < ROUNDS; round++) {
  const rows = await start(false)
  const state = await start(true)
  const empty = await start(true, undefined, EMPTY)
  console.log(show('rows', rows))
  console.log(show('state', state))
  console.log(show('empty', empty))
  pairs.push([rows, state])
  empties.push(empty)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ratio = (pick: (s: Start) => number) =>
  (median(pairs.map(([, s]) => pick(s))) / median(pairs.map(([r]) => pick(r)))).toFixed(2)
console.log(
  `median state/rows: wall ${ratio((s) => s.wallMs)}x, CPU ${ratio((s) => s.cpuMs)}x, engine load ${ratio((s) => s.loadMs)}x`,
)
const med = (pick: (s: Start) => number) => (median(empties.map(pick)) / 1000).toFixed(2)
console.log(`median empty database (the floor): wall ${med((s) => s.wallMs)} s, CPU ${med((s) => s.cpuMs)} s`)
console.log(`load average at end: ${load()}`)
