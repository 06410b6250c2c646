import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import { APPS_PER_ORG, loadWorld, USERS_PER_ORG } from './world.ts'

/**
 * Orgkit over HTTP (issue 7), on PostgreSQL, at each size of ORGKIT_BENCH_BINDINGS (default 10k and 1M
 * role bindings, bulk-loaded with INSERT … SELECT generate_series, not through the API):
 *
 * - single check (`POST /v1/check`) at 32 and at 8 connections, and batch check (`POST /v1/check/batch`),
 *   load from wrk (or autocannon, see LOADGEN) on loopback, against one instance answering from its engine
 *   and against the baseline: the same route answered by PostgreSQL per request (the SQL evaluator,
 *   `ORGKIT_BENCH_MODE=sql` in bench-server.ts); single and batch checks also against the ceiling, plain
 *   node:http parsing the body and answering constants (ceiling-server.ts): what any Node.js service could
 *   answer on this machine;
 * - list-resources, both ways;
 * - single and batch check again against N processes sharing the port (node:cluster, one per core unless
 *   ORGKIT_BENCH_WORKERS says otherwise), and against the baseline run the same way;
 * - propagation: a revoke written on instance A, until instance B answers it (no atLeastRevision), p50/p99.
 *
 * Each server runs in its own process; the load generator runs beside them. Every line prints the ratio
 * to the baseline. Single-check lines also print the share of answers the instance itself took over 1 ms
 * (its own request-duration histogram), to tell its time from the time spent outside it.
 */
const DATABASE_URL =
  process.env.ORGKIT_BENCH_DATABASE_URL ??
  process.env.ORGKIT_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test'
