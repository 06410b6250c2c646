import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startServer } from '@orgkit/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, startTestServer, type TestServer } from '../../server/test/support/harness.ts'

const run = promisify(execFile)
const bin = join(import.meta.dirname, '../bin/orgkit.js')

/** Runs the real `orgkit` binary; answers its output and exit code (0 unless it failed). */
async function orgkit(args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
    })
    return { stdout, stderr, code: 0 }
  } catch (e) {
    const failed = e as { stdout: string; stderr: string; code: number }
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code }
  }
}

describe('orgkit start / migrate / tokens', () => {
  it('migrates, creates a platform token the server accepts, and starts on the embedded database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orgkit-cli-'))
    const env = { ORGKIT_DATA_DIR: dir, PORT: '0', ORGKIT_DATABASE_URL: '' }
    try {
      expect((await orgkit(['migrate'], env)).stdout).toMatch(/applied: 0001-initial/)
      const token = (await orgkit(['tokens', 'create', 'ci'], env)).stdout.trim()
      expect(token).toMatch(/^okp_[\w-]{40,}$/)
      const server = await startServer({ database: { dataDir: dir } })
      try {
        expect(server.bootstrapToken).toBeNull()
        expect((await client(server.url, token).get('/v1/me')).body).toMatchObject({ platform: true })
      } finally {
        await server.close()
      }
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
    const mayDelete = await orgkit(['check', 'org.delete', `org:${org}`, '--user', bob], env)
    expect([mayDelete.code, mayDelete.stdout.trim()]).toEqual([3, 'denied (no_grant)'])
    // The same rules as any caller: Bob, acting as himself, may not look at Alice's access.
    const prying = await orgkit(['--as', bob, 'check', 'org.delete', `org:${org}`, '--user', alice], env)
    expect(prying.code).toBe(1)
    expect(prying.stderr).toMatch(/FORBIDDEN|may not/)

    const verified = await orgkit(['audit-verify', org], env)
    expect([verified.code, verified.stdout]).toEqual([0, expect.stringMatching(/^ok: \d+ entries/)])
  })

  it('says what is wrong: no credentials, a bad target', async () => {
    const bare = await orgkit(['orgs', 'list'], { ORGKIT_URL: s.url, ORGKIT_TOKEN: '' })
    expect([bare.code, bare.stderr]).toEqual([1, expect.stringContaining('no credentials')])
    const target = await orgkit(['check', 'org.read', 'nonsense'], env)
    expect(target.stderr).toContain('is not <type>:<id>')
  })
})
