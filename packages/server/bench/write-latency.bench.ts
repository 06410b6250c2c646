import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { Agent, request } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { describeSlices, type Window } from './write-slices.ts'

/**
 * Write latency over HTTP (issue 25.3): user create (`POST /v1/users`), member add
 * (`POST /v1/orgs/{id}/members`) and binding create (`POST /v1/orgs/{id}/bindings`, a role on an app), each
 * through the whole write path — validation, authorization, the org lock, the engine's catch-up, the write,
 * its audit entry (hash chain), the webhook outbox, the change feed, the engine applying it — one at a time,
 * then at WRITERS (16) concurrent writers in one org and across WRITERS orgs. The users one phase creates
 * are the members the next adds and the principals the last binds, so no write is setup.
 *
 * The server runs in a process of its own (write-server.ts); the clients run here, on keep-alive HTTP.
 * On the embedded database, and on PostgreSQL (ORGKIT_BENCH_DATABASE_URL, else ORGKIT_TEST_DATABASE_URL,
 * else the local test database; WRITE_BENCH_DATABASES=pglite or postgres picks one).
 *
 * WRITE_BENCH_BASELINE=<commit> runs the same phases against that commit's server (a git worktree in
 * /tmp, its packages linked over this tree's node_modules), both servers up at once, each phase cut into
 * WRITE_BENCH_ROUNDS (10) rounds that take turns between them, and prints both; a directory instead of a
 * commit is taken as that checkout, with its own node_modules (tools/bench-light.mjs).
 * WRITE_BENCH_CONCURRENT=0 runs only the one-at-a-time writes; WRITE_BENCH_JSON=<file> also writes the
 * figures there, `{ [database]: { current, baseline, floor } }`.
 * WRITE_BENCH_SLICES=1 cuts each one-at-a-time write on the server into slices (write-slices.ts): before its
 * first statement, each round trip to the database, the JavaScript between them, after the last answer;
 * printed per kind of write, medians in µs.
 * On PostgreSQL, binding create one at a time is also measured on the machine's floor (write-floor-server.ts: bare
 * `node:http` + pg, the same round trips and durable commit, nothing of Orgkit's), in the same rounds, and
 * printed under the table: what any durable write over HTTP costs here. WRITE_BENCH_FLOOR=0 leaves it out.
 * WRITE_BENCH_CPU_PROF=<dir> starts the server under `node --cpu-prof` (a .cpuprofile per server) and
 * appends each timed round's window to <dir>/phases.jsonl: `cpu-breakdown.ts <dir>` splits a write's CPU
 * by where it went.
 *
 *   npx tsx --conditions=@orgkit/source packages/server/bench/write-latency.bench.ts
 *
 * Not part of `npm test`.
 */
const PG_URL =
  process.env.ORGKIT_BENCH_DATABASE_URL ??
  process.env.ORGKIT_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test'
const DATABASES = (process.env.WRITE_BENCH_DATABASES ?? 'pglite,postgres').split(',') as Kind[]
/** Writes of each kind one at a time (after WARMUP), and per writer when WRITERS write at once. */
const SERIAL = Number(process.env.WRITE_BENCH_SERIAL ?? 300)
const WRITERS = Number(process.env.WRITE_BENCH_WRITERS ?? 16)
const PER_WRITER = Number(process.env.WRITE_BENCH_PER_WRITER ?? 25)
const WARMUP = Number(process.env.WRITE_BENCH_WARMUP ?? 50)
const BASELINE = process.env.WRITE_BENCH_BASELINE
const CPU_PROF = process.env.WRITE_BENCH_CPU_PROF
const CONCURRENT = process.env.WRITE_BENCH_CONCURRENT !== '0'
const JSON_OUT = process.env.WRITE_BENCH_JSON
/** Where the servers leave their slices (WRITE_BENCH_SLICES=1), a file per server. */
const SLICES = process.env.WRITE_BENCH_SLICES === '1' ? mkdtempSync(join(tmpdir(), 'orgkit-slices-')) : null
const TARGET = { p50: 3, p99: 10 }

type Kind = 'pglite' | 'postgres'
type Op = 'user create' | 'member add' | 'binding create' | 'member roles'
interface Line {
  op: Op
  scenario: string
  p50: number
  p99: number
  n: number
  /** The server process's CPU time per write (user + system), ms: what the machine's load barely moves. */
  cpu: number
  /** PostgreSQL's CPU per write, ms: its backends serving this server (null on the embedded database). */
  db: number | null
}

const here = fileURLToPath(new URL('.', import.meta.url))
const root = join(here, '../../..')
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

