/**
 * The engine benchmark: `npm run bench -w @orgkit/core` (`tsx --expose-gc bench/engine.bench.ts`).
 *
 * Env: `ORGKIT_BENCH_SCALE` (default 1: ~1M bindings), `ORGKIT_BENCH_SECONDS` (default 3, per throughput
 * run), `ORGKIT_BENCH_JSON` (a path: also write the results there as JSON), `ORGKIT_BENCH_CASBIN=0` (skip the
 * baseline). See docs/performance.md for what each number means.
 */
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import v8 from 'node:v8'
import type { Authorizer as AuthorizerType, Decision, Snapshot, Subject } from '../src/index.ts'
import { Authorizer, presets } from '../src/index.ts'
import { type CasbinRun, runCasbin } from './casbin-baseline.ts'
import { benchScale, type DatasetStats, generateDataset } from './dataset.ts'
import {
  fmtInt,
  fmtMB,
  fmtNs,
  fmtPct,
  fmtRatio,
  heapUsed,
  line,
  loadAverage,
  msSince,
  now,
  type Percentiles,
  percentiles,
  section,
  type ThroughputResult,
  timeEach,
  timerOverhead,
} from './measure.ts'
import { makeWorkload, type Query, type Workload, withSharedObjects } from './workload.ts'

// Keep V8 from flushing idle functions' bytecode between heap measurements (megabytes of noise at small scales).
v8.setFlagsFromString('--no-flush-bytecode')

const capgo = presets.capgo!
const SCALE = benchScale()
const SECONDS = Number(process.env.ORGKIT_BENCH_SECONDS ?? 3)
const WITH_CASBIN = process.env.ORGKIT_BENCH_CASBIN !== '0'
const QUERIES = 1_000_000
const LATENCY_SAMPLE = 200_000
const LIST_USERS = 20_000
const CASBIN_LATENCY_SAMPLE = 20_000

const TARGETS = {
  checksPerSec: 1_000_000,
  checkP99Ns: 5_000,
  listP99Ns: 50_000,
  applyP99Ns: 10_000,
  heapBytes: 300 * 2 ** 20,
}

// --- engine ------------------------------------------------------------------------------------------

const VERIFY_SAMPLE = 20_000
const VERIFY_LIST_USERS = 20

/**
 * The fast path answers from precomputed indexes; `explain` walks the graph itself. They must agree on a
 * sample of the real queries (every `VERIFY_SAMPLE`-th of the mix, so all kinds of target and subject), or
 * the numbers measure a broken engine: the run stops.
 */
function verifyAgainstExplain(authz: AuthorizerType, queries: readonly Query[], label: string): number {
  const step = Math.max(1, Math.floor(queries.length / VERIFY_SAMPLE))
  let compared = 0
  for (let i = 0; i < queries.length; i += step) {
    const q = queries[i]!
    const fast = authz.check(q.subject, q.permission, q.target)
    const slow = authz.explain(q.subject, q.permission, q.target)
    if (fast.allowed !== slow.allowed || fast.reason !== slow.reason) {
      throw new Error(
        `${label}: check and explain disagree on ${q.subject.id} ${q.permission} ${q.target.type}:${q.target.id}: ` +
          `${JSON.stringify(fast)} vs ${slow.allowed}/${slow.reason}`,
      )
    }
    compared++
  }
  return compared
}

/** listResources against check over every app, for a few users (check is verified against explain). */
function verifyLists(authz: AuthorizerType, subjects: readonly Subject[], appIds: readonly string[]): number {
  for (const subject of subjects.slice(0, VERIFY_LIST_USERS)) {
    const listed = new Set(authz.listResources(subject, 'app.read', 'app'))
    let allowed = 0
    for (const id of appIds) {
      const ok = authz.check(subject, 'app.read', { type: 'app', id }).allowed
      if (ok) allowed++
      if (ok !== listed.has(id))
        throw new Error(`listResources and check disagree on ${subject.id} app.read app:${id}`)
    }
    if (allowed !== listed.size) throw new Error(`listResources of ${subject.id} lists extra ids`)
  }
  return Math.min(VERIFY_LIST_USERS, subjects.length)
}

