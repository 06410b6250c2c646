#!/usr/bin/env node
// `npm run bench:light`: how light and quick Orgkit is (issue 25), every figure beside the same figure of a
// baseline — by default the commit before this one — measured in the same run, the two trees alternated.
//   first start   `npm start` on an empty data folder, to the first 200 from /healthz (console already built)
//   second start  `npm start` again on that folder
//   CPU to /healthz  every process of `npm start`'s session (npm, its shell, the steps before the server,
//                 the server): user + system seconds when /healthz answered; a busy machine stretches the
//                 wall-clock time, much less this
//   idle RSS      the server process's resident memory 3 s after its second start answered
//   with N bindings  (--bindings N, default 100000; 0 skips) a start on an embedded folder holding the HTTP
//                 benches' world (packages/server/bench/world.ts: orgs of 25 users, 4 bindings each): time
//                 and CPU to /healthz, idle RSS; beside the empty folder's, the cost of N bindings
//   writes        (--write-rounds, default 2; 0 skips) packages/server/bench/write-latency.bench.ts, one at a
//                 time: user create, member add, binding create, member role change; p50 / p99 / the Orgkit
//                 process's CPU per write, ms, and PostgreSQL's own where it can be read, on the embedded database and
//                 on PostgreSQL; beside them on PostgreSQL, the machine's floor: binding create's round trips
//                 and durable commit from a bare node:http + pg server (write-floor-server.ts)
//   1M start      (--large N, default 1000000; 0 skips) `npm start` on a PostgreSQL database holding world.ts's
//                 world of N bindings (each tree its own copy, made from one template database), after an
//                 untimed start that migrates it and stores the engine's state: time and CPU to /healthz
//                 (the engine is loaded before the server listens), idle RSS
//   sign-in page  the JS and CSS index.html loads (raw / gzip -9 / brotli 11), and in Chromium: the time
//                 until the sign-in form takes input, and the bytes the browser received for it
// Each tree starts once untimed first (its CLI bundle and data-folder template made if stale).
// Usage: node tools/bench-light.mjs [--base <commit or checkout>] [--rounds 3] [--bindings 100000]
//          [--write-rounds 2] [--large 1000000] [--database-url postgres://…] [--json <file>]
// --base is a commit (default HEAD~1: a worktree in /tmp/orgkit-bench-base-<sha>, `npm ci` run in it once)
// or a checkout's folder with its own node_modules. PostgreSQL: --database-url, else ORGKIT_BENCH_DATABASE_URL,
// else ORGKIT_TEST_DATABASE_URL, else the local test database; the bench creates and drops its own databases
// there (the world's template, orgkit_bench_world_<N>, is kept between runs: loading 1M takes minutes).
import { execFileSync, execSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD~1' },
    rounds: { type: 'string', default: '3' },
    bindings: { type: 'string', default: '100000' },
    'write-rounds': { type: 'string', default: '2' },
    large: { type: 'string', default: '1000000' },
    'database-url': { type: 'string' },
    json: { type: 'string' },
  },
})
const here = resolve(fileURLToPath(import.meta.url), '..', '..')
const git = (...argv) => execFileSync('git', argv, { cwd: here }).toString().trim()
const DATABASE_URL =
  args['database-url'] ??
  process.env.ORGKIT_BENCH_DATABASE_URL ??
  process.env.ORGKIT_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test'

/** The baseline checkout: a folder given as --base, or a worktree of the commit --base names. */
function baselineTree(base) {
  if (existsSync(join(base, 'package.json'))) {
    const dir = resolve(base)
    return {
      dir,
      label: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir }).toString().trim(),
    }
  }
  const sha = git('rev-parse', '--short', `${base}^{commit}`)
  const dir = `/tmp/orgkit-bench-base-${sha}`
  if (!existsSync(join(dir, 'package.json'))) {
    rmSync(dir, { recursive: true, force: true })
    git('worktree', 'prune')
    git('worktree', 'add', '--detach', dir, sha)
  }
  if (!existsSync(join(dir, 'node_modules', '.package-lock.json'))) {
    console.log(`baseline ${sha}: npm ci in ${dir}`)
    execSync('npm ci --no-audit --no-fund --loglevel=error', {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  return { dir, label: sha }
}

const base = baselineTree(args.base)
const trees = [
  {
    name: `this tree (${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+' : ''})`,
    dir: here,
  },
  { name: `baseline (${base.label})`, dir: base.dir },
]
const CHROMIUM = process.env.ORGKIT_CHROMIUM ?? '/usr/bin/chromium'

/**
 * A port free now, from the kernel (a counter from 39400 sat in the ephemeral range, where an outgoing
 * connection once held one: EADDRINUSE).
 */
const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })

