import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '@orgkit/server'
import { openStore } from '@orgkit/store'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, startTestServer, TEMPLATE_DIR, type TestServer } from '../../server/test/support/harness.ts'
import { migrations } from '../../store/src/migrations/index.ts'
import { embeddedEmptyDatabase, platformTokensIn } from '../../store/test/support/test-databases.ts'
import { hugePagesOffered } from '../bin/huge-pages.mjs'
import { bin, orgkit, orgkitProcess } from './support/orgkit.ts'

// Commands run in this process (`orgkit`), the same commands the binary runs; the binary itself
// (`orgkitProcess`) where its exit code or output is the point, once per way a command ends: a store
// closed, a check's answer, a failure.

describe('orgkit migrate / tokens', () => {
  it('migrates a new database, creates platform tokens the server accepts, and revokes one by its prefix', async () => {
    // A new database: a copy of the data folder initdb made (initdb is PGlite's, ~4 s of CPU), every
    // migration applied to it here.
    const empty = embeddedEmptyDatabase()
    const applied = `applied: ${Object.keys(migrations).sort().join(', ')}\n`
    try {
      const fresh = await orgkit(['migrate'], { ORGKIT_DATA_DIR: empty.dataDir, ORGKIT_DATABASE_URL: '' })
      expect([fresh.code, fresh.stdout]).toEqual([0, applied])
    } finally {
      empty.remove()
    }
    // One data folder for the whole token life, from the tests' migrated template (as `npm start` fills one);
    // with templates off (ORGKIT_TEST_TEMPLATES=), from initdb, which this migrate brings up to date.
    const dir = await mkdtemp(join(tmpdir(), 'orgkit-cli-'))
    const env = { ORGKIT_DATA_DIR: dir, ORGKIT_DATABASE_URL: '' }
    try {
      await (await openStore({ dataDir: dir, templateDir: TEMPLATE_DIR || undefined })).close()
      expect((await orgkit(['migrate'], env)).stdout).toBe(
        TEMPLATE_DIR ? 'the schema is up to date\n' : applied,
      )
      const kept = (await orgkit(['tokens', 'create', 'kept'], env)).stdout.trim()
      expect(kept).toMatch(/^okp_[\w-]{40,}$/)
      const gone = (await orgkit(['tokens', 'create', 'gone'], env)).stdout.trim()
      const revoked = await orgkit(['tokens', 'revoke', gone.slice(0, 12)], env)
      expect([revoked.code, revoked.stdout]).toEqual([
        0,
        expect.stringContaining(`(${gone.slice(0, 12)}, gone)`),
      ])
      // The binary too: it lists them, and ends once it has closed the database.
      const listed = (await orgkitProcess(['tokens', 'list'], env)).stdout
      expect(listed).toMatch(new RegExp(`${kept.slice(0, 12)}\\s+live\\s+kept`))
      expect(listed).toMatch(new RegExp(`${gone.slice(0, 12)}\\s+revoked \\S+\\s+gone`))
      const server = await startServer({ database: { dataDir: dir }, consoleDir: null })
      try {
        // A token already exists, so the server makes no bootstrap token of its own.
        expect(server.bootstrapToken).toBeNull()
        expect((await client(server.url, kept).get('/v1/me')).body).toMatchObject({ platform: true })
        expect((await client(server.url, gone).get('/v1/me')).status).toBe(401)
      } finally {
        await server.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('orgkit secrets rotate', () => {
  it('seals every stored secret under the current key, MACs the engine state anew, and says how many', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orgkit-cli-'))
    const env = { ORGKIT_DATA_DIR: dir, ORGKIT_DATABASE_URL: '' }
    try {
      // A first start makes the folder's key; a sign-up leaves a sealed verification mail in the outbox, and
      // the close writes the engine's state (MACed under the folder's key).
      const server = await startServer({
        database: { dataDir: dir, templateDir: TEMPLATE_DIR || undefined },
        consoleDir: null,
        engineState: { minRevisions: 1 },
      })
      await fetch(`${server.url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'a@example.com', password: 'a long enough passphrase', name: 'A' }),
      })
      await server.close()
      const old = (await readFile(join(dir, 'secret.key'), 'utf8')).trim()
      const next = `next:${randomBytes(32).toString('hex')}`
      const rotated = await orgkit(['secrets', 'rotate'], { ...env, ORGKIT_SECRET_KEY: `${next},${old}` })
      expect([rotated.code, rotated.stdout.trim()]).toEqual([
        0,
        'sealed under key "next": 0 TOTP secret(s), 1 unsent mail(s), 0 SSO connection(s), 0 webhook endpoint(s), 1 engine state(s) and 1 change-feed entry(ies) MACed anew',
      ])
      // The old key can go: the next start holds only the new one, and still restores the engine's state.
      const after = await startServer({ database: { dataDir: dir }, consoleDir: null, secretKey: next })
      expect(after.ctx.engine.loadedFrom.kind).toBe('state')
      await after.close()
      const lacking = await orgkit(['secrets', 'rotate'], { ...env, ORGKIT_SECRET_KEY: old })
      expect([lacking.code, lacking.stderr]).toEqual([1, expect.stringContaining('"next"')])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('orgkit admin commands over the API', () => {
  let s: TestServer
  let env: Record<string, string>
  beforeAll(async () => {
    s = await startTestServer('pglite')
    env = { ORGKIT_URL: s.url, ORGKIT_TOKEN: s.token }
  })
  afterAll(() => s?.stop())

  it('provisions a user and an org, adds a member, and answers checks with exit codes', async () => {
    const alice = (await orgkit(['users', 'create', 'alice@example.com', 'Alice'], env)).stdout.trim()
    const bob = (await orgkit(['users', 'create', 'bob@example.com', 'Bob'], env)).stdout.trim()
    const org = (await orgkit(['--as', alice, 'orgs', 'create', 'Acme'], env)).stdout.trim()
    expect(org).toMatch(/^[0-9a-f-]{36}$/)
    const listed = await orgkit(['--as', alice, 'orgs', 'list'], env)
    expect(listed.stdout).toMatch(new RegExp(`${org}\\s+Acme`))

    expect((await orgkit(['members', 'add', org, bob, '--role', 'org_member'], env)).stdout).toContain(
      'org_member',
    )
    const members = await orgkit(['--json', 'members', 'list', org], env)
    expect(
      JSON.parse(members.stdout)
        .items.map((m: { userId: string }) => m.userId)
        .sort(),
    ).toEqual([alice, bob].sort())

    const mayRead = await orgkit(['check', 'org.read', `org:${org}`, '--user', bob], env)
    expect([mayRead.code, mayRead.stdout.trim()]).toEqual([0, expect.stringMatching(/^allowed/)])
    // A denial reaches the shell as exit code 3.
    const mayDelete = await orgkitProcess(['check', 'org.delete', `org:${org}`, '--user', bob], env)
    expect([mayDelete.code, mayDelete.stdout.trim()]).toEqual([3, 'denied (no_grant)'])
    // Why, in lines (the API's answer whole with --json).
    const why = await orgkit(['explain', 'org.read', `org:${org}`, '--user', bob], env)
    expect(why.stdout.split('\n')[0]).toBe('allowed (role)')
    expect(why.stdout).toContain(`decided by: org_member on org ${org}, bound to user ${bob} (grants)`)
    const whyNot = await orgkit(['explain', 'org.delete', `org:${org}`, '--user', bob], env)
    expect(whyNot.stdout.split('\n').slice(0, 2)).toEqual([
      'denied (no_grant)',
      '  decided by: nothing granted it',
    ])
    const whole = await orgkit(['--json', 'explain', 'org.delete', `org:${org}`, '--user', bob], env)
    expect(JSON.parse(whole.stdout)).toMatchObject({ allowed: false, reason: 'no_grant', decidedBy: null })
    // The same rules as any caller: Bob, acting as himself, may not look at Alice's access.
    const prying = await orgkit(['--as', bob, 'check', 'org.delete', `org:${org}`, '--user', alice], env)
    expect(prying.code).toBe(1)
    expect(prying.stderr).toMatch(/FORBIDDEN|may not/)

    const verified = await orgkit(['audit-verify', org], env)
    expect([verified.code, verified.stdout]).toEqual([0, expect.stringMatching(/^ok: \d+ entries/)])
  })

  it('says what is wrong: no credentials, a bad target; --help keeps the token to itself', async () => {
    // A failure reaches the shell as exit code 1 and a one-line message, not a stack trace.
    const bare = await orgkitProcess(['orgs', 'list'], { ORGKIT_URL: s.url, ORGKIT_TOKEN: '' })
    expect([bare.code, bare.stderr]).toEqual([1, expect.stringContaining('no credentials')])
    const target = await orgkit(['check', 'org.read', 'nonsense'], env)
    expect(target.stderr).toContain('is not <type>:<id>')
    // No server at the address (a new user's server on another port): where it looked, and what to do.
    const closed = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const nobody = await orgkit(['orgs', 'list'], { ...env, ORGKIT_URL: `http://127.0.0.1:${closed}/` })
    expect([nobody.code, nobody.stderr.trim()]).toEqual([
      1,
      `orgkit: UNREACHABLE: no Orgkit server answered at http://127.0.0.1:${closed} (ECONNREFUSED): start one (npx orgkit start), or point ORGKIT_URL or --url at yours`,
    ])
    // --help names where the token comes from, never the token itself (commander prints option defaults).
    const help = await orgkit(['--help'], { ORGKIT_TOKEN: 'okp_not_for_the_screen' })
    expect(help.stdout).toContain('--token <token>')
    expect(help.stdout + help.stderr).not.toContain('okp_not_for_the_screen')
  })
})

describe.skipIf(!process.env.ORGKIT_TEST_DATABASE_URL)(
  'orgkit start with ORGKIT_WORKERS (PostgreSQL)',
  () => {
    const server = new URL(process.env.ORGKIT_TEST_DATABASE_URL ?? 'postgres://x')
    const database = `orgkit_cli_${Date.now().toString(36)}`
    const admin = () => new pg.Client({ connectionString: server.href })
    beforeAll(async () => {
      const c = admin()
      await c.connect()
      await c.query(`create database ${database}`)
      await c.end()
    })
    afterAll(async () => {
      const c = admin()
      await c.connect()
      await c.query(`drop database if exists ${database} with (force)`)
      await c.end()
    })

    /** POST on a connection of its own: the primary hands each new connection to the next worker. */
    const postAlone = (url: string, token: string, path: string, body: unknown) =>
      new Promise<{ status: number; body: { allowed?: boolean; revision?: number } }>((resolve, reject) => {
        const req = request(
          `${url}${path}`,
          {
            method: 'POST',
            agent: false,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          },
          (res) => {
            let text = ''
            res.on('data', (chunk) => (text += chunk))
            res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
          },
        )
        req.on('error', reject)
        req.end(JSON.stringify(body))
      })

    // Before the test below, which takes the database's first platform token: a start whose workers can't
    // listen says why, and makes no token it never shows (the next start makes one, and shows it).
    /** `orgkit start` with two workers on the describe's database, on `port`. */
    const startWorkers = (url: URL, port: number) =>
      spawn(process.execPath, [bin, 'start'], {
        env: {
          ...process.env,
          ORGKIT_DATABASE_URL: url.href,
          ORGKIT_SECRET_KEY: randomBytes(32).toString('base64'),
          ORGKIT_WORKERS: '2',
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })

    it('a start whose port is taken says so and makes no platform token', async () => {
      const taken = createNetServer().listen(0, '127.0.0.1')
      await once(taken, 'listening')
      const url = new URL(server.href)
      url.pathname = `/${database}`
      try {
        const child = startWorkers(url, (taken.address() as AddressInfo).port)
        let out = ''
        child.stdout.on('data', (chunk) => (out += chunk))
        child.stderr.on('data', (chunk) => (out += chunk))
        const [code] = await once(child, 'exit')
        expect(code).not.toBe(0)
        expect(out).toContain('is in use by another process')
        expect(out).not.toMatch(/okp_/)
        expect(await platformTokensIn({ url: url.href })).toBe(0)
      } finally {
        taken.close()
      }
    }, 60_000)

    it('prepares the database once, answers on every worker with revisions honoured, replaces a dead worker and stops them all', async () => {
      const url = new URL(server.href)
      url.pathname = `/${database}`
      const child = startWorkers(url, 0)
      let out = ''
      const waitFor = async (pattern: RegExp) => {
        while (!pattern.test(out)) {
          if (child.exitCode !== null) throw new Error(`orgkit exited:\n${out}`)
          await new Promise((r) => setTimeout(r, 50))
        }
        return pattern.exec(out)!
      }
      child.stdout.on('data', (chunk) => (out += chunk))
      child.stderr.on('data', (chunk) => (out += chunk))
      try {
        const [, first, second] = await waitFor(/2 workers share the port: pids (\d+), (\d+)/)
        const base = (await waitFor(/running at (http:\S+)/))[1]!
        const token = (await waitFor(/^\s+(okp_\S+)$/m))[1]!
        const platform = client(base, token)
        const alice = (await platform.post('/v1/users', { email: 'a@example.com', name: 'A' })).body.id
        const bob = (await platform.post('/v1/users', { email: 'b@example.com', name: 'B' })).body.id
        const org = (await client(base, token, alice).post('/v1/orgs', { name: 'Acme' })).body.id
        const added = await platform.post(`/v1/orgs/${org}/members`, { userId: bob, roles: ['org_admin'] })
        const ask = (atLeastRevision: number) =>
          postAlone(base, token, '/v1/check', {
            subject: { type: 'user', id: bob },
            permission: 'org.update_settings',
            resource: { org },
            atLeastRevision,
          })
        // The write went to one worker; the check may reach the other: it carries the write's revision.
        expect((await ask(added.body.revision as number)).body.allowed).toBe(true)
        const demoted = await platform.patch(`/v1/orgs/${org}/members/${bob}`, { roles: ['org_member'] })
        expect(demoted.status).toBe(200)
        const revision = demoted.body.revision as number
        expect(revision).toBeGreaterThan(0)
        // Whichever worker gets it, a check carrying the write's revision sees the write.
        const answers = await Promise.all(Array.from({ length: 12 }, () => ask(revision)))
        expect(answers.map((a) => [a.status, a.body.allowed])).toEqual(answers.map(() => [200, false]))

        process.kill(Number(first), 'SIGKILL')
        const replaced = await waitFor(/workers: pids (\d+), (\d+)/)
        expect(replaced.slice(1).sort()).toEqual([second, expect.stringMatching(/^\d+$/)].sort())
        expect(replaced.slice(1)).not.toContain(first)
        const after = await Promise.all(Array.from({ length: 6 }, () => ask(revision)))
        expect(after.map((a) => a.status)).toEqual(after.map(() => 200))
        const pids = replaced.slice(1).map(Number)

        // Ctrl-C in a terminal signals the primary and every worker; the primary then sends its workers
        // SIGTERM too. Each worker stops once, flushing its usage counts (the killed one's are lost).
        const exited = once(child, 'exit')
        for (const pid of [child.pid!, ...pids]) process.kill(pid, 'SIGINT')
        const [code] = await exited
        expect(code).toBe(0)
        for (const pid of pids) expect(() => process.kill(pid, 0), `worker ${pid} is gone`).toThrow()
        const db = new pg.Client({ connectionString: url.href })
        await db.connect()
        const sum = 'select coalesce(sum(count), 0)::int as n from usage_daily where org_id = $1'
        const { rows } = await db.query(sum, [org])
        await db.end()
        expect(rows[0].n).toBeGreaterThanOrEqual(after.length)
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL')
      }
    }, 60_000)

    // bin/orgkit.js's huge-page start: where glibc and the kernel can give a process 2 MB pages for what it
    // mallocs, `orgkit start` on PostgreSQL runs the server in a child with GLIBC_TUNABLES set. The test above
    // stops it through that parent (SIGINT to it and the workers, exit 0); this one checks what the child is
    // given, that it stops when the parent is killed outright, and that GLIBC_TUNABLES set means one process.
    // /proc lists a process's children where the kernel keeps that list (CONFIG_PROC_CHILDREN).
    it.runIf(hugePagesOffered() && existsSync(`/proc/${process.pid}/task/${process.pid}/children`))(
      'runs the server in a child with glibc huge pages, which stops when that parent dies; GLIBC_TUNABLES set is left alone',
      async () => {
        const url = new URL(server.href)
        url.pathname = `/${database}`
        const launch = (tunables: Record<string, string>) => {
          const env: Record<string, string | undefined> = {
            ...process.env,
            ORGKIT_DATABASE_URL: url.href,
            ORGKIT_SECRET_KEY: randomBytes(32).toString('base64'),
            PORT: '0',
            ...tunables,
          }
          if (!('GLIBC_TUNABLES' in tunables)) delete env.GLIBC_TUNABLES
          const child = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
          let out = ''
          child.stdout.on('data', (chunk) => (out += chunk))
          child.stderr.on('data', (chunk) => (out += chunk))
          const up = (async () => {
            while (!/running at http:\S+/.test(out)) {
              if (child.exitCode !== null) throw new Error(`orgkit exited:\n${out}`)
              await new Promise((r) => setTimeout(r, 50))
            }
          })()
          return { child, up }
        }
        const childrenOf = async (pid: number) =>
          (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8'))
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map(Number)
        // Running: neither gone nor a zombie left for whoever adopted it to reap.
        const alive = (pid: number) => {
          try {
            return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'
          } catch {
            return false
          }
        }

        const wrapped = launch({})
        try {
          await wrapped.up
          const [serverPid, ...more] = await childrenOf(wrapped.child.pid!)
          expect(more).toEqual([])
          expect((await readFile(`/proc/${serverPid}/environ`, 'utf8')).split('\0')).toContain(
            'GLIBC_TUNABLES=glibc.malloc.hugetlb=1',
          )
          // Killed outright, the parent can forward nothing: its child hears the IPC channel close and stops.
          wrapped.child.kill('SIGKILL')
          for (let waited = 0; alive(serverPid!) && waited < 20_000; waited += 100)
            await new Promise((r) => setTimeout(r, 100))
          expect(alive(serverPid!), `the server (pid ${serverPid}) outlived its parent`).toBe(false)
        } finally {
          wrapped.child.kill('SIGKILL')
        }

        const asked = launch({ GLIBC_TUNABLES: '' })
        try {
          await asked.up
          expect(await childrenOf(asked.child.pid!)).toEqual([])
          const exited = once(asked.child, 'exit')
          asked.child.kill('SIGTERM')
          expect((await exited)[0]).toBe(0)
        } finally {
          asked.child.kill('SIGKILL')
        }
      },
      60_000,
    )

    it('refuses more than one worker on the embedded database', async () => {
      const started = await orgkitProcess(['start'], {
        ORGKIT_DATABASE_URL: '',
        ORGKIT_WORKERS: '2',
        PORT: '0',
      })
      expect([started.code, started.stderr]).toEqual([
        1,
        expect.stringContaining('needs ORGKIT_DATABASE_URL'),
      ])
    })
  },
)