/** Checks over the query mix, cycling, for `seconds`; the deadline is read every 16k checks. */
function engineThroughput(
  authz: AuthorizerType,
  queries: readonly Query[],
  seconds: number,
): ThroughputResult {
  const n = queries.length
  const batch = 16_384
  let i = 0
  let checks = 0
  let allowed = 0
  const cpu = process.cpuUsage()
  const start = now()
  const deadline = start + BigInt(Math.round(seconds * 1e9))
  for (;;) {
    for (let k = 0; k < batch; k++) {
      const q = queries[i]!
      if (authz.check(q.subject, q.permission, q.target).allowed) allowed++
      if (++i === n) i = 0
    }
    checks += batch
    if (now() >= deadline) break
  }
  const ms = msSince(start)
  const used = process.cpuUsage(cpu)
  const cpuMs = (used.user + used.system) / 1000
  return {
    checks,
    ms,
    perSec: (checks / ms) * 1000,
    allowedRate: allowed / checks,
    cpuMs,
    perCpuSec: (checks / cpuMs) * 1000,
  }
}

interface EngineRun {
  loadMs: number
  engineIncrementalBytes: number
  engineAloneBytes: number
  mix: Results['mix']
  throughput: ThroughputResult
  throughputShared: ThroughputResult
  throughputByUser: ThroughputResult
  amortizedNs: number
  timer: Percentiles
  check: Percentiles
  list: Results['list']
  apply: Results['apply']
  /** Our answers on the first queries, for the casbin agreement check (taken before apply). */
  answers: Uint8Array
}

/** Loads the engine from the holder's snapshot (then drops it) and runs every engine measurement. */
/** Loads the engine and drops the snapshot. Its own frame goes with it: dead temporaries can pin the data. */
function loadEngine(
  holder: { snapshot: Snapshot | null },
  heapWithData: number,
): { engine: AuthorizerType; loadMs: number; engineIncrementalBytes: number } {
  const t = now()
  const engine: AuthorizerType = new Authorizer(capgo, holder.snapshot!)
  const loadMs = msSince(t)
  const engineIncrementalBytes = heapUsed() - heapWithData
  holder.snapshot = null
  return { engine, loadMs, engineIncrementalBytes }
}

