import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * When an instance's engine can't reach a check's `atLeastRevision` in time, the database answers (the SQL
 * evaluator) from a snapshot holding that revision; only a revision the database never committed still
 * answers REVISION_NOT_REACHED. Instance B's engine is frozen here: it never catches up again.
 */
describe.runIf(DATABASES.includes('postgres'))('checks past a lagging engine (postgres)', () => {
  let a: TestServer
  let b: TestServer
  let w: CapgoWorld
  beforeAll(async () => {
    a = await startTestServer('postgres')
    b = await startTestServer('postgres', { postgres: a.postgres })
    w = await capgoWorld(a)
    await b.ctx.engine.catchUp()
    b.ctx.engine.catchUp = () => new Promise(() => {})
  })
  afterAll(async () => {
    await b?.stop().catch(() => {})
    await a?.stop()
  })

  const upload = { permission: 'app.upload_bundle', resource: () => ({ type: 'app', id: w.appId }) }

  it('answers check, batch and list-resources from the database, never from the stale engine', async () => {
    const granted = await a.as(w.users.creator).post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'user', id: w.users.member },
      role: 'app_uploader',
      resourceId: w.appId,
    })
    expect(granted.status).toBe(201)
    const revision = granted.body.revision as number
    const member = b.as(w.users.member)
    const check = (atLeastRevision?: number) =>
      member.post('/v1/check', {
        permission: upload.permission,
        resource: upload.resource(),
        ...(atLeastRevision && { atLeastRevision }),
      })
    // Without a token B answers from its engine, which has not seen the grant.
    expect((await check()).body.allowed).toBe(false)
    const fresh = await check(revision)
    expect(fresh.status).toBe(200)
    expect(fresh.body).toEqual({ allowed: true, reason: 'role', revision })
    const batch = await member.post('/v1/check/batch', {
      checks: [
        { permission: upload.permission, resource: upload.resource() },
        { permission: 'bundle.delete', resource: upload.resource() },
        { permission: 'nope.read', resource: upload.resource() },
      ],
      atLeastRevision: revision,
    })
    expect(batch.body.results.map((r: { reason: string }) => r.reason)).toEqual(['role', 'no_grant', 'error'])
    // The host product's batch about one user, named once for the batch: the same answers.
    const named = await b.platform.post('/v1/check/batch', {
      subject: { type: 'user', id: w.users.member },
      checks: [
        { permission: upload.permission, resource: upload.resource() },
        { permission: 'bundle.delete', resource: upload.resource() },
      ],
      atLeastRevision: revision,
    })
    expect(named.body.results.map((r: { reason: string }) => r.reason)).toEqual(['role', 'no_grant'])
    const listed = await member.post('/v1/list-resources', {
      permission: upload.permission,
      type: 'app',
      atLeastRevision: revision,
    })
    expect(listed.body).toEqual({ ids: [w.appId], revision })
    // Asking about someone else still needs org.read_access, decided by the database too.
    const other = await b.as(w.users.appReader).post('/v1/check', {
      subject: { type: 'user', id: w.users.member },
      permission: upload.permission,
      resource: upload.resource(),
      atLeastRevision: revision,
    })
    expect(other.body.code).toBe('FORBIDDEN')
    const byAdmin = await b.as(w.users.admin).post('/v1/check', {
      subject: { type: 'user', id: w.users.member },
      permission: upload.permission,
      resource: upload.resource(),
      atLeastRevision: revision,
    })
    expect(byAdmin.body.allowed).toBe(true)

    const revoked = await a
      .as(w.users.creator)
      .request('DELETE', `/v1/orgs/${w.orgId}/bindings/${granted.body.id}`)
    expect((await check(revoked.body.revision)).body).toMatchObject({ allowed: false, reason: 'no_grant' })
  })

  it('keeps REVISION_NOT_REACHED for a revision the database never committed', async () => {
    const reply = await b.as(w.users.member).post('/v1/check', {
      permission: upload.permission,
      resource: upload.resource(),
      atLeastRevision: 1_000_000,
    })
    expect(reply.status).toBe(409)
    expect(reply.body.code).toBe('REVISION_NOT_REACHED')
  })
})