/** A baseline commit's tree beside this one: its own packages, every other dependency this tree's. */
function baselineTree(commit: string): string {
  if (existsSync(join(commit, 'package.json'))) return commit
  const sha = execFileSync('git', ['rev-parse', '--short', commit], { cwd: root }).toString().trim()
  const dir = `/tmp/orgkit-write-bench-${sha}`
  if (!existsSync(dir))
    execFileSync('git', ['worktree', 'add', '--quiet', '--detach', dir, sha], { cwd: root })
  const modules = join(dir, 'node_modules')
  if (!existsSync(modules)) {
    mkdirSync(join(modules, '@orgkit'), { recursive: true })
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name !== '@orgkit') symlinkSync(join(root, 'node_modules', name), join(modules, name))
    }
    for (const name of readdirSync(join(root, 'node_modules/@orgkit')))
      symlinkSync(join(dir, 'packages', name), join(modules, '@orgkit', name))
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const own = join(root, 'packages', pkg, 'node_modules')
      if (existsSync(own) && !existsSync(join(dir, 'packages', pkg, 'node_modules')))
        symlinkSync(own, join(dir, 'packages', pkg, 'node_modules'))
    }
  }
  return dir
}

async function startServer(kind: Kind, tree: string, schema: string, script = 'write-server.ts') {
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true })
  const args = [
    ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []),
    '--import',
    'tsx',
    '--conditions=@orgkit/source',
    join(here, script),
  ]
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      WRITE_BENCH_SERVER: join(tree, 'packages/server/src/server.ts'),
      ...(kind === 'postgres' ? { WRITE_BENCH_URL: PG_URL, WRITE_BENCH_SCHEMA: schema } : {}),
      ...(SLICES ? { WRITE_BENCH_SLICES: join(SLICES, `${schema}.json`) } : {}),
    },
  })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)))
  })
  return { child, ...(JSON.parse(line) as { url: string; token: string }) }
}

async function stopServer(child: ChildProcess, kind: Kind, schema: string) {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`drop schema if exists "${schema}" cascade`)
    await admin.end()
  }
}

