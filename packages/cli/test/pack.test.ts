import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '../../..')
/** The project's compiler (TypeScript 7) builds; a consumer checks with TypeScript 5.9, as many still do. */
const BUILD_TSC = join(ROOT, 'tools/tsc.mjs')
const CONSUMER_TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const PUBLISHED = ['@orgkit/core', '@orgkit/store', '@orgkit/server', '@orgkit/sdk', '@orgkit/cli']

/** `node <args>` in the stranger's folder: plain Node, no tsx, no source condition, none of our env. */
const node = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  })

/**
 * Issue 24.1: the packages as a stranger gets them. Built once, packed with `npm pack`, the tarballs
 * installed into an empty folder outside the repository (so nothing resolves into it), and run with plain
 * `node`: import, check, call, `npx orgkit --help` and `npx orgkit start` answering /healthz.
 * The dependencies come from the local npm cache (`npm ci` filled it); only package metadata it lacks
 * is fetched (npm keeps none after `npm ci`), and the test says so when that happens.
 */
describe.concurrent('the published packages, installed from their tarballs', () => {
  let dir: string
  let app: string
  let files: string[]
  let server: ChildProcess | undefined
  /** `npx orgkit start` on an empty data folder and a free port: its address and first platform token. */
  let started: Promise<{ url: string; token: string }>

  beforeAll(async () => {
    // The root `npm run build`'s three steps. The build checks each package's src against the others' built
    // declarations, as an installer's types see them (TypeScript 7: ~12 s of CPU cold here, where
    // TypeScript 5.9 took ~40 s, or ~20 s with --noCheck).
    const step = (command: string, args: string[]) =>
      run(command, args, { cwd: ROOT }).catch((e: { stdout?: string; stderr?: string }) => {
        throw new Error(`${command} ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`)
      })
    await step(process.execPath, ['packages/console/scripts/build-if-stale.mjs'])
    await step(process.execPath, [BUILD_TSC, '-b', 'tsconfig.build.json'])
    await step(process.execPath, ['packages/server/scripts/bundle-assets.mjs'])
    dir = await mkdtemp(join(tmpdir(), 'orgkit-pack-'))
    app = join(dir, 'app')
    await mkdir(app)
    const { stdout } = await run(
      'npm',
      [
        'pack',
        '--ignore-scripts',
        '--json',
        '--pack-destination',
        dir,
        ...PUBLISHED.flatMap((p) => ['-w', p]),
      ],
      { cwd: ROOT },
    )
    const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[]
    files = packed.find((p) => p.name === '@orgkit/server')!.files.map((f) => f.path)
    const tarballs = packed.map((p) => join(dir, p.filename))
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'stranger', private: true, type: 'module' }),
    )
    const install = (mode: string) =>
      run('npm', ['install', mode, '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], { cwd: app })
    try {
      await install('--offline')
    } catch (e) {
      if (!/ENOTCACHED/.test(String((e as { stderr?: string }).stderr))) throw e
      console.warn('pack test: the npm cache lacks some package metadata; fetching it (--prefer-offline)')
      await install('--prefer-offline')
    }
    server = spawn('npx', ['--offline', 'orgkit', 'start'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ORGKIT_DATA_DIR: join(dir, 'data'),
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // npx runs node in a child of its own: the group is stopped together
    })
    const child = server
    started = new Promise((resolve, reject) => {
      let out = ''
      const read = (d: Buffer) => {
        out += d.toString()
        const url = /running at (http:\/\/\S+)/.exec(out)?.[1]
        const token = /okp_\S+/.exec(out)?.[0]
        if (url && token) resolve({ url, token })
      }
      child.stdout!.on('data', read)
      child.stderr!.on('data', read)
      child.on('exit', (code) => reject(new Error(`orgkit start exited (${code}):\n${out}`)))
    })
    started.catch(() => {}) // awaited by the tests that need it
  }, 900_000)

  afterAll(async () => {
    if (server?.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM') // npx and its node
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('ships JavaScript and declarations only: no TypeScript sources, no tests', () => {
    expect(files).toContain('dist/index.js')
    expect(files).toContain('dist/index.d.ts')
    expect(files).toContain('dist/console/index.html')
    expect(files).toContain('dist/vendor/redoc.standalone.js')
    expect(files.filter((f) => /^(src|test)\/|(?<!\.d)\.ts$/.test(f))).toEqual([])
  })

  it('imports @orgkit/core with plain node and answers a check', async () => {
    const script = `
      import { Authorizer, emptySnapshot, presets } from '@orgkit/core'
      const authz = new Authorizer(presets.capgo, emptySnapshot())
      authz.apply([
        { op: 'org.put', org: { id: 'acme', parentId: null, creatorId: 'alice' } },
        { op: 'user.put', user: { id: 'alice', mfaEnabled: false } },
        { op: 'membership.put', membership: { orgId: 'acme', userId: 'alice', status: 'active' } },
        { op: 'binding.put', binding: { id: 'b1', principal: { type: 'user', id: 'alice' },
          role: presets.capgo.org.creatorRole, scope: { type: 'org', id: 'acme' } } },
      ])
      const user = (id) => ({ type: 'user', id })
      console.log(JSON.stringify([
        authz.check(user('alice'), 'org.delete', { type: 'org', id: 'acme' }),
        authz.check(user('bob'), 'org.delete', { type: 'org', id: 'acme' }),
      ]))`
    const { stdout } = await node(app, ['--input-type=module', '-e', script])
    expect(JSON.parse(stdout)).toEqual([
      { allowed: true, reason: 'role' },
      { allowed: false, reason: 'not_found' },
    ])
  }, 180_000)

  it('type-checks a consumer against the published declarations', async () => {
    await writeFile(
      join(app, 'consumer.ts'),
      `import { type Model, presets } from '@orgkit/core'
import { createOrgkitClient } from '@orgkit/sdk'
import { startServer } from '@orgkit/server'
export const model: Model = presets.capgo!
// @ts-expect-error the SDK knows the API's paths (this would be any if its types were lost)
void createOrgkitClient({ baseUrl: '' }).GET('/v1/no-such-path')
// @ts-expect-error startServer takes its options
void startServer()
`,
    )
    const types = join(ROOT, 'node_modules/@types')
    await node(app, [
      CONSUMER_TSC,
      ...['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...[
        '--target',
        'es2022',
        '--lib',
        'es2023,dom',
        '--typeRoots',
        types,
        '--types',
        'node',
        'consumer.ts',
      ],
    ])
  }, 180_000)

  it('runs `npx orgkit --help`', async () => {
    const { stdout } = await run('npx', ['--offline', 'orgkit', '--help'], { cwd: app })
    expect(stdout).toMatch(/Usage: orgkit/)
    expect(stdout).toMatch(/\bstart\b/)
  }, 180_000)

  it('runs `npx orgkit start`, which answers /healthz, serves the console and the reference offline', async () => {
    const { url } = await started
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true })
    expect(await (await fetch(`${url}/`)).text()).toMatch(/<title>Orgkit console<\/title>/)
    const viewer = await fetch(`${url}/v1/docs/redoc.standalone.js`)
    expect(viewer.status).toBe(200)
    expect((await viewer.text()).length).toBeGreaterThan(100_000)
  }, 300_000)

  it('imports @orgkit/sdk with plain node and calls that server', async () => {
    const script = `
      import { createOrgkitClient } from '@orgkit/sdk'
      const api = createOrgkitClient({ baseUrl: process.env.URL, token: process.env.TOKEN })
      const made = await api.POST('/v1/users', { body: { email: 'pat@example.com', name: 'Pat' } })
      const me = await createOrgkitClient({ baseUrl: process.env.URL, token: process.env.TOKEN, actAs: made.data.id })
        .GET('/v1/me')
      console.log(JSON.stringify({ status: made.response.status, email: me.data.email }))`
    const { url, token } = await started
    const { stdout } = await node(app, ['--input-type=module', '-e', script], { URL: url, TOKEN: token })
    expect(JSON.parse(stdout)).toEqual({ status: 201, email: 'pat@example.com' })
  }, 300_000)
})