/** Runs `npm start` in a tree on a free port; resolves when /healthz answers, with the time it took and a stop(). */
async function start(tree, dataDir, databaseUrl = '') {
  const port = await freePort() // before the clock starts
  // A database of its own needs the key that seals its secrets, the same at every start.
  const began = performance.now()
  const child = spawn('npm', ['start', '--silent'], {
    cwd: tree.dir,
    detached: true, // its own process group, so stop() ends npm, its shell and the server together
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      ORGKIT_DATA_DIR: dataDir,
      PORT: String(port),
      ORGKIT_DATABASE_URL: databaseUrl,
      ...(databaseUrl ? { ORGKIT_SECRET_KEY: SECRET_KEY } : {}),
    },
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {}
    await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done()))
    // npm may exit before the server has: wait for every process of the group (a server closing writes its
    // engine state and closes its database; the next start must not overlap it).
    for (let waited = 0; waited < 120_000 && groupAlive(child.pid); waited += 50) await sleep(50)
  }
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${tree.name}: npm start exited\n${stderr}`)
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok)
      return {
        seconds: (performance.now() - began) / 1000,
        cpu: sessionCpu(child.pid),
        pid: child.pid,
        port,
        stop,
      }
    await sleep(25)
  }
}

/** The console's build and the CLI's bundle, made now if stale, so that no timed start builds either. */
function buildConsole(tree) {
  execSync('node packages/console/scripts/build-if-stale.mjs', { cwd: tree.dir, stdio: 'ignore' })
  if (existsSync(join(tree.dir, 'packages', 'cli', 'scripts', 'bundle.mjs')))
    execSync('node packages/cli/scripts/bundle.mjs', { cwd: tree.dir, stdio: 'ignore' })
}

/** Whether any process of session `pgid` (npm start's, detached: its own session and group) still runs. */
function groupAlive(pgid) {
  try {
    return execSync(`ps -o pid= -s ${pgid}`).toString().trim() !== ''
  } catch {
    return false // ps exits 1 when it lists nothing
  }
}

/** CPU seconds of a session's processes, with the children each has waited for (the steps before). */
function sessionCpu(sessionId) {
  const pids = execSync(`ps -o pid= -s ${sessionId}`).toString().trim().split(/\s+/)
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {} // ended meanwhile: its parent has counted it
  }
  return ticks / 100 // USER_HZ
}

/** A folder holding world.ts's world with `bindings` bindings, made through the tree's own sources. */
function worldFolder(tree, bindings) {
  const parent = mkdtempSync(join(tmpdir(), 'orgkit-bench-world-'))
  const world = join(tree.dir, 'packages', 'server', 'bench', 'world.ts')
  // A baseline from before world.ts: this tree's, which only uses the store's openStore, migrate and tokens.
  if (!existsSync(world)) cpSync(join(here, 'packages', 'server', 'bench', 'world.ts'), world)
  // loadWorld opens ./.orgkit (its url empty: the embedded database) and loads it in the schema public.
  const code = `process.chdir(${JSON.stringify(parent)}); const { loadWorld } = await import(${JSON.stringify(world)}); await loadWorld('', 'public', ${bindings})`
  execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@orgkit/source', '--input-type=module', '-e', code],
    {
      cwd: tree.dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ORGKIT_DATABASE_URL: '' },
    },
  )
  return join(parent, '.orgkit')
}

/**
 * Resident memory of the server, in MB: the node process of npm's session that runs orgkit.js (not npm's
 * sh -c) with the most. On PostgreSQL under glibc the server runs in a child of bin/orgkit.js (the huge-page
 * start): that parent's private memory is added (its pages shared with the server, Node's own, count once).
 */
function serverRss(sessionId) {
  const lines = execSync(`ps -o pid=,rss=,args= -s ${sessionId}`).toString().trim().split('\n')
  const servers = lines
    .filter((line) => /^\s*\d+\s+\d+\s+(?:\S*\/)?node\s.*orgkit\.js start/.test(line))
    .map((line) => line.trim().split(/\s+/).slice(0, 2).map(Number))
    .sort((a, b) => b[1] - a[1])
  if (servers.length === 0) return Number.NaN
  const [[, rss], ...others] = servers
  return (rss + others.reduce((sum, [pid]) => sum + privateKb(pid), 0)) / 1024
}

/** A process's private resident memory (kB), from /proc/<pid>/smaps_rollup. */
function privateKb(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  return [...rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  )
}

/** The JS and CSS that index.html loads (scripts, module preloads, stylesheets), and their sizes. */
function signInAssets(tree) {
  const dist = join(tree.dir, 'packages', 'console', 'dist')
  const html = readFileSync(join(dist, 'index.html'), 'utf8')
  const sizes = { js: [0, 0, 0], css: [0, 0, 0] }
  for (const [, path] of html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)) {
    const raw = readFileSync(join(dist, path))
    const kind = path.endsWith('.css') ? 'css' : 'js'
    const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
    for (const [i, n] of [raw.length, gzipSync(raw, { level: 9 }).length, br.length].entries())
      sizes[kind][i] += n
  }
  return sizes
}

/** The sign-in page's sizes; a parallel build (another `npm test` in this tree) may replace dist/ meanwhile. */
function signInAssetsOnceBuilt(tree) {
  for (let attempt = 1; ; attempt++) {
    try {
      return signInAssets(tree)
    } catch (error) {
      if (error.code !== 'ENOENT' || attempt === 5) throw error
      buildConsole(tree)
    }
  }
}

/** Chromium, a fresh profile: /login until its Email field takes input; the bytes received meanwhile. */
async function signInInBrowser(browser, port) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  let bytes = 0
  cdp.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength
  })
  const began = performance.now()
  await page.goto(`http://127.0.0.1:${port}/login`)
  await page.getByLabel('Email').first().waitFor({ state: 'visible', timeout: 60_000 })
  await page.waitForFunction(() => !document.querySelector('input[disabled]'))
  const seconds = (performance.now() - began) / 1000
  await page.waitForLoadState('networkidle')
  await context.close()
  return { seconds, kB: bytes / 1000 }
}

