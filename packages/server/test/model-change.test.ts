import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Model, modelImpact, presets } from '@orgkit/core'
import { loadSnapshot } from '@orgkit/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type PostgresTestDatabase, postgresTestDatabase } from '../../store/test/support/test-databases.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, TEMPLATE_DIR, type TestServer } from './support/harness.ts'

const capgo = presets.capgo!
/** Capgo without App Reader: the model change this file is about. */
const { app_reader: _dropped, ...keptRoles } = capgo.roles
const withoutReader: Model = { ...capgo, name: 'capgo-no-reader', roles: keptRoles }

/**
 * Issue 23.3: a model change against stored data. `modelImpact` (what `orgkit model diff` prints) names the
 * bound roles the new model lacks and who gains or loses what; a server started with that model refuses,
 * unless its `removedRoles` says where those bindings go — then the start moves them in one audited write.
 */
describe.each(DATABASES)('changing the model under stored data (%s)', (database) => {
  let dir: string
  let first: TestServer
  let w: CapgoWorld
  const restart = (model: Model, server: { secretKey?: string } = {}) =>
    startTestServer(database, {
      model,
      postgres,
      server: {
        ...server,
        ...(database === 'pglite' && {
          database: { dataDir: join(dir, 'db'), templateDir: TEMPLATE_DIR || undefined },
        }),
      },
    })
  // Its PostgreSQL database outlives each server: restarts run on the same data.
  let postgres: PostgresTestDatabase | null = null
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgkit-model-change-'))
    if (database === 'postgres') postgres = await postgresTestDatabase()
    first = await startTestServer(database, {
      postgres,
      ...(database === 'pglite' && {
        server: { database: { dataDir: join(dir, 'db'), templateDir: TEMPLATE_DIR || undefined } },
      }),
    })
    w = await capgoWorld(first)
  }, 120_000)
  afterAll(async () => {
    await first?.close().catch(() => undefined)
    await postgres?.remove()
    await rm(dir, { recursive: true, force: true })
  })

  it('says which bound roles a model drops and who loses what, computed over the stored records', async () => {
    const { snapshot } = await loadSnapshot(first.store.db)
    const impact = modelImpact(capgo, withoutReader, snapshot)
    expect(impact.orphaned).toEqual([{ role: 'app_reader', bindings: 1, orgs: 1 }])
    expect(impact.moved).toEqual([])
    // Only the App Reader loses anything: read access to the app (its channels' reads come with it).
    expect(impact.permissions.find((p) => p.permission === 'app.read')).toEqual({
      permission: 'app.read',
      gain: 0,
      lose: 1,
    })
    expect(impact.permissions.every((p) => p.gain === 0 && p.lose === 1)).toBe(true)
    const mapped = modelImpact(
      capgo,
      { ...withoutReader, removedRoles: { app_reader: 'app_uploader' } },
      snapshot,
    )
    expect(mapped.orphaned).toEqual([])
    expect(mapped.moved).toEqual([{ role: 'app_reader', to: 'app_uploader', bindings: 1 }])
    expect(mapped.permissions.map((p) => [p.permission, p.gain, p.lose])).toEqual([
      ['app.upload_bundle', 1, 0],
    ])
    expect(modelImpact(capgo, capgo, snapshot)).toEqual({
      orphaned: [],
      moved: [],
      permissions: [],
      customRoles: [],
    })
  })

  it('refuses to start with a model that orphans bindings, listing them, and changes nothing', async () => {
    await first.close()
    await expect(restart(withoutReader)).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      details: { orphaned: [{ role: 'app_reader', bindings: 1, orgs: 1 }] },
    })
    await expect(
      restart({ ...withoutReader, removedRoles: { app_reader: 'no_such_role' } }),
    ).rejects.toMatchObject({ code: 'INVALID_MODEL', details: { unknownTargets: ['no_such_role'] } })
  })

  it('refuses a start whose key the sealed secrets need is missing before it moves a dropped role', async () => {
    // A secret sealed under this deployment's key (a webhook's), then a start with another key only and the
    // mapping: the key check runs first (server.ts), so the refused start moves nothing.
    const sealing = await restart(capgo)
    const hook = await sealing.platform.post(`/v1/orgs/${w.orgId}/webhooks`, {
      url: 'http://127.0.0.1:9/hook',
      events: ['member.*'],
    })
    expect(hook.status).toBe(201)
    await sealing.close()
    await expect(
      restart(
        { ...withoutReader, removedRoles: { app_reader: 'app_uploader' } },
        { secretKey: `other:${randomBytes(32).toString('base64')}` },
      ),
    ).rejects.toThrow(/key/i)
    const s = await restart(capgo)
    try {
      const bindings = (await s.platform.get(`/v1/orgs/${w.orgId}/bindings?userId=${w.users.appReader}`)).body
        .items as { role: string }[]
      expect(bindings.map((b) => b.role)).toEqual(['app_reader'])
      const moved = (await s.platform.get(`/v1/orgs/${w.orgId}/audit-logs?action=binding.updated`)).body.items
      expect(moved).toEqual([])
      await s.platform.request('DELETE', `/v1/orgs/${w.orgId}/webhooks/${hook.body.id}`)
    } finally {
      await s.close()
    }
  })

  it('starts with a removedRoles mapping: the bindings move in one audited write and the engine has them', async () => {
    const s = await restart({ ...withoutReader, removedRoles: { app_reader: 'app_uploader' } })
    try {
      const bindings = (await s.platform.get(`/v1/orgs/${w.orgId}/bindings?userId=${w.users.appReader}`)).body
        .items as { role: string }[]
      expect(bindings.map((b) => b.role)).toEqual(['app_uploader'])
      const check = await s
        .as(w.users.appReader)
        .post('/v1/check', { permission: 'app.upload_bundle', resource: { type: 'app', id: w.appId } })
      expect(check.body.allowed).toBe(true)
      const audit = (await s.platform.get(`/v1/orgs/${w.orgId}/audit-logs?action=binding.updated`)).body
        .items as { before: { role: string }; after: { role: string }; actor: { type: string } }[]
      expect(audit.map((e) => [e.before.role, e.after.role])).toEqual([['app_reader', 'app_uploader']])
      expect((await s.platform.get(`/v1/orgs/${w.orgId}/audit-logs/verify`)).body.ok).toBe(true)
    } finally {
      await s.close()
    }
  })
})

/** The CLI's wiring: one run of `orgkit model diff` against an embedded database and two model files. */
describe('orgkit model diff', () => {
  it('prints the orphaned roles and the holders that change, and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orgkit-model-diff-'))
    try {
      const s = await startTestServer('pglite', {
        server: { database: { dataDir: join(dir, 'db'), templateDir: TEMPLATE_DIR || undefined } },
      })
      await capgoWorld(s)
      await s.close()
      await writeFile(join(dir, 'new.yaml'), stringify(withoutReader))
      const bin = join(import.meta.dirname, '../../cli/bin/orgkit.js')
      const run = await promisify(execFile)(
        process.execPath,
        [bin, 'model', 'diff', 'capgo', join(dir, 'new.yaml')],
        {
          env: { ...process.env, ORGKIT_DATABASE_URL: '', ORGKIT_DATA_DIR: join(dir, 'db') },
        },
      ).then(
        (r) => ({ ...r, code: 0 }),
        (e: { stdout: string; code: number }) => e,
      )
      expect(run.code).toBe(2)
      expect(run.stdout).toContain('app_reader: 1 binding(s) in 1 org(s)')
      expect(run.stdout).toContain('app.read: +0 -1')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
