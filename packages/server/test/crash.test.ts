import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleFile } from '../../cli/scripts/bundle.mjs'
import {
  embeddedTestFolder,
  type PostgresTestDatabase,
  postgresTestDatabase,
} from '../../store/test/support/test-databases.ts'
import { DATABASES } from './support/harness.ts'

/**
 * Issue 22.10: kill -9 the server in the middle of a burst of writes, start it again on the same data,
 * and find every write it acknowledged (a 2xx was answered) there — read back, decided by the engine
 * (checks allow what they granted), at a revision the engine reaches — and every audit chain whole.
 * A write that was not acknowledged may or may not be there; an acknowledged one must.
 */

const ENTRY = fileURLToPath(new URL('./support/crash-server.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

interface Running {
  child: ChildProcess
  url: string
  token: string | null
}

let bundled: Promise<string> | null = null
const bundleDir = mkdtempSync(join(tmpdir(), 'orgkit-crash-bundle-'))
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }))

/** The server in a child process; resolves once it listens (its one line on stdout). */
async function launch(database: object): Promise<Running> {
  // support/crash-server.ts as one JavaScript file, built once for the file's four starts: through tsx each
  // start loaded ~300 TypeScript modules (3.7-8.3 s a start at load 9).
  bundled ??= bundleFile(ENTRY, join(bundleDir, 'crash-server.mjs'))
  const child = spawn(process.execPath, [await bundled, JSON.stringify(database)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.indexOf('\n')
      if (line < 0) return
      clearTimeout(timer)
      resolve({ child, ...(JSON.parse(out.slice(0, line)) as { url: string; token: string | null }) })
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}): ${err}`))
    })
  })
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })

async function call(url: string, token: string, method: string, path: string, body?: unknown, as?: string) {
  const response = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(as && { 'x-orgkit-user': as }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  // biome-ignore lint/suspicious/noExplicitAny: replies are read as JSON
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any }
}

describe.each(DATABASES)('kill -9 mid-burst, restart (%s)', (database) => {
  // PGlite's folder: a copy of the migrated template, as every test server's (the killed server and the
  // restarted one run on it as `npm start` does); a new folder, made by the first start, without a template.
  const dir = database === 'pglite' ? embeddedTestFolder() : mkdtempSync(join(tmpdir(), 'orgkit-crash-'))
  let postgres: PostgresTestDatabase | undefined
  let config: { dataDir: string } | { url: string; schema?: string } = { dataDir: dir }
  const children: ChildProcess[] = []
  beforeAll(async () => {
    if (database === 'postgres') {
      postgres = await postgresTestDatabase()
      config = { url: postgres.url, schema: postgres.schema }
    }
  })
  afterAll(async () => {
    for (const child of children) await killed(child)
    rmSync(dir, { recursive: true, force: true })
    await postgres?.remove()
  })

  it('keeps every acknowledged write, and the engine and audit chains agree', async () => {
    const first = await launch(config)
    children.push(first.child)
    const token = first.token!
    expect(token).toBeTruthy()
    const at = (s: Running) => (method: string, path: string, body?: unknown, as?: string) =>
      call(s.url, token, method, path, body, as)
    const api = at(first)

    const owner = (await api('POST', '/v1/users', { email: 'owner@example.com', name: 'Owner' })).body.id
    const orgs: string[] = []
    for (const name of ['One', 'Two']) {
      const org = await api('POST', '/v1/orgs', { name }, owner)
      expect(org.status).toBe(201)
      orgs.push(org.body.id)
    }
    const users: string[] = []
    for (let i = 0; i < 40; i++)
      users.push((await api('POST', '/v1/users', { email: `u${i}@example.com`, name: `U${i}` })).body.id)

    // The burst: apps created and members added, 8 at a time, until the server dies under it.
    const apps: { id: string; org: string; revision: number }[] = []
    const members: { user: string; org: string; revision: number }[] = []
    let acknowledged = 0
    let failed = 0
    const work: (() => Promise<void>)[] = []
    for (let i = 0; i < 400; i++) {
      const org = orgs[i % 2]!
      if (i % 5 === 4 && i / 5 < users.length * 2) {
        const user = users[Math.floor(i / 10)]!
        if (i % 10 === 9) continue // each user once per org: every tenth slot left to apps
        work.push(async () => {
          const r = await api('POST', `/v1/orgs/${org}/members`, { userId: user, roles: ['org_member'] })
          if (r.status === 201) members.push({ user, org, revision: r.body.revision ?? 0 })
          acknowledged += r.status < 300 ? 1 : 0
        })
      }
      work.push(async () => {
        const r = await api('POST', `/v1/orgs/${org}/resources`, { type: 'app', name: `app ${i}` }, owner)
        if (r.status === 201) apps.push({ id: r.body.id, org, revision: r.body.revision ?? 0 })
        acknowledged += r.status < 300 ? 1 : 0
      })
    }
    const KILL_AFTER = 120
    let kill: Promise<void> | null = null
    const lanes = Array.from({ length: 8 }, async () => {
      for (let next = work.shift(); next; next = work.shift()) {
        try {
          await next()
        } catch {
          failed++ // no answer: the server died under it (acknowledged or not, it is unknown)
        }
        if (acknowledged >= KILL_AFTER && kill === null) kill = killed(first.child)
      }
    })
    await Promise.all(lanes)
    await kill
    expect(acknowledged).toBeGreaterThanOrEqual(KILL_AFTER)
    expect(failed).toBeGreaterThan(0) // it died mid-burst, with requests in flight

    const second = await launch(config)
    children.push(second.child)
    const again = at(second)
    const revision = Math.max(...apps.map((a) => a.revision), ...members.map((m) => m.revision))
    // Read back: every acknowledged app and member.
    for (const org of orgs) {
      const listed = new Set<string>()
      for (let cursor: string | null = null, page = 0; page < 100; page++) {
        const query: string = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : '?limit=100'
        const r = await again('GET', `/v1/orgs/${org}/resources${query}`)
        expect(r.status).toBe(200)
        for (const item of r.body.items) listed.add(item.id)
        cursor = r.body.nextCursor ?? null
        if (!cursor) break
      }
      const lost = apps.filter((a) => a.org === org && !listed.has(a.id))
      expect(lost).toEqual([])
      const roster = await again('GET', `/v1/orgs/${org}/members`)
      const present = new Set(roster.body.items.map((m: { userId: string }) => m.userId))
      expect(members.filter((m) => m.org === org && !present.has(m.user))).toEqual([])
    }
    // The engine: at the newest acknowledged revision, every grant decides as written.
    const checks = [
      ...apps.map((a) => ({
        subject: { type: 'user', id: owner },
        permission: 'app.read',
        resource: { type: 'app', id: a.id },
      })),
      ...members.map((m) => ({
        subject: { type: 'user', id: m.user },
        permission: 'org.read',
        resource: { org: m.org },
      })),
    ]
    const decided = await again('POST', '/v1/check/batch', { checks, atLeastRevision: revision })
    expect(decided.status).toBe(200)
    expect(decided.body.results.filter((r: { allowed: boolean }) => !r.allowed)).toEqual([])
    // The audit chains: whole, and holding at least the acknowledged writes.
    for (const org of orgs) {
      const verified = await again('GET', `/v1/orgs/${org}/audit-logs/verify`)
      expect(verified.status).toBe(200)
      expect(verified.body.ok).toBe(true)
    }
    console.info(
      `crash (${database}): ${acknowledged} acknowledged (${apps.length} apps, ${members.length} members), ${failed} unanswered`,
    )
  }, 150_000)
})