function client(base: string, token: string) {
  return (path: string, body: unknown, as?: string, method = 'POST') =>
    new Promise<{ status: number; body: Record<string, string> }>((resolve, reject) => {
      const payload = JSON.stringify(body)
      const req = request(
        `${base}${path}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            ...(as ? { 'x-orgkit-user': as } : {}),
          },
        },
        (res) => {
          let raw = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => {
            raw += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(raw) }))
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
}

/** CPU seconds a process has used (utime + stime from /proc, in clock ticks of 10 ms). */
const cpuOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * The PostgreSQL backends serving the bench's server (every pool of it names its sessions after its schema,
 * store/connect.ts), with their CPU seconds: the database is on this machine, so /proc has them.
 */
async function backendsCpu(schema: string | null): Promise<Map<number, number> | null> {
  if (schema === null) return null
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    const { rows } = await admin.query<{ pid: number; application_name: string }>(
      'select pid, application_name from pg_stat_activity where application_name like $1',
      [`%:${schema}`],
    )
    // A server from before its main pool was named shows only its listener: unknown, not its CPU.
    if (!rows.some((r) => r.application_name === `orgkit:${schema}`)) return null
    const cpu = new Map<number, number>()
    for (const { pid } of rows) {
      try {
        cpu.set(pid, cpuOf(pid))
      } catch {
        // Ended between the query and the read: its CPU is lost to both ends of the phase alike.
      }
    }
    return cpu
  } finally {
    await admin.end()
  }
}

async function synchronousCommit(): Promise<string> {
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    return (await admin.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!
      .synchronous_commit
  } finally {
    await admin.end()
  }
}

/** CPU seconds the backends used between two readings (a backend started meanwhile counts from zero). */
const backendsUsed = (from: Map<number, number>, to: Map<number, number>) =>
  [...to].reduce((sum, [pid, cpu]) => sum + cpu - (from.get(pid) ?? 0), 0)

const microseconds = () => Number(process.hrtime.bigint() / 1000n)

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

/** Runs `count` writes in each of `writers` loops at once; the milliseconds each took, unsorted. */
async function timed(writers: number, count: number, one: (writer: number, i: number) => Promise<void>) {
  const times: number[] = []
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < count; i++) {
        const started = performance.now()
        await one(w, i)
        times.push(performance.now() - started)
      }
    }),
  )
  return times
}

/** A server under test, set up for the timed writes: its admin, orgs (each with an app) and the people made. */
interface Subject {
  label: string
  kind: Kind
  schema: string
  child: ChildProcess
  pid: number
  ok: (
    path: string,
    body: unknown,
    as?: string,
    status?: number,
    method?: string,
  ) => Promise<Record<string, string>>
  admin: string
  orgs: { id: string; app: string }[]
  /** The member whose roles `member roles` sets back and forth. */
  firstMember: string
  /** The users each writer made, in order: the members the next phase adds and binds. */
  people: string[][]
  emails: number
  loadBefore: string
  /** Each one-at-a-time phase's timed windows, by kind of write (WRITE_BENCH_SLICES). */
  windows: Map<Op, Window[]>
}

async function prepare(kind: Kind, label: string, tree: string): Promise<Subject> {
  const schema = `orgkit_write_bench_${randomUUID().replaceAll('-', '').slice(0, 8)}`
  const loadBefore = load()
  const { child, url, token } = await startServer(kind, tree, schema)
  const post = client(url, token)
  const ok = async (path: string, body: unknown, as?: string, status = 201, method = 'POST') => {
    const reply = await post(path, body, as, method)
    if (reply.status !== status) throw new Error(`${path}: ${reply.status} ${JSON.stringify(reply.body)}`)
    return reply.body
  }
  const s: Subject = {
    ...{ label, kind, schema, child, pid: child.pid!, ok, admin: '', orgs: [], firstMember: '' },
    ...{ people: [], emails: 0, loadBefore, windows: new Map() },
  }
  s.admin = (await ok('/v1/users', { email: 'admin@bench.test', name: 'Admin' })).id!
  for (let i = 0; i < WRITERS; i++) {
    const id = (await ok('/v1/orgs', { name: `Bench ${i}` }, s.admin)).id!
    const app = (await ok(`/v1/orgs/${id}/resources`, { type: 'app', name: 'app' }, s.admin)).id!
    s.orgs.push({ id, app })
  }
  // Warm-up: every route and the JIT once, untimed.
  for (let i = 0; i < WARMUP; i++) {
    const id = await user(s)
    s.firstMember ||= id
    await member(s, s.orgs[0]!, id)
    await binding(s, s.orgs[0]!, id)
  }
  return s
}

/**
 * The machine's floor beside Orgkit (PostgreSQL only): write-floor-server.ts, a bare `node:http` server
 * making binding create's round trips with a durable commit and nothing of Orgkit's. It takes the binding
 * create phase one at a time, in the same rounds as the servers under test.
 */
async function prepareFloor(): Promise<Subject> {
  const schema = `orgkit_write_floor_${randomUUID().replaceAll('-', '').slice(0, 8)}`
  const loadBefore = load()
  const { child, url } = await startServer('postgres', root, schema, 'write-floor-server.ts')
  const post = client(url, 'none')
  const ok = async (path: string, body: unknown, as?: string, status = 201, method = 'POST') => {
    const reply = await post(path, body, as, method)
    if (reply.status !== status) throw new Error(`floor ${path}: ${reply.status}`)
    return reply.body
  }
  const s: Subject = {
    ...{ label: 'floor', kind: 'postgres', schema, child, pid: child.pid!, ok, admin: 'none' },
    ...{ orgs: [{ id: 'floor-org', app: 'floor-app' }], firstMember: '', people: [], emails: 0 },
    ...{ loadBefore, windows: new Map() },
  }
  for (let i = 0; i < WARMUP * 3; i++) await binding(s, s.orgs[0]!, randomUUID())
  return s
}

const user = async (s: Subject) =>
  (await s.ok('/v1/users', { email: `p${++s.emails}@bench.test`, name: 'Person' })).id!
const member = (s: Subject, org: { id: string }, userId: string) =>
  s.ok(`/v1/orgs/${org.id}/members`, { userId, roles: ['org_member'] })
const binding = (s: Subject, org: { id: string; app: string }, userId: string) =>
  s.ok(
    `/v1/orgs/${org.id}/bindings`,
    { principal: { type: 'user', id: userId }, role: 'app_reader', resourceId: org.app },
    s.admin,
  )

/** Rounds each timed phase is cut into, the subjects taking turns (issue 25.3's pairs). */
const ROUNDS = Number(process.env.WRITE_BENCH_ROUNDS ?? 10)

/**
 * One phase on every subject, in ROUNDS rounds that take turns (the first subject first in even rounds, last
 * in odd ones): a machine whose speed drifts over minutes — this VM's does, by a third of a write's CPU —
 * weighs on each subject alike, where one subject's whole phase after the other's did not. `one(s, w, i)` is
 * writer w's i-th write of the phase on s.
 */
async function phase(
  subjects: Subject[],
  op: Op,
  scenario: string,
  writers: number,
  count: number,
  one: (s: Subject, writer: number, i: number) => Promise<void>,
): Promise<Line[]> {
  const sums = subjects.map(() => ({ times: [] as number[], cpu: 0, db: 0 as number | null }))
  const chunk = Math.ceil(count / ROUNDS)
  for (let round = 0, done = 0; done < count; round++, done += chunk) {
    const n = Math.min(chunk, count - done)
    const turns = subjects.map((_, k) => k)
    if (round % 2 === 1) turns.reverse()
    for (const k of turns) {
      const s = subjects[k]!
      const sum = sums[k]!
      const schema = s.kind === 'postgres' ? s.schema : null
      const backends = await backendsCpu(schema)
      const cpu = cpuOf(s.pid)
      const from = microseconds()
      const times = await timed(writers, n, (w, i) => one(s, w, done + i))
      sum.cpu += cpuOf(s.pid) - cpu
      const backendsAfter = await backendsCpu(schema)
      // A baseline from before the pools were named finds no backend: unknown, not zero.
      if (sum.db !== null)
        sum.db = backends && backendsAfter?.size ? sum.db + backendsUsed(backends, backendsAfter) : null
      sum.times.push(...times)
      if (writers === 1) s.windows.set(op, [...(s.windows.get(op) ?? []), { from, to: microseconds() }])
      // The profile's clock is the monotonic one process.hrtime reads, in microseconds, in every process.
      if (CPU_PROF)
        appendFileSync(
          join(CPU_PROF, 'phases.jsonl'),
          `${JSON.stringify({ pid: s.pid, op, scenario, from, to: microseconds(), writes: times.length })}\n`,
        )
    }
  }
  return sums.map(({ times, cpu, db }) => {
    times.sort((a, b) => a - b)
    return {
      ...{ op, scenario, p50: percentile(times, 50), p99: percentile(times, 99), n: times.length },
      cpu: (cpu * 1000) / times.length,
      db: db === null ? null : (db * 1000) / times.length,
    }
  })
}

/** Every phase on every subject: their lines, in the subjects' order. */
async function phases(
  subjects: Subject[],
  floor: Subject | null,
): Promise<{ lines: Line[][]; floor: Line | null }> {
  const lines: Line[][] = subjects.map(() => [])
  let floorLine: Line | null = null
  const add = (each: Line[]) => {
    for (const [k, line] of each.entries()) lines[k]!.push(line)
  }
  const scenarios = [
    { name: 'one at a time', writers: 1, count: SERIAL, org: (s: Subject) => s.orgs[0]! },
    {
      ...{ name: `${WRITERS} writers, one org`, writers: WRITERS, count: PER_WRITER },
      org: (s: Subject) => s.orgs[0]!,
    },
    {
      ...{ name: `${WRITERS} writers, ${WRITERS} orgs`, writers: WRITERS, count: PER_WRITER },
      org: (s: Subject, w: number) => s.orgs[w]!,
    },
  ]
  // Also the write api.audit-webhooks.test.ts makes 1,000 times: one member's org role set, back and forth.
  const roles = ['org_billing_admin', 'org_member']
  add(
    await phase(subjects, 'member roles', 'one at a time', 1, SERIAL, async (s, _, i) => {
      await s.ok(
        `/v1/orgs/${s.orgs[0]!.id}/members/${s.firstMember}`,
        { roles: [roles[i % 2]] },
        s.admin,
        200,
        'PATCH',
      )
    }),
  )
  for (const c of CONCURRENT ? scenarios : scenarios.slice(0, 1)) {
    for (const s of subjects) s.people = Array.from({ length: c.writers }, () => [])
    const label = c.writers === 1 ? c.name : `${c.writers} writers`
    add(
      await phase(subjects, 'user create', label, c.writers, c.count, async (s, w) => {
        s.people[w]!.push(await user(s))
      }),
    )
    add(
      await phase(subjects, 'member add', c.name, c.writers, c.count, async (s, w, i) => {
        await member(s, c.org(s, w), s.people[w]![i]!)
      }),
    )
    // One at a time, the floor takes its turns in the same rounds (its principals are made up: it has no users).
    const withFloor = c.writers === 1 && floor !== null ? [...subjects, floor] : subjects
    const bound = await phase(withFloor, 'binding create', c.name, c.writers, c.count, async (s, w, i) => {
      await binding(s, c.org(s, w), s === floor ? randomUUID() : s.people[w]![i]!)
    })
    if (withFloor.length > subjects.length) floorLine = bound.pop()!
    add(bound)
  }
  return { lines, floor: floorLine }
}

const ms = (n: number) => n.toFixed(1).padStart(5)
const dbMs = (n: number | null) => (n === null ? '    -' : ms(n))
const verdict = (l: Line) => (l.p50 <= TARGET.p50 && l.p99 <= TARGET.p99 ? 'meets' : 'misses')

console.log(
  `write latency over HTTP, ms (target p50 ≤ ${TARGET.p50}, p99 ≤ ${TARGET.p99} one at a time); ` +
    `${SERIAL} writes one at a time, ${WRITERS}×${PER_WRITER} at once, in ${ROUNDS} rounds taking turns; ` +
    `load average ${load()}`,
)
const baseline = BASELINE ? baselineTree(BASELINE) : null
const figures: Record<string, { current: Line[]; baseline: Line[] | null; floor: Line | null }> = {}
/** WRITE_BENCH_FLOOR=0 leaves the floor out. */
const FLOOR = process.env.WRITE_BENCH_FLOOR !== '0'
for (const kind of DATABASES) {
  // Both servers up at once, the phases' rounds taking turns between them (phase). WRITE_BENCH_BASELINE_FIRST=1
  // gives the baseline the first turn (callers alternate it across runs).
  const baselineFirst = baseline !== null && process.env.WRITE_BENCH_BASELINE_FIRST === '1'
  const trees = [
    { label: 'this tree', tree: root },
    ...(baseline ? [{ label: `baseline ${BASELINE}`, tree: baseline }] : []),
  ]
  if (baselineFirst) trees.reverse()
  const subjects: Subject[] = []
  let floor: Subject | null = null
  let floorLine: Line | null = null
  try {
    for (const t of trees) subjects.push(await prepare(kind, t.label, t.tree))
    if (FLOOR && kind === 'postgres') floor = await prepareFloor()
    const { lines, floor: measured } = await phases(subjects, floor)
    floorLine = measured
    // A commit waits for the disk's flush unless synchronous_commit is off (the tests' databases turn it off).
    const commits = kind === 'postgres' ? `, synchronous_commit ${await synchronousCommit()}` : ''
    for (const s of subjects)
      console.log(`  ${kind}, ${s.label}: load average ${s.loadBefore} at start, ${load()} at end${commits}`)
    const of = (label: string) => lines[subjects.findIndex((s) => s.label === label)] ?? null
    figures[kind] = {
      current: of('this tree')!,
      baseline: baseline ? of(`baseline ${BASELINE}`) : null,
      floor: floorLine,
    }
  } finally {
    for (const s of floor ? [...subjects, floor] : subjects) await stopServer(s.child, kind, s.schema)
  }
  const { current, baseline: before } = figures[kind]!
  console.log(`\n${kind}`)
  console.log(
    `${'write'.padEnd(15)} ${'scenario'.padEnd(22)} ${'p50'.padStart(5)} ${'p99'.padStart(5)} ${'cpu'.padStart(5)} ${'db'.padStart(5)}` +
      (before ? '  | baseline p50   p99   cpu    db' : ''),
  )
  current.forEach((l, i) => {
    const b = before?.[i]
    const serial = l.scenario === 'one at a time' ? `  ${verdict(l)}` : ''
    console.log(
      `${l.op.padEnd(15)} ${l.scenario.padEnd(22)} ${ms(l.p50)} ${ms(l.p99)} ${ms(l.cpu)} ${dbMs(l.db)}` +
        (b ? `  |          ${ms(b.p50)} ${ms(b.p99)} ${ms(b.cpu)} ${dbMs(b.db)}` : '') +
        serial,
    )
  })
  if (floorLine)
    console.log(
      `${'floor'.padEnd(15)} ${'binding create, bare'.padEnd(22)} ${ms(floorLine.p50)} ${ms(floorLine.p99)} ${ms(floorLine.cpu)} ${dbMs(floorLine.db)}` +
        '  (write-floor-server.ts: node:http + pg, the same round trips and durable commit, nothing of Orgkit)',
    )
  if (SLICES) {
    for (const s of subjects) {
      console.log(`\n${kind}, ${s.label}: where a write's time went on the server, one at a time (medians)`)
      const events = JSON.parse(readFileSync(join(SLICES, `${s.schema}.json`), 'utf8'))
      for (const [op, windows] of s.windows) {
        console.log(op)
        for (const line of describeSlices(events, windows)) console.log(line)
      }
    }
  }
}
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(figures))
agent.destroy()