function runEngine(
  holder: { snapshot: Snapshot | null },
  workload: Workload,
  heap: { withData: number; workloadOnly: number },
): EngineRun {
  section('engine: load')
  const { engine, loadMs, engineIncrementalBytes } = loadEngine(holder, heap.withData)
  const engineAloneBytes = heapUsed() - heap.workloadOnly
  line('new Authorizer(capgo, snapshot)', `${fmtInt(loadMs)} ms`)

  // Warm-up pass, which also gives the mix's allowed/denied breakdown.
  section('engine: check')
  const queries = workload.queries
  const kinds: Record<string, { total: number; allowed: number }> = {}
  const reasons: Record<string, number> = {}
  const warm = Math.min(queries.length, 300_000)
  for (let i = 0; i < warm; i++) {
    const q = queries[i]!
    const d: Decision = engine.check(q.subject, q.permission, q.target)
    const kind = kinds[q.target.type] ?? { total: 0, allowed: 0 }
    kinds[q.target.type] = kind
    kind.total++
    if (d.allowed) kind.allowed++
    reasons[d.reason] = (reasons[d.reason] ?? 0) + 1
  }
  engineThroughput(engine, queries, Math.min(1, SECONDS))
  for (const [kind, k] of Object.entries(kinds)) {
    const share = ((k.total / warm) * 100).toFixed(1)
    line(`mix: ${kind}`, `${share}% of queries, ${((k.allowed / k.total) * 100).toFixed(1)}% allowed`)
  }
  const reasonText = Object.entries(reasons)
    .map(([r, n]) => `${r} ${((n / warm) * 100).toFixed(2)}%`)
    .join(', ')
  line('mix: reasons', reasonText)

  const throughput = engineThroughput(engine, queries, SECONDS)
  const amortizedNs = 1e9 / throughput.perSec
  line(
    'throughput (1 thread)',
    `${fmtInt(throughput.perSec)} checks/s (${fmtInt(throughput.checks)} in ${fmtInt(throughput.ms)} ms)`,
  )
  line(
    '  per CPU-second',
    `${fmtInt(throughput.perCpuSec!)} checks (process CPU ${fmtInt(throughput.cpuMs!)} ms of ${fmtInt(throughput.ms)} ms)`,
  )
  line('amortized per check', fmtNs(amortizedNs))
  // Two variants, to show how much of a check is waiting on memory: subject/target objects shared across
  // queries (cold, scattered), and the queries grouped by user (the user's nodes stay in cache).
  const throughputShared = engineThroughput(engine, withSharedObjects(queries), SECONDS)
  line('  objects shared across queries', `${fmtInt(throughputShared.perSec)} checks/s`)
  // Re-allocated in sorted order (a JSON round trip), so the query objects themselves stay sequential.
  const sorted = [...queries].sort((a, b) =>
    a.subject.id < b.subject.id ? -1 : a.subject.id > b.subject.id ? 1 : 0,
  )
  const byUser = JSON.parse(JSON.stringify(sorted)) as Query[]
  const throughputByUser = engineThroughput(engine, byUser, SECONDS)
  line('  queries sorted by user', `${fmtInt(throughputByUser.perSec)} checks/s`)

  const timer = timerOverhead(LATENCY_SAMPLE)
  const sample = Math.min(LATENCY_SAMPLE, queries.length)
  const check = percentiles(
    timeEach(sample, (i) => {
      const q = queries[i]!
      engine.check(q.subject, q.permission, q.target)
    }),
  )
  line('hrtime.bigint() pair overhead', fmtPct(timer))
  line(`per check (${fmtInt(sample)} timed, raw)`, fmtPct(check))
  line(
    'per check p50/p99 − timer p50',
    `${fmtNs(Math.max(0, check.p50 - timer.p50))} / ${fmtNs(Math.max(0, check.p99 - timer.p50))}`,
  )

  const compared = Math.min(CASBIN_LATENCY_SAMPLE, queries.length)
  const answers = new Uint8Array(compared)
  for (let i = 0; i < compared; i++) {
    const q = queries[i]!
    answers[i] = engine.check(q.subject, q.permission, q.target).allowed ? 1 : 0
  }

  const verified = verifyAgainstExplain(engine, queries, 'after load')
  line('verified against explain', `${fmtInt(verified)} queries of the mix agree (allowed and reason)`)

  section('engine: listResources(user, app.read, app)')
  const subjects = workload.listSubjects
  let returned = 0
  for (let i = 0; i < Math.min(2_000, subjects.length); i++)
    engine.listResources(subjects[i]!, 'app.read', 'app')
  const listPct = percentiles(
    timeEach(subjects.length, (i) => {
      returned += engine.listResources(subjects[i]!, 'app.read', 'app').length
    }),
  )
  const list = { ...listPct, avgResults: returned / subjects.length }
  line(`per call (${fmtInt(subjects.length)} users, raw)`, fmtPct(listPct))
  line('apps returned per call (mean)', list.avgResults.toFixed(1))
  const listsVerified = verifyLists(engine, subjects, workload.appIds)
  line('verified against check', `${listsVerified} users' lists, against a check of every app`)

  section('engine: apply')
  // The first tenth (at most 5,000) warms the JIT up, untimed; the rest are timed one by one.
  const warmChanges = Math.min(5_000, Math.floor(workload.changes.length / 10))
  for (let i = 0; i < warmChanges; i++) engine.apply(workload.changes[i]!)
  const changes = workload.changes.slice(warmChanges)
  const changeKinds = workload.changeKinds.slice(warmChanges)
  const t = now()
  const applyTimes = timeEach(changes.length, (i) => engine.apply(changes[i]!))
  const applyMs = msSince(t)
  const byKind: Record<string, Percentiles> = {}
  for (const kind of Object.keys(workload.changeMix)) {
    const times = applyTimes.filter((_, i) => changeKinds[i] === kind)
    byKind[kind] = percentiles(times)
  }
  const applyPct = percentiles(applyTimes)
  const apply = {
    ...applyPct,
    count: changes.length,
    amortizedNs: (applyMs * 1e6) / changes.length,
    mix: workload.changeMix,
    byKind,
  }
  const mixText = Object.entries(workload.changeMix)
    .map(([k, n]) => `${k} ${fmtInt(n)}`)
    .join(', ')
  line('mix', mixText)
  line(`per change (${fmtInt(changes.length)} timed, raw)`, fmtPct(applyPct))
  line('amortized (incl. timer)', fmtNs(apply.amortizedNs))
  for (const [kind, p] of Object.entries(byKind)) line(`  ${kind}`, fmtPct(p))
  // The changes cleared many users' access indexes: the rebuilt ones must still agree with the slow path.
  const verifiedAfter = verifyAgainstExplain(engine, queries, 'after apply')
  line('verified against explain', `${fmtInt(verifiedAfter)} queries agree after the changes`)

  return {
    loadMs,
    engineIncrementalBytes,
    engineAloneBytes,
    mix: { kinds, reasons },
    throughput,
    throughputShared,
    throughputByUser,
    amortizedNs,
    timer,
    check,
    list,
    apply,
    answers,
  }
}

