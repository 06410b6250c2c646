import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Where a write's CPU goes: reads the profiles and phase windows `WRITE_BENCH_CPU_PROF=<dir>` left in
 * <dir> (write-latency.bench.ts) and prints, for each phase, the server's sampled CPU per write by part.
 * A sample counts for the innermost frame that is a package's or one of ours; Node's own frames (sockets,
 * streams, promise jobs) count for whoever called them, and alone (a socket read from the event loop)
 * as "Node". `(program)` is native code outside JavaScript: system calls, the event loop.
 *
 *   npx tsx packages/server/bench/cpu-breakdown.ts <dir> [--files]
 *
 * --files lists every file and package instead of the parts.
 */
interface Frame {
  functionName: string
  url: string
}
interface Profile {
  nodes: { id: number; callFrame: Frame; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
}
interface Phase {
  pid: number
  op: string
  scenario: string
  from: number
  to: number
  writes: number
}

/** The parts a write is split into, first match wins; a file is `<package>/<path under src>`. */
const PARTS: [string, RegExp][] = [
  ['PGlite: PostgreSQL (WebAssembly)', /^wasm:/],
  ['PGlite: its JavaScript', /^@electric-sql\/pglite$/],
  ['pg driver (pg, pg-pool, pg-protocol, types)', /^(pg|pg-pool|pg-protocol|pg-types|postgres-.*)$/],
  ['Kysely (build, compile, execute)', /^kysely$/],
  ['HTTP server (@hono/node-server)', /^@hono\/node-server$/],
  ['Hono routing', /^hono$/],
  ['zod validation, OpenAPI routes', /^(zod|@hono\/zod-openapi|@asteasolutions.*)$/],
  [
    'request middleware, errors (app.ts, request.ts, well-formed.ts, errors.ts)',
    /^server\/(app|request|well-formed|errors)\.ts$/,
  ],
  ['auth (middleware/auth.ts, security/)', /^server\/(middleware|security)\//],
  ['tracing (OpenTelemetry, no SDK)', /^(@opentelemetry\/.*|store\/tracing\.ts|server\/tracing\.ts)$/],
  ['metrics (prom-client, metrics.ts)', /^(prom-client|server\/metrics\.ts)$/],
  ['logging (pino)', /^pino/],
  ['audit chain (store/audit.repository.ts)', /^store\/audit/],
  ['webhook outbox', /^server\/webhooks\//],
  ['change feed (store/changes.repository.ts)', /^store\/changes/],
  ['engine (core/engine, engine-replica.ts)', /^(core\/engine\/|server\/engine-replica\.ts)/],
  ['core rules, model', /^core\//],
  ['write frame (services/context.ts)', /^server\/services\/context\.ts$/],
  ['use cases (other services/)', /^server\/services\//],
  ['routes', /^server\/routes\//],
  ['repositories (other store/)', /^store\//],
  ['GC', /^\(garbage collector\)$/],
  ['(program): native, outside JavaScript', /^\(program\)$/],
  ['idle', /^\(idle\)$/],
  ['Node (event loop, sockets, promise jobs)', /^node:/],
]

/** The package or our file a frame belongs to; null for Node's own and V8's frames (they are passed up). */
function ownerOf(frame: Frame): string | null {
  if (frame.functionName.startsWith('(') && frame.url === '') return frame.functionName
  if (frame.url.startsWith('wasm://')) return 'wasm:'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)
  if (pkg) return pkg[1]!
  const ours = /packages\/([^/]+)\/src\/(.*)$/.exec(frame.url)
  return ours ? `${ours[1]}/${ours[2]}` : null
}

/** Sampled microseconds by owner, within [from, to]. */
function owners(profile: Profile, from: number, to: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)
  const owner = new Map<number, string>()
  const ownerOfNode = (id: number): string => {
    const known = owner.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)!
    const up = parent.get(id)
    const found = ownerOf(node.callFrame) ?? (up === undefined ? null : ownerOfNode(up))
    const result = found === null || found === '(root)' ? `node:${node.callFrame.url}` : found
    owner.set(id, result)
    return result
  }
  const totals = new Map<string, number>()
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!
    if (t < from || t > to) continue
    // A sample's weight is the interval until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0
    const who = ownerOfNode(profile.samples[i]!)
    totals.set(who, (totals.get(who) ?? 0) + weight)
  }
  return totals
}

function partOf(owner: string): string {
  return PARTS.find(([, match]) => match.test(owner))?.[0] ?? 'other'
}

const dir = process.argv[2]
if (!dir) throw new Error('usage: cpu-breakdown.ts <dir> [--files]')
const files = process.argv.includes('--files')
const phases = readFileSync(join(dir, 'phases.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Phase)
const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
// A phase runs in rounds (write-latency.bench.ts): its windows on one server are summed.
const grouped = new Map<string, Phase & { windows: [number, number][] }>()
for (const phase of phases) {
  const key = `${phase.pid} ${phase.op} ${phase.scenario}`
  const group = grouped.get(key) ?? { ...phase, writes: 0, windows: [] }
  group.writes += phase.writes
  group.windows.push([phase.from, phase.to])
  grouped.set(key, group)
}
for (const phase of grouped.values()) {
  // node --cpu-prof names its file CPU.<date>.<time>.<pid>.<thread>.<seq>: the server's main thread is 0.
  const file = profiles.find((f) => f.split('.')[3] === String(phase.pid) && f.split('.')[4] === '0')
  if (!file) continue
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  const parts = new Map<string, number>()
  let busy = 0
  for (const [from, to] of phase.windows)
    for (const [who, us] of owners(profile, from, to)) {
      const key = files ? who : partOf(who)
      parts.set(key, (parts.get(key) ?? 0) + us)
      if (who !== '(idle)') busy += us
    }
  const perWrite = (us: number) => (us / 1000 / phase.writes).toFixed(3).padStart(7)
  console.log(
    `\n${file} · ${phase.op}, ${phase.scenario}: ${perWrite(busy)} ms of CPU a write (${phase.writes})`,
  )
  for (const [key, us] of [...parts].sort((a, b) => b[1] - a[1]))
    if (us / phase.writes >= 10) console.log(`${perWrite(us)}  ${key}`)
}