const SECRET_KEY = randomBytes(32).toString('base64')

/** Runs SQL on the PostgreSQL server of DATABASE_URL (its own database), through psql. */
function psql(statement, url = DATABASE_URL) {
  const argv = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', statement]
  return execFileSync('psql', argv, {
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
    stdio: ['ignore', 'pipe', 'pipe'], // psql's error is in the thrown error's message
  })
    .toString()
    .trim()
}
const databaseUrl = (name) => {
  const url = new URL(DATABASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * The template database holding world.ts's world of `bindings` bindings, loaded once (kept between runs) by
 * the baseline's sources, so each tree's first start migrates it forward as an upgrade would.
 */
function largeTemplate(tree, bindings) {
  const name = `orgkit_bench_world_${bindings}`
  const mark = `orgkit bench world ${bindings}, loaded by ${tree.name}`
  const present = psql(
    `select shobj_description(oid, 'pg_database') from pg_database where datname = '${name}'`,
  )
  if (present.startsWith(`orgkit bench world ${bindings},`)) return name
  console.log(`loading ${bindings.toLocaleString('en-US')} bindings into database ${name} (minutes, once)`)
  psql(`drop database if exists ${name} with (force)`)
  psql(`create database ${name}`)
  const world = join(tree.dir, 'packages', 'server', 'bench', 'world.ts')
  if (!existsSync(world)) cpSync(join(here, 'packages', 'server', 'bench', 'world.ts'), world)
  // Bulk-loaded at revision 1 with no change-feed row: one written as a write would (no changes), so a
  // stored state has a revision to name. MACed (a tree with the authenticated feed) under a bench key: no start
  // verifies it, as each tree's first start stores a state at or after it.
  const code = `const { loadWorld } = await import(${JSON.stringify(world)}); await loadWorld(${JSON.stringify(databaseUrl(name))}, 'public', ${bindings})
    const { openStore, recordChanges } = await import('@orgkit/store')
    const server = await import('@orgkit/server')
    const mac = server.changeFeedMac ? server.changeFeedMac(await server.loadKeyring('bench:' + 'be'.repeat(32), {})) : undefined
    const store = await openStore({ url: ${JSON.stringify(databaseUrl(name))}, poolSize: 1 })
    await store.db.transaction().execute((tx) => recordChanges(tx, [], mac))
    await store.close()`
  execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@orgkit/source', '--input-type=module', '-e', code],
    { cwd: tree.dir, stdio: ['ignore', 'ignore', 'inherit'] },
  )
  psql(`comment on database ${name} is '${mark}'`)
  return name
}

/** Each tree's own copy of the large world, migrated and with its engine state stored by an untimed start. */
async function largeDatabase(tree, template, index) {
  const name = `orgkit_bench_large_${index}`
  psql(`drop database if exists ${name} with (force)`)
  psql(`create database ${name} template ${template}`)
  // One data folder per tree for all its starts: it holds the secret key that seals what the database keeps.
  const dataDir = join(mkdtempSync(join(tmpdir(), 'orgkit-bench-large-')), 'data')
  const url = databaseUrl(name)
  await (await start(tree, dataDir, url)).stop()
  // The timed starts are meant to restore it: say so when there is none (a tree from before issue 25.4).
  const states = psql(
    "select case when to_regclass('engine_snapshots') is null then 0 else (select count(*) from engine_snapshots) end",
    url,
  )
  if (states === '0') console.log(`${tree.name}: no engine state stored; its large starts load from rows`)
  return { name, url, dataDir }
}

/** write-latency.bench.ts, one at a time, this tree against the baseline; `baselineFirst` alternates. */
function writeLatency(baselineDir, baselineFirst) {
  const out = join(mkdtempSync(join(tmpdir(), 'orgkit-bench-writes-')), 'writes.json')
  execFileSync(
    'npx',
    [
      'tsx',
      '--conditions=@orgkit/source',
      join(here, 'packages', 'server', 'bench', 'write-latency.bench.ts'),
    ],
    {
      cwd: here,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        ORGKIT_BENCH_DATABASE_URL: DATABASE_URL,
        WRITE_BENCH_BASELINE: baselineDir,
        WRITE_BENCH_BASELINE_FIRST: baselineFirst ? '1' : '0',
        WRITE_BENCH_CONCURRENT: '0',
        WRITE_BENCH_SERIAL: process.env.WRITE_BENCH_SERIAL ?? '200',
        WRITE_BENCH_JSON: out,
      },
    },
  )
  const figures = JSON.parse(readFileSync(out, 'utf8'))
  rmSync(resolve(out, '..'), { recursive: true, force: true })
  return figures
}