const SIZES = (process.env.ORGKIT_BENCH_BINDINGS ?? '10000,1000000').split(',').map(Number)
const SECONDS = Number(process.env.ORGKIT_BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.ORGKIT_BENCH_CONNECTIONS ?? 32)
/** A host product's small keep-alive pool to its Orgkit: the latency a request of its own waits. */
const FEW_CONNECTIONS = Number(process.env.ORGKIT_BENCH_FEW_CONNECTIONS ?? 8)
const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    return (error as { status?: number }).status === 1 // wrk --version prints its usage and exits 1
  }
})()
/** wrk (C, from the OS's packages) when installed: on 2 cores it leaves the instance more CPU than autocannon. */
const LOADGEN = (process.env.ORGKIT_BENCH_LOADGEN ?? (hasWrk ? 'wrk' : 'autocannon')) as 'wrk' | 'autocannon'
/** Checks per batch request: the API's limit, and a page's worth. */
const BATCHES = (process.env.ORGKIT_BENCH_BATCH ?? '1000,100').split(',').map(Number)
const ROUNDS = Number(process.env.ORGKIT_BENCH_ROUNDS ?? 100)
/** Runs of each single-check measurement (its tail varies from run to run). */
const RUNS = Number(process.env.ORGKIT_BENCH_RUNS ?? 3)
/** Processes sharing the port for the `N procs` lines, one per core by default (1: none of those lines). */
const WORKERS = Number(process.env.ORGKIT_BENCH_WORKERS ?? cpus().length)
const PERMISSIONS = ['app.read', 'app.upload_bundle', 'bundle.delete', 'app.update_settings'] as const

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const us = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} µs`

const uuidOf = (await import('node:crypto')).createHash
const md5uuid = (s: string) => {
  const d = uuidOf('md5').update(s).digest('hex')
  const h = `${d.slice(0, 12)}4${d.slice(13, 16)}8${d.slice(17)}`
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

interface Instance {
  url: string
  child: ChildProcess
  /** The processes answering (the instance's own, or a primary and its workers): their CPU is counted. */
  pids: number[]
  /** Whether its `/metrics` tells the duration of every request it answers (one Orgkit process). */
  histogram: boolean
}

/** Every instance still running: stopped however this process ends, so a failed run leaves none behind. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

async function startInstance(
  schema: string,
  mode: 'engine' | 'sql' | 'ceiling',
  workers = 1,
): Promise<Instance> {
  const started = performance.now()
  const script = mode === 'ceiling' ? './ceiling-server.ts' : './bench-server.ts'
  const child = spawn(
    process.execPath,
    [
      // ORGKIT_BENCH_PROFILE=<dir>: the engine instances write a CPU profile there when they stop.
      ...(mode === 'engine' && process.env.ORGKIT_BENCH_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ORGKIT_BENCH_PROFILE}`]
        : []),
      '--conditions=@orgkit/source',
      '--import',
      'tsx',
      fileURLToPath(new URL(script, import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        ORGKIT_BENCH_DATABASE_URL: DATABASE_URL,
        ORGKIT_BENCH_SCHEMA: schema,
        ORGKIT_BENCH_MODE: mode,
        ORGKIT_BENCH_WORKERS: String(workers),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  running.add(child)
  child.once('exit', () => running.delete(child))
  const lines = createInterface({ input: child.stdout! })
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit')])) as [string]
  if (typeof line !== 'string') throw new Error(`the ${mode} instance exited`)
  const { url, pids } = JSON.parse(line) as { url: string; pids?: number[] }
  const what = workers > 1 ? `${mode} instance (${workers} processes)` : `${mode} instance`
  console.log(`  ${what} up in ${((performance.now() - started) / 1000).toFixed(1)} s at ${url}`)
  return { url, child, pids: pids ?? [child.pid!], histogram: mode !== 'ceiling' && workers === 1 }
}

async function stopInstance(instance: Instance) {
  instance.child.kill('SIGTERM')
  await once(instance.child, 'exit')
}

const random = (n: number) => Math.floor(Math.random() * n)

/** A batch of random questions, each about its own user. */
const mixedBatch = (users: number, size: number) => ({
  checks: Array.from({ length: size }, () => question(users)),
})

/** A batch about one random user, named once: the user's org's apps, the permissions in turn. */
function oneUserBatch(users: number, size: number) {
  const user = random(users)
  const org = Math.floor(user / USERS_PER_ORG)
  const apps = Array.from({ length: APPS_PER_ORG }, (_, i) => md5uuid(`a${org * APPS_PER_ORG + i}`))
  return {
    subject: { type: 'user', id: md5uuid(`u${user}`) },
    checks: Array.from({ length: size }, (_, i) => ({
      permission: PERMISSIONS[i % PERMISSIONS.length]!,
      resource: { type: 'app', id: apps[i % APPS_PER_ORG]! },
    })),
  }
}

/** A random question: a user and an app of the user's org (so the answers are mixed). */
function question(users: number) {
  const user = random(users)
  const org = Math.floor(user / USERS_PER_ORG)
  return {
    subject: { type: 'user', id: md5uuid(`u${user}`) },
    permission: PERMISSIONS[random(PERMISSIONS.length)]!,
    resource: { type: 'app', id: md5uuid(`a${org * APPS_PER_ORG + random(APPS_PER_ORG)}`) },
  }
}

/** CPU seconds (user + system) a process has used so far (Linux), to report server CPU per request. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

interface Run {
  /** Server CPU time per request, µs: what one request costs the instance, whatever else runs. */
  cpuPerRequest: number
  rps: number
  p50: number
  p99: number
  errors: number
  /**
   * The share of 2xx answers the instance itself took over 1 ms, from its own request-duration histogram
   * (`/metrics`: from node:http's request event to the end of the answer); null where there is none (plain
   * node:http, or several processes behind one port). Beside wrk's percentiles it tells the instance's
   * time from the time a request spends outside it (socket queues, the load generator).
   */
  serverOver1ms: number | null
}

/** Per route, the cumulative count of 2xx answers at each bound of the instance's duration histogram. */
async function durations(url: string, path: string, token: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
  const counts = new Map<number, number>()
  for (const line of text.split('\n')) {
    if (!line.startsWith('orgkit_http_request_duration_seconds_bucket{')) continue
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (labels.route !== path || !labels.status?.startsWith('2')) continue
    const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le)
    counts.set(le, (counts.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)))
  }
  return counts
}