// --- run -----------------------------------------------------------------------------------------------

interface Results {
  machine: Record<string, string | number>
  scale: number
  dataset: DatasetStats
  generateMs: number
  workloadMs: number
  loadMs: number
  heap: { snapshotBytes: number; engineIncrementalBytes: number; engineAloneBytes: number }
  mix: { kinds: Record<string, { total: number; allowed: number }>; reasons: Record<string, number> }
  throughput: ThroughputResult
  throughputShared: ThroughputResult
  throughputByUser: ThroughputResult
  amortizedNs: number
  timer: Percentiles
  check: Percentiles
  list: Percentiles & { avgResults: number }
  apply: Percentiles & {
    count: number
    amortizedNs: number
    mix: Record<string, number>
    byKind: Record<string, Percentiles>
  }
  casbin?: CasbinRun
}

interface Prepared {
  holder: { snapshot: Snapshot | null }
  workload: Workload
  stats: DatasetStats
  generateMs: number
  workloadMs: number
  /** Heap before anything was generated. */
  heapBase: number
  /** Heap the workload takes (measured with the data alive; it shares no objects with it). */
  workloadBytes: number
}

function prepare(): Prepared {
  const heapBase = heapUsed()
  let t = now()
  const dataset = generateDataset(SCALE)
  const generateMs = msSince(t)
  const heapDataset = heapUsed()
  t = now()
  const workload = makeWorkload(dataset, {
    queries: QUERIES,
    listUsers: LIST_USERS,
    changes: Math.min(100_000, Math.floor(dataset.stats.bindings / 4)),
  })
  const workloadMs = msSince(t)
  const workloadBytes = heapUsed() - heapDataset
  return {
    holder: { snapshot: dataset.snapshot },
    workload,
    stats: dataset.stats,
    generateMs,
    workloadMs,
    heapBase,
    workloadBytes,
  }
}

async function main(): Promise<void> {
  const cpus = os.cpus()
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAtStart: loadAverage(),
  }
  console.log('orgkit engine benchmark')
  for (const [k, v] of Object.entries(machine)) line(k, String(v))
  line('scale', `${SCALE} (ORGKIT_BENCH_SCALE)`)
  line('throughput run', `${SECONDS} s (ORGKIT_BENCH_SECONDS)`)

  // Dataset and workload, built in a function of their own so that no frame of main() pins the data.
  section('dataset')
  const { holder, workload, stats, generateMs, workloadMs, heapBase, workloadBytes } = prepare()
  const heapData = heapUsed()
  const snapshotBytes = heapData - heapBase - workloadBytes
  line('generated in', `${fmtInt(generateMs)} ms`)
  line(
    'orgs / apps / channels / users',
    `${fmtInt(stats.orgs)} / ${fmtInt(stats.apps)} / ${fmtInt(stats.channels)} / ${fmtInt(stats.users)}`,
  )
  line('memberships (pending)', `${fmtInt(stats.memberships)} (${fmtInt(stats.pendingMemberships)})`)
  line('groups / group members', `${fmtInt(stats.groups)} / ${fmtInt(stats.groupMembers)}`)
  line(
    'bindings: total (org/app/group)',
    `${fmtInt(stats.bindings)} (${fmtInt(stats.orgBindings)} / ${fmtInt(stats.appBindings)} / ${fmtInt(stats.groupBindings)})`,
  )
  line('channel overrides', fmtInt(stats.overrides))
  line('largest org: apps / members', `${fmtInt(stats.largestOrgApps)} / ${fmtInt(stats.largestOrgMembers)}`)
  line(
    'workload built in',
    `${fmtInt(workloadMs)} ms (${fmtInt(QUERIES)} queries, ${fmtInt(workload.changes.length)} changes)`,
  )
  line('heap: snapshot', fmtMB(snapshotBytes))

  const engine = runEngine(holder, workload, { withData: heapData, workloadOnly: heapBase + workloadBytes })
  const engineAloneBytes = engine.engineAloneBytes
  section('engine: heap (after full GCs; measured right after load)')
  line(
    'engine alone',
    `${fmtMB(engineAloneBytes)} (snapshot dropped: heap − heap before the data − workload)`,
  )
  line(
    'engine incremental',
    `${fmtMB(engine.engineIncrementalBytes)} (heap after load − heap before it, snapshot alive)`,
  )
  const heapWorkload = heapUsed()

  const results_: Results = {
    machine,
    scale: SCALE,
    dataset: stats,
    generateMs,
    workloadMs,
    loadMs: engine.loadMs,
    heap: { snapshotBytes, engineIncrementalBytes: engine.engineIncrementalBytes, engineAloneBytes },
    mix: engine.mix,
    throughput: engine.throughput,
    throughputShared: engine.throughputShared,
    throughputByUser: engine.throughputByUser,
    amortizedNs: engine.amortizedNs,
    timer: engine.timer,
    check: engine.check,
    list: engine.list,
    apply: engine.apply,
  }

  if (WITH_CASBIN) results_.casbin = await runCasbin(workload, engine.answers, heapWorkload, SCALE, SECONDS)

  results_.machine.loadAtEnd = loadAverage()
  summary(results_)
  const out = process.env.ORGKIT_BENCH_JSON
  if (out) writeFileSync(out, `${JSON.stringify(results_, null, 2)}\n`)
}

