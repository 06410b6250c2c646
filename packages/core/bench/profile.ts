/**
 * One engine phase in a loop, CPU-profiled on its own (setup excluded); not part of the benchmark's numbers.
 *
 *   cd packages/core
 *   ORGKIT_BENCH_SCALE=1 npx tsx bench/profile.ts check /tmp/check.cpuprofile
 *
 * Phases: `load`, `check`, `check-by-user` (the same queries sorted by user: memory locality), `list`,
 * `apply`. `ORGKIT_BENCH_SECONDS` (default 5) bounds the loop. Open the profile in Chrome DevTools. For
 * line numbers that point at readable code, bundle first (tsx reports positions in its transform):
 * `npx esbuild bench/profile.ts --bundle --platform=node --format=esm --outfile=/tmp/p.mjs`, run that.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import type { Authorizer as AuthorizerType } from '../src/index.ts'
import { Authorizer, presets } from '../src/index.ts'
import { benchScale, generateDataset } from './dataset.ts'
import { makeWorkload, type Query } from './workload.ts'

const phases = ['load', 'check', 'check-by-user', 'list', 'apply'] as const
type Phase = (typeof phases)[number]
const phase = (process.argv[2] ?? 'check') as Phase
if (!phases.includes(phase)) throw new Error(`phase must be one of ${phases.join(', ')}`)
const seconds = Number(process.env.ORGKIT_BENCH_SECONDS ?? 5)
const deadline = () => Date.now() + seconds * 1000

const dataset = generateDataset(benchScale())
const workload = makeWorkload(dataset, {
  queries: 1_000_000,
  listUsers: 20_000,
  changes: Math.min(100_000, Math.floor(dataset.stats.bindings / 4)),
})
const snapshot = dataset.snapshot

const out = process.argv[3]
const session = new Session()
if (out !== undefined) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
}
const startProfile = async () => {
  if (out !== undefined) await session.post('Profiler.start')
}
if (phase === 'load') await startProfile()

let t = performance.now()
const authz: AuthorizerType = new Authorizer(presets.capgo!, snapshot)
console.log(`load: ${(performance.now() - t).toFixed(0)} ms`)

if (phase === 'load') {
  for (const end = deadline(); Date.now() < end; ) {
    t = performance.now()
    new Authorizer(presets.capgo!, snapshot)
    console.log(`load: ${(performance.now() - t).toFixed(0)} ms`)
  }
}

const byUser = (a: Query, b: Query) =>
  a.subject.id < b.subject.id ? -1 : a.subject.id > b.subject.id ? 1 : 0
// Re-allocated in sorted order (a JSON round trip), so the query objects themselves stay sequential.
const queries: Query[] =
  phase === 'check-by-user'
    ? JSON.parse(JSON.stringify([...workload.queries].sort(byUser)))
    : workload.queries
if (phase !== 'load') await startProfile()

if (phase === 'check' || phase === 'check-by-user') {
  let n = 0
  let allowed = 0
  t = performance.now()
  for (const end = deadline(); Date.now() < end; ) {
    for (let i = 0; i < queries.length; i += 1) {
      const q = queries[i]!
      if (authz.check(q.subject, q.permission, q.target).allowed) allowed++
      if ((++n & 0xffff) === 0 && Date.now() >= end) break
    }
  }
  const ms = performance.now() - t
  console.log(`${phase}: ${((n / ms) * 1000).toFixed(0)} checks/s (${allowed} allowed of ${n})`)
}

if (phase === 'list') {
  let n = 0
  t = performance.now()
  for (const end = deadline(); Date.now() < end; ) {
    for (const s of workload.listSubjects) {
      authz.listResources(s, 'app.read', 'app')
      n++
    }
  }
  console.log(`list: ${(((performance.now() - t) * 1000) / n).toFixed(2)} µs per call`)
}

if (phase === 'apply') {
  t = performance.now()
  for (const change of workload.changes) authz.apply(change)
  console.log(
    `apply: ${(((performance.now() - t) * 1000) / workload.changes.length).toFixed(2)} µs per change`,
  )
}

if (out !== undefined) {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(out, JSON.stringify(profile))
  console.log(`profile: ${out}`)
}