async function cannon(
  { url, pids, histogram }: Instance,
  token: string,
  path: string,
  make: () => unknown,
  options: { connections?: number; seconds?: number; bodies?: number } = {},
): Promise<Run> {
  // Bodies are made before the run: the load generator shares the machine and must stay cheap.
  const bodies = Array.from({ length: options.bodies ?? 2000 }, () => JSON.stringify(make()))
  const connections = options.connections ?? CONNECTIONS
  const seconds = options.seconds ?? SECONDS
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  const before = histogram ? await durations(url, path, token) : null
  const cpuBefore = cpu()
  const result =
    LOADGEN === 'wrk'
      ? await wrk(`${url}${path}`, token, bodies, connections, seconds)
      : await autocannonRun(`${url}${path}`, token, bodies, connections, seconds)
  const cpuPerRequest = ((cpu() - cpuBefore) / result.total) * 1e6
  let serverOver1ms: number | null = null
  if (before) {
    const after = await durations(url, path, token)
    const delta = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0)
    const all = delta(Number.POSITIVE_INFINITY)
    if (all > 0) serverOver1ms = 1 - delta(0.001) / all
  }
  return { ...result, cpuPerRequest, serverOver1ms }
}

type LoadResult = Omit<Run, 'cpuPerRequest' | 'serverOver1ms'> & { total: number }

async function autocannonRun(
  url: string,
  token: string,
  bodies: string[],
  connections: number,
  duration: number,
): Promise<LoadResult> {
  let next = 0
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }) }],
  })
  return {
    total: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}

/** One wrk thread (the instance has the other core), the bodies in turn from a Lua script. */
async function wrk(
  url: string,
  token: string,
  bodies: string[],
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const dir = mkdtempSync(`${tmpdir()}/orgkit-wrk-`)
  try {
    const long = (text: string) => `[==[${text}]==]`
    writeFileSync(
      `${dir}/bodies.lua`,
      `local bodies = {${bodies.map(long).join(',\n')}}
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = ${long(`Bearer ${token}`)} }
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[i])
end
`,
    )
    const { stdout } = await promisify(execFile)('wrk', [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--latency',
      '--timeout',
      '60s',
      '-s',
      `${dir}/bodies.lua`,
      url,
    ])
    const field = (pattern: RegExp) => {
      const match = pattern.exec(stdout)
      if (!match) throw new Error(`wrk printed no ${pattern}:\n${stdout}`)
      return match
    }
    const ms = (match: RegExpExecArray) =>
      Number(match[1]) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[match[2]!]!
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
    return {
      total: Number(field(/(\d+) requests in/)[1]),
      rps: Number(field(/Requests\/sec:\s+([\d.]+)/)[1]),
      p50: ms(field(/^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m)),
      p99: ms(field(/^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m)),
      errors:
        Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0) +
        (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const line = (label: string, engine: number, unit: string, base: number, extra = '') =>
  console.log(
    `  ${label.padEnd(26)} ${fmt(engine).padStart(11)} ${unit.padEnd(9)} baseline ${fmt(base).padStart(9)}   ` +
      `${(engine / base).toFixed(1)}x${extra}`,
  )

async function propagation(a: Instance, b: Instance, token: string, users: number) {
  // A super admin (user 0 of its org) grants and revokes app_uploader on an app to a member; B is polled
  // without atLeastRevision until it answers the change.
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const delays: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const org = random(Math.floor(users / USERS_PER_ORG))
    const admin = md5uuid(`u${org * USERS_PER_ORG}`)
    const member = md5uuid(`u${org * USERS_PER_ORG + 5}`)
    const app = md5uuid(`a${org * APPS_PER_ORG + 9}`)
    const orgId = md5uuid(`o${org}`)
    const ask = async () => {
      const reply = await fetch(`${b.url}/v1/check`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          subject: { type: 'user', id: member },
          permission: 'bundle.delete',
          resource: { type: 'app', id: app },
        }),
      })
      return ((await reply.json()) as { allowed: boolean }).allowed
    }
    const granted = await fetch(`${a.url}/v1/orgs/${orgId}/bindings`, {
      method: 'POST',
      headers: { ...headers, 'x-orgkit-user': admin },
      body: JSON.stringify({ principal: { type: 'user', id: member }, role: 'app_admin', resourceId: app }),
    })
    const binding = (await granted.json()) as { id: string }
    if (granted.status !== 201) throw new Error(`grant: ${JSON.stringify(binding)}`)
    while (!(await ask())) await new Promise((r) => setTimeout(r, 1))
    const started = performance.now()
    const revoked = await fetch(`${a.url}/v1/orgs/${orgId}/bindings/${binding.id}`, {
      method: 'DELETE',
      headers: { ...headers, 'x-orgkit-user': admin },
    })
    if (revoked.status !== 200) throw new Error(`revoke: ${revoked.status}`)
    const written = performance.now()
    while (await ask()) await new Promise((r) => setImmediate(r))
    delays.push(performance.now() - written)
    void started
  }
  delays.sort((x, y) => x - y)
  const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!
  return { p50: at(0.5), p99: at(0.99), max: delays.at(-1)! }
}