const results = new Map(trees.map((tree) => [tree.name, {}]))
const note = (tree, key, value) => {
  const all = results.get(tree.name)
  all[key] = [...(all[key] ?? []), value]
}

console.log(
  `load average at start: ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`,
)
const { chromium } = await import('playwright-core')
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
const bindings = Number(args.bindings)
const worlds = new Map()
for (const tree of trees) {
  buildConsole(tree)
  const dataDir = join(mkdtempSync(join(tmpdir(), 'orgkit-bench-start-')), 'data')
  await (await start(tree, dataDir)).stop() // untimed: makes what a first start makes once
  rmSync(resolve(dataDir, '..'), { recursive: true, force: true })
  if (bindings) worlds.set(tree.name, worldFolder(tree, bindings))
}
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const tree of round % 2 ? trees : [...trees].reverse()) {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'orgkit-bench-start-')), 'data')
    try {
      buildConsole(tree) // not timed: the bar is a start after the console is built
      const sizes = signInAssetsOnceBuilt(tree)
      const first = await start(tree, dataDir)
      await first.stop()
      const second = await start(tree, dataDir)
      await sleep(3000)
      note(tree, 'idle RSS (MB)', serverRss(second.pid))
      const signIn = await signInInBrowser(browser, second.port)
      await second.stop()
      note(tree, 'first start (s)', first.seconds)
      note(tree, 'first start, CPU (s)', first.cpu)
      note(tree, 'second start (s)', second.seconds)
      note(tree, 'second start, CPU (s)', second.cpu)
      if (bindings) {
        const large = join(resolve(dataDir, '..'), 'world')
        cpSync(worlds.get(tree.name), large, { recursive: true })
        const started = await start(tree, large)
        await sleep(3000)
        note(tree, `${bindings} bindings: idle RSS (MB)`, serverRss(started.pid))
        await started.stop()
        note(tree, `${bindings} bindings: start (s)`, started.seconds)
        note(tree, `${bindings} bindings: start, CPU (s)`, started.cpu)
      }
      note(tree, 'sign-in ready in Chromium (s)', signIn.seconds)
      note(tree, 'sign-in bytes received (kB)', signIn.kB)
      const kB = (sizes) => sizes.map((n) => (n / 1000).toFixed(0)).join(' / ')
      results.get(tree.name)['sign-in JS raw / gzip / br (kB)'] = [kB(sizes.js)]
      results.get(tree.name)['sign-in CSS raw / gzip / br (kB)'] = [kB(sizes.css)]
      console.log(
        `round ${round}, ${tree.name}: first ${first.seconds.toFixed(2)} s, second ${second.seconds.toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
      )
    } finally {
      rmSync(resolve(dataDir, '..'), { recursive: true, force: true })
    }
  }
}
await browser.close()
for (const folder of worlds.values()) rmSync(resolve(folder, '..'), { recursive: true, force: true })

const large = Number(args.large)
if (large) {
  const template = largeTemplate(trees[1], large)
  const databases = new Map()
  for (const [index, tree] of trees.entries())
    databases.set(tree.name, await largeDatabase(tree, template, index))
  const label = `${(large / 1e6).toLocaleString('en-US')}M bindings (PostgreSQL)`
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const tree of round % 2 ? trees : [...trees].reverse()) {
      const { url, dataDir } = databases.get(tree.name)
      buildConsole(tree) // not timed
      const started = await start(tree, dataDir, url)
      await sleep(3000)
      note(tree, `${label}: idle RSS (MB)`, serverRss(started.pid))
      await started.stop()
      note(tree, `${label}: start (s)`, started.seconds)
      note(tree, `${label}: start, CPU (s)`, started.cpu)
      console.log(
        `round ${round}, ${tree.name}: ${label} ${started.seconds.toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
      )
    }
  }
  for (const { name, dataDir } of databases.values()) {
    psql(`drop database if exists ${name} with (force)`)
    rmSync(resolve(dataDir, '..'), { recursive: true, force: true })
  }
}