// --- summary ---------------------------------------------------------------------------------------------

function summary(r: Results): void {
  section('results vs targets')
  const heap = Math.max(r.heap.engineAloneBytes, r.heap.engineIncrementalBytes)
  const rows: [string, string, string, boolean][] = [
    [
      'checks/s (1 thread)',
      '≥ 1,000,000',
      fmtInt(r.throughput.perSec),
      r.throughput.perSec >= TARGETS.checksPerSec,
    ],
    ['check p99 (timed singly, raw)', '≤ 5 µs', fmtNs(r.check.p99), r.check.p99 <= TARGETS.checkP99Ns],
    ['listResources p99', '≤ 50 µs', fmtNs(r.list.p99), r.list.p99 <= TARGETS.listP99Ns],
    ['apply p99', '≤ 10 µs', fmtNs(r.apply.p99), r.apply.p99 <= TARGETS.applyP99Ns],
    ['engine heap (larger measure)', '≤ 300 MB', fmtMB(heap), heap <= TARGETS.heapBytes],
  ]
  console.log(`  ${'metric'.padEnd(32)} ${'target'.padEnd(12)} ${'measured'.padEnd(16)} status`)
  for (const [metric, target, measured, ok] of rows)
    console.log(`  ${metric.padEnd(32)} ${target.padEnd(12)} ${measured.padEnd(16)} ${ok ? 'PASS' : 'MISS'}`)
  console.log(
    `  (load ${fmtInt(r.loadMs)} ms; check p50 ${fmtNs(r.check.p50)}; amortized ${fmtNs(r.amortizedNs)}/check)`,
  )
  console.log(`  (1/5/15-min load average: ${r.machine.loadAtStart} at start, ${r.machine.loadAtEnd} at end)`)

  const c = r.casbin
  if (!c) return
  section('ours vs casbin (same data, same query mix)')
  console.log(`  ${'metric'.padEnd(32)} ${'ours'.padEnd(16)} ${'casbin'.padEnd(16)} ours / casbin`)
  const row = (metric: string, ours: string, theirs: string, ratio: number) =>
    console.log(`  ${metric.padEnd(32)} ${ours.padEnd(16)} ${theirs.padEnd(16)} ${fmtRatio(ratio)}`)
  row(
    'checks/s (1 thread)',
    fmtInt(r.throughput.perSec),
    fmtInt(c.throughput.perSec),
    r.throughput.perSec / c.throughput.perSec,
  )
  row('check p50', fmtNs(r.check.p50), fmtNs(c.check.p50), r.check.p50 / c.check.p50)
  row('check p99', fmtNs(r.check.p99), fmtNs(c.check.p99), r.check.p99 / c.check.p99)
  row('load', `${fmtInt(r.loadMs)} ms`, `${fmtInt(c.loadMs)} ms`, r.loadMs / c.loadMs)
  row('heap', fmtMB(r.heap.engineAloneBytes), fmtMB(c.heapBytes), r.heap.engineAloneBytes / c.heapBytes)
  row('apply p50', fmtNs(r.apply.p50), fmtNs(c.apply.p50), r.apply.p50 / c.apply.p50)
  console.log(
    `  throughput: ours is ${fmtRatio(r.throughput.perSec / c.throughput.perSec)} casbin; check p50: casbin takes ${fmtRatio(c.check.p50 / r.check.p50)} as long`,
  )
}

await main()