console.log(
  `Orgkit over HTTP — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
    `load from ${LOADGEN}, ${SECONDS} s per run`,
)
console.log(`load average at start: ${load()}`)
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`
/** How many answers took the instance itself over 1 ms (`Run.serverOver1ms`), when it says. */
const inServer = (run: Run) =>
  run.serverOver1ms === null ? '' : `${(run.serverOver1ms * 100).toFixed(2)} % over 1 ms in the server, `
/** The run of median throughput. */
const median = (runs: Run[]) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!
/** Throughput and p99 from the lowest to the highest across runs. */
const spread = (runs: Run[]) => {
  const range = (values: number[], show: (n: number) => string) =>
    `${show(Math.min(...values))}–${show(Math.max(...values))}`
  return `${range(
    runs.map((r) => r.rps),
    fmt,
  )} req/s, p99 ${range(
    runs.map((r) => r.p99),
    ms,
  )}`
}
// The ceiling: plain node:http answering the same requests with a constant, measured beside each size.
const ceiling = await startInstance('', 'ceiling')
try {
  for (const size of SIZES) {
    const schema = `orgkit_bench_${size}`
    console.log(`\n## ~${fmt(size)} bindings (schema ${schema})`)
    const world = await loadWorld(DATABASE_URL, schema, size)
    const engine = await startInstance(schema, 'engine')
    const baseline = await startInstance(schema, 'sql')
    try {
      await measure(world, engine, baseline)
    } finally {
      await stopInstance(baseline)
    }
    if (WORKERS > 1) await measureWorkers(world, schema)
    const second = await startInstance(schema, 'engine')
    try {
      const p = await propagation(engine, second, world.token, world.users)
      console.log(
        `  revoke on A → answered by B   p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (${ROUNDS} rounds)`,
      )
    } finally {
      await stopInstance(second)
      await stopInstance(engine)
    }
    console.log(`  load average: ${load()}`)
  }
} finally {
  await stopInstance(ceiling)
}

/** A line per batch size: the engine, the baseline and (when given) the ceiling, 4 connections each. */
async function batches(
  world: { users: number; token: string },
  label: string,
  engine: Instance,
  baseline: Instance,
  ceiling: Instance | null,
) {
  const sizes: { size: number; make: () => object; what: string }[] = BATCHES.map((size) => ({
    size,
    make: () => mixedBatch(world.users, size),
    what: '',
  }))
  // A host product's usual batch: one user's access to a page of resources, the subject named once.
  sizes.push({ size: BATCHES[0]!, make: () => oneUserBatch(world.users, BATCHES[0]!), what: ', one subject' })
  for (const { size, make: batch, what } of sizes) {
    const batchSql = () => ({ ...batch(), atLeastRevision: 1 })
    const options = { connections: 4, bodies: Math.max(40, 40_000 / size) }
    const e2 = await cannon(engine, world.token, '/v1/check/batch', batch, options)
    const b2 = await cannon(baseline, world.token, '/v1/check/batch', batchSql, options)
    const c2 = ceiling && (await cannon(ceiling, world.token, '/v1/check/batch', batch, options))
    line(
      `${label} (${size}/req${what})`,
      e2.rps * size,
      'checks/s',
      b2.rps * size,
      `   p99 ${ms(e2.p99)} per batch, server CPU ${us(e2.cpuPerRequest / size)}/check ` +
        `(baseline ${us(b2.cpuPerRequest / size)}), errors ${e2.errors}/${b2.errors}` +
        (c2
          ? `; plain node:http (JSON in and out) ${fmt(c2.rps * size)} checks/s ${us(c2.cpuPerRequest / size)}/check: ` +
            `Orgkit at ${Math.round((e2.rps / c2.rps) * 100)} %`
          : ''),
    )
  }
}

/** The same questions to N processes sharing one port, one per core (`ORGKIT_WORKERS`), both ways. */
async function measureWorkers(world: { users: number; token: string }, schema: string) {
  const engine = await startInstance(schema, 'engine', WORKERS)
  const baseline = await startInstance(schema, 'sql', WORKERS)
  try {
    const single = () => question(world.users)
    const singleSql = () => ({ ...question(world.users), atLeastRevision: 1 })
    await cannon(engine, world.token, '/v1/check', single, { seconds: 2 })
    await cannon(baseline, world.token, '/v1/check', singleSql, { seconds: 2 })
    const e1 = await cannon(engine, world.token, '/v1/check', single)
    const b1 = await cannon(baseline, world.token, '/v1/check', singleSql)
    line(
      `${WORKERS} procs: single, ${CONNECTIONS} conns`,
      e1.rps,
      'req/s',
      b1.rps,
      `   p50 ${ms(e1.p50)} p99 ${ms(e1.p99)}, server CPU ${us(e1.cpuPerRequest)}/req, errors ${e1.errors}/${b1.errors}`,
    )
    await batches(world, `${WORKERS} procs: batch`, engine, baseline, null)
  } finally {
    await stopInstance(baseline)
    await stopInstance(engine)
  }
}

async function measure(world: { users: number; token: string }, engine: Instance, baseline: Instance) {
  const single = () => question(world.users)
  const singleSql = () => ({ ...question(world.users), atLeastRevision: 1 })
  // Warm-up: JIT, connection pools, plans.
  await cannon(engine, world.token, '/v1/check', single, { seconds: 2 })
  await cannon(baseline, world.token, '/v1/check', singleSql, { seconds: 2 })
  await cannon(ceiling, world.token, '/v1/check', single, { seconds: 2 })
  for (const connections of [CONNECTIONS, FEW_CONNECTIONS]) {
    // The tail moves from run to run on a shared machine: RUNS runs each, Orgkit and plain node:http
    // alternated, the median run (by throughput) printed with the spread of p99 across runs.
    const runs: Run[] = []
    const ceilings: Run[] = []
    for (let i = 0; i < RUNS; i++) {
      runs.push(await cannon(engine, world.token, '/v1/check', single, { connections }))
      ceilings.push(await cannon(ceiling, world.token, '/v1/check', single, { connections }))
    }
    const b1 = await cannon(baseline, world.token, '/v1/check', singleSql, { connections })
    const e1 = median(runs)
    const c1 = median(ceilings)
    line(
      `single check, ${connections} conns`,
      e1.rps,
      'req/s',
      b1.rps,
      `   p50 ${ms(e1.p50)} p99 ${ms(e1.p99)} (${RUNS} runs: ${spread(runs)}; baseline ${ms(b1.p99)}), ` +
        `${inServer(e1)}` +
        `server CPU ${us(e1.cpuPerRequest)}/req (baseline ${us(b1.cpuPerRequest)}), errors ${e1.errors}/${b1.errors}; ` +
        `plain node:http ${fmt(c1.rps)} req/s p99 ${ms(c1.p99)} (${spread(ceilings)}) ${us(c1.cpuPerRequest)}/req: ` +
        `Orgkit at ${Math.round((e1.rps / c1.rps) * 100)} %`,
    )
  }

  await batches(world, 'batch check', engine, baseline, ceiling)

  const list = () => ({
    subject: { type: 'user', id: md5uuid(`u${random(world.users)}`) },
    permission: 'app.read',
    type: 'app',
  })
  const listSql = () => ({ ...list(), atLeastRevision: 1 })
  const e3 = await cannon(engine, world.token, '/v1/list-resources', list)
  const b3 = await cannon(baseline, world.token, '/v1/list-resources', listSql)
  line(
    'list-resources',
    e3.rps,
    'req/s',
    b3.rps,
    `   p99 ${ms(e3.p99)} (baseline ${ms(b3.p99)}), server CPU ${us(e3.cpuPerRequest)}/req ` +
      `(baseline ${us(b3.cpuPerRequest)}), errors ${e3.errors}/${b3.errors}`,
  )
}
