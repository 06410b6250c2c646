#!/usr/bin/env node
// `npm run bench:start`: how quickly `npm start` answers and how light it sits (issue 25.1, 25.5), beside the
// same figures of a baseline checkout measured in the same run, alternating the two trees each round.
//   first start   `npm start` on an empty data folder, to the first 200 from /healthz (console already built)
//   second start  `npm start` again on that folder
//   CPU to /healthz  every process of `npm start`'s session (npm, its shell, the steps before the server,
//                 the server): user + system seconds when /healthz answered; a busy machine stretches the
//                 wall-clock time, much less this
//   idle RSS      the server process's resident memory 3 s after its second start answered
//   with N bindings  (--bindings N, default 100000; 0 skips) a start on a folder holding the HTTP benches'
//                 world (packages/server/bench/world.ts: orgs of 25 users, 4 bindings each), loaded once per
//                 tree: time and CPU to /healthz, idle RSS; beside the empty folder's, the cost of N bindings
//   sign-in page  the JS and CSS index.html loads (raw / gzip -9 / brotli 11), and in Chromium: the time
//                 until the sign-in form takes input, and the bytes the browser received for it
// Each tree starts once untimed first (its CLI bundle and data-folder template made if stale).
// Usage: node tools/bench-startup.mjs [--base /tmp/orgkit-base] [--rounds 3] [--bindings 100000]
// The baseline is a checkout of the commit to compare with, outside this tree, with its own node_modules:
//   git worktree add --detach /tmp/orgkit-base <commit> && (cd /tmp/orgkit-base && npm ci)
import { execFileSync, execSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: '/tmp/orgkit-base' },
    rounds: { type: 'string', default: '3' },
    bindings: { type: 'string', default: '100000' },
  },
})
const here = resolve(fileURLToPath(import.meta.url), '..', '..')
const trees = [
  { name: 'this tree', dir: here },
  ...(existsSync(join(args.base, 'package.json')) ? [{ name: 'baseline', dir: resolve(args.base) }] : []),
]
if (trees.length === 1) console.log(`no baseline at ${args.base}: measuring this tree only`)
const CHROMIUM = process.env.ORGKIT_CHROMIUM ?? '/usr/bin/chromium'

/** Runs `npm start` in a tree; resolves when /healthz answers, with the time it took and a stop(). */
async function start(tree, dataDir, port) {
  const began = performance.now()
  const child = spawn('npm', ['start', '--silent'], {
    cwd: tree.dir,
    detached: true, // its own process group, so stop() ends npm, its shell and the server together
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ORGKIT_DATA_DIR: dataDir, PORT: String(port), ORGKIT_DATABASE_URL: '' },
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
  }
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${tree.name}: npm start exited\n${stderr}`)
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok)
      return { seconds: (performance.now() - began) / 1000, cpu: sessionCpu(child.pid), pid: child.pid, stop }
    await sleep(25)
  }
}

function buildConsole(tree) {
  execSync('node packages/console/scripts/build-if-stale.mjs', { cwd: tree.dir, stdio: 'ignore' })
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

/** Resident memory of the server: the node process of npm's session that runs orgkit.js, in MB. */
function serverRss(sessionId) {
  const lines = execSync(`ps -o pid=,rss=,args= -s ${sessionId}`).toString().trim().split('\n')
  const server = lines.find((line) => /^\s*\d+\s+\d+\s+node .*orgkit\.js start/.test(line)) // not npm's sh -c
  return server ? Number(server.trim().split(/\s+/)[1]) / 1024 : Number.NaN
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
let port = 39_400
const bindings = Number(args.bindings)
const worlds = new Map()
for (const tree of trees) {
  buildConsole(tree)
  const dataDir = join(mkdtempSync(join(tmpdir(), 'orgkit-bench-start-')), 'data')
  await (await start(tree, dataDir, ++port)).stop() // untimed: makes what a first start makes once
  rmSync(resolve(dataDir, '..'), { recursive: true, force: true })
  if (bindings) worlds.set(tree.name, worldFolder(tree, bindings))
}
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const tree of round % 2 ? trees : [...trees].reverse()) {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'orgkit-bench-start-')), 'data')
    try {
      buildConsole(tree) // not timed: the bar is a start after the console is built
      const sizes = signInAssetsOnceBuilt(tree)
      const first = await start(tree, dataDir, ++port)
      await first.stop()
      const second = await start(tree, dataDir, ++port)
      await sleep(3000)
      note(tree, 'idle RSS (MB)', serverRss(second.pid))
      const signIn = await signInInBrowser(browser, port)
      await second.stop()
      note(tree, 'first start (s)', first.seconds)
      note(tree, 'first start, CPU (s)', first.cpu)
      note(tree, 'second start (s)', second.seconds)
      note(tree, 'second start, CPU (s)', second.cpu)
      if (bindings) {
        const large = join(resolve(dataDir, '..'), 'world')
        cpSync(worlds.get(tree.name), large, { recursive: true })
        const started = await start(tree, large, ++port)
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

const range = (values) => {
  if (typeof values[0] === 'string') return values[0]
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const digits = hi >= 100 ? 0 : 2
  return lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`
}
const rows = Object.keys(results.get(trees[0].name))
const width = Math.max(...rows.map((row) => row.length))
console.log(`\n${''.padEnd(width)}  ${trees.map((tree) => tree.name.padEnd(22)).join('')}`)
for (const row of rows)
  console.log(
    `${row.padEnd(width)}  ${trees.map((t) => range(results.get(t.name)[row]).padEnd(22)).join('')}`,
  )
console.log(
  `\nload average at end: ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`,
)