for (let round = 1; round <= Number(args['write-rounds']); round++) {
  const figures = writeLatency(trees[1].dir, round % 2 === 0)
  for (const [database, { current, baseline, floor }] of Object.entries(figures)) {
    // The machine's floor (a bare node:http + pg server, write-latency.bench.ts): one figure, this tree's column.
    if (floor)
      note(trees[0], `write floor, ${database}: bare node:http + pg, p50 / p99 / its CPU (ms)`, [
        floor.p50,
        floor.p99,
        floor.cpu,
      ])
    for (const [tree, lines] of [
      [trees[0], current],
      [trees[1], baseline],
    ])
      for (const line of lines) {
        note(tree, `write, ${database}: ${line.op} p50 / p99 / Orgkit CPU (ms)`, [
          line.p50,
          line.p99,
          line.cpu,
        ])
        // PostgreSQL's own CPU per write (its backends serving the bench's server), where it could be read.
        if (line.db != null) note(tree, `write, ${database}: ${line.op} PostgreSQL CPU (ms)`, line.db)
      }
  }
  console.log(`write round ${round} (load ${loadavg()[0].toFixed(1)})`)
}

/** min–max of each figure over the rounds; a row of several figures (p50 / p99 / CPU) gives each its own. */
const range = (values) => {
  if (typeof values[0] === 'string') return values[0]
  if (Array.isArray(values[0])) return values[0].map((_, i) => range(values.map((v) => v[i]))).join(' / ')
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const digits = hi >= 99.5 ? 0 : hi >= 9.95 ? 1 : 2
  return lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`
}
const median = (values) => {
  const sorted = values.map((v) => (Array.isArray(v) ? v[0] : v)).sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
/** This tree's median over the baseline's (of the first figure of a row): below 1 is better, for every row. */
const ratio = (row) => {
  const [mine, theirs] = trees.map((t) => results.get(t.name)[row])
  if (!mine || !theirs || typeof mine[0] === 'string') return ''
  return `${(median(mine) / median(theirs)).toFixed(2)}x`
}
const rows = Object.keys(results.get(trees[0].name))
const width = Math.max(...rows.map((row) => row.length))
const column = Math.max(
  24,
  ...rows.flatMap((row) => trees.map((t) => range(results.get(t.name)[row] ?? ['']).length + 2)),
)
console.log(`\n${''.padEnd(width)}  ${trees.map((tree) => tree.name.padEnd(column)).join('')}ratio`)
for (const row of rows)
  console.log(
    `${row.padEnd(width)}  ${trees.map((t) => range(results.get(t.name)[row] ?? ['']).padEnd(column)).join('')}${ratio(row)}`,
  )
console.log(
  `\n${args.rounds} rounds, ${args['write-rounds']} write rounds; ${cpus().length} × ${cpus()[0].model}; ` +
    `load average at end: ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
)
if (args.json)
  writeFileSync(
    args.json,
    JSON.stringify(Object.fromEntries(trees.map((t) => [t.name, results.get(t.name)])), null, 2),
  )
