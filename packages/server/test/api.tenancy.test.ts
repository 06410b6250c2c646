import { createHash } from 'node:crypto'
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueLastMonthInvoice } from './support/billing.ts'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * Tenants are isolated (SPEC 2): an id from another org is never read, changed, listed or counted. Every
 * route that takes an id is called by org A's super admin with org B's ids: 404, and B is unchanged.
 */
describe.each(DATABASES)('tenancy, input validation and the OpenAPI document (%s)', (database) => {
  let s: TestServer
  let a: CapgoWorld
  let b: CapgoWorld & { groupId: string; bindingId: string; roleKey: string; invoiceId: string }

  beforeAll(async () => {
    s = await startTestServer(database)
    a = await capgoWorld(s)
    const other = await capgoWorld(s)
    const group = await s.platform.post(`/v1/orgs/${other.orgId}/groups`, { name: 'B team' })
    await s.platform.put(`/v1/orgs/${other.orgId}/groups/${group.body.id}/members/${other.users.member}`, {})
    const bindings = await s.platform.get(`/v1/orgs/${other.orgId}/bindings`)
    await s.platform.post(`/v1/orgs/${other.orgId}/roles`, {
      key: 'b_role',
      scope: 'app',
      slot: 'app',
      label: 'B',
      permissions: ['app.read'],
      priority: 1,
    })
    b = {
      ...other,
      groupId: group.body.id,
      bindingId: bindings.body.items[0].id,
      roleKey: 'b_role',
      invoiceId: await issueLastMonthInvoice(s, other.orgId),
    }
  })
  afterAll(() => s?.stop())

  /** Everything of org B that a leak could touch, read by the platform token. */
  async function stateOfB() {
    const paths = [
      `/v1/orgs/${b.orgId}`,
      `/v1/orgs/${b.orgId}/members`,
      `/v1/orgs/${b.orgId}/resources`,
      `/v1/orgs/${b.orgId}/bindings`,
      `/v1/orgs/${b.orgId}/groups/${b.groupId}`,
      `/v1/orgs/${b.orgId}/roles`,
      `/v1/orgs/${b.orgId}/resources/${b.appId}/access`,
      `/v1/orgs/${b.orgId}/billing`,
      `/v1/orgs/${b.orgId}/billing/credits`,
      `/v1/orgs/${b.orgId}/billing/invoices/${b.invoiceId}`,
    ]
    return Promise.all(paths.map(async (p) => (await s.platform.get(p)).body))
  }

  it('answers 404 to every route given another org’s ids, and changes nothing there', async () => {
    const before = await stateOfB()
    const admin = s.as(a.users.creator)
    const A = `/v1/orgs/${a.orgId}`
    const B = `/v1/orgs/${b.orgId}`
    const calls: [string, string, unknown?][] = [
      ['GET', B],
      ['PATCH', B, { name: 'pwned' }],
      ['DELETE', B],
      ['POST', `${B}/transfer`, { userId: a.users.creator }],
      ['GET', `${B}/members`],
      ['PATCH', `${B}/members/${b.users.member}`, { roles: ['org_admin'] }],
      ['DELETE', `${B}/members/${b.users.member}`],
      ['PATCH', `${A}/members/${b.users.member}`, { roles: ['org_admin'] }],
      ['DELETE', `${A}/members/${b.users.member}`],
      ['GET', `${B}/resources`],
      ['POST', `${B}/resources`, { type: 'app', name: 'x' }],
      ['POST', `${A}/resources`, { type: 'channel', name: 'x', parentId: b.appId }],
      ['GET', `${A}/resources/${b.appId}`],
      ['PATCH', `${A}/resources/${b.appId}`, { name: 'pwned' }],
      ['DELETE', `${A}/resources/${b.appId}`],
      ['GET', `${A}/resources/${b.appId}/access`],
      ['GET', `${A}/resources/${b.appId}/overrides`],
      [
        'PUT',
        `${A}/resources/${b.stagingId}/overrides`,
        { principal: { type: 'user', id: a.users.member }, permission: 'channel.read', effect: 'deny' },
      ],
      [
        'PUT',
        `${A}/resources/${a.stagingId}/overrides`,
        { principal: { type: 'group', id: b.groupId }, permission: 'channel.read', effect: 'deny' },
      ],
      ['GET', `${B}/bindings`],
      [
        'POST',
        `${A}/bindings`,
        { principal: { type: 'user', id: a.users.member }, role: 'app_reader', resourceId: b.appId },
      ],
      [
        'POST',
        `${A}/bindings`,
        { principal: { type: 'group', id: b.groupId }, role: 'app_reader', resourceId: a.appId },
      ],
      ['DELETE', `${A}/bindings/${b.bindingId}`],
      ['DELETE', `${B}/bindings/${b.bindingId}`],
      ['GET', `${B}/groups`],
      ['GET', `${A}/groups/${b.groupId}`],
      ['PATCH', `${A}/groups/${b.groupId}`, { name: 'pwned' }],
      ['DELETE', `${A}/groups/${b.groupId}`],
      ['PUT', `${A}/groups/${b.groupId}/members/${a.users.member}`, {}],
      ['DELETE', `${A}/groups/${b.groupId}/members/${b.users.member}`],
      ['GET', `${B}/roles`],
      ['PATCH', `${A}/roles/${b.roleKey}`, { label: 'pwned' }],
      ['DELETE', `${A}/roles/${b.roleKey}`],
      ['GET', `${B}/billing`],
      ['PATCH', `${B}/billing`, { billingEmail: 'pwned@example.com' }],
      ['PUT', `${B}/billing/plan`, { plan: 'free' }],
      ['GET', `${B}/billing/credits`],
      ['POST', `${B}/billing/credits`, { kind: 'purchase', amount: 1 }],
      ['GET', `${B}/billing/invoices`],
      ['GET', `${B}/billing/invoices/${b.invoiceId}`],
      ['GET', `${A}/billing/invoices/${b.invoiceId}`],
      ['GET', `${B}/usage`],
    ]
    for (const [method, path, body] of calls) {
      const reply = await admin.request(method, path, body)
      expect({ call: `${method} ${path}`, status: reply.status }).toEqual({
        call: `${method} ${path}`,
        status: 404,
      })
      expect(reply.body.code).toMatch(/NOT_FOUND$/)
    }
    expect(await stateOfB()).toEqual(before)

    // Someone with rights in both orgs still can't mix them: an id under the wrong org's path is not found,
    // even though the engine alone would allow it (the store filters every lookup by the path's org).
    await s.platform.post(`/v1/orgs/${b.orgId}/members`, { userId: a.users.creator, roles: ['org_admin'] })
    const mixed = calls.filter(([, path]) => path.startsWith(A))
    for (const [method, path, body] of mixed) {
      const reply = await admin.request(method, path, body)
      expect({ call: `${method} ${path}`, status: reply.status }).toEqual({
        call: `${method} ${path}`,
        status: 404,
      })
    }
    await s.platform.delete(`/v1/orgs/${b.orgId}/members/${a.users.creator}`)
    expect(await stateOfB()).toEqual(before)
  })

  it("never reveals another org's resources through the check API", async () => {
    const me = s.as(a.users.creator)
    const real = await me.post('/v1/check', {
      permission: 'app.read',
      resource: { type: 'app', id: b.appId },
    })
    const fake = await me.post('/v1/check', {
      permission: 'app.read',
      resource: { type: 'app', id: crypto.randomUUID() },
    })
    expect(real.body.allowed).toBe(false)
    expect(fake.body.allowed).toBe(false)
    const who = await me.post('/v1/list-principals', {
      permission: 'app.read',
      resource: { type: 'app', id: b.appId },
    })
    const whoFake = await me.post('/v1/list-principals', {
      permission: 'app.read',
      resource: { type: 'app', id: crypto.randomUUID() },
    })
    expect([who.status, who.body.code]).toEqual([whoFake.status, whoFake.body.code])
    const others = await me.post('/v1/check', {
      subject: { type: 'user', id: b.users.creator },
      permission: 'app.read',
      resource: { type: 'app', id: b.appId },
    })
    expect(others.status).toBe(403)
    const listed = await me.post('/v1/list-resources', { permission: 'app.read', type: 'app' })
    expect(listed.body.ids).not.toContain(b.appId)
  })

  it('refuses fields a client may not set (mass assignment), naming them, and changes nothing', async () => {
    const admin = s.as(a.users.creator)
    const before = (await admin.get(`/v1/orgs/${a.orgId}`)).body
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/orgs', { name: 'x', creatorId: a.users.member }, 'creatorId'],
      ['POST', '/v1/orgs', { name: 'x', id: crypto.randomUUID() }, 'id'],
      ['PATCH', `/v1/orgs/${a.orgId}`, { name: 'x', creatorId: a.users.member }, 'creatorId'],
      [
        'PATCH',
        `/v1/orgs/${a.orgId}/members/${a.users.member}`,
        { roles: ['org_member'], status: 'pending' },
        'status',
      ],
      [
        'POST',
        `/v1/orgs/${a.orgId}/bindings`,
        {
          principal: { type: 'user', id: a.users.member },
          role: 'app_reader',
          resourceId: a.appId,
          grantedBy: a.users.admin,
        },
        'grantedBy',
      ],
      ['POST', `/v1/orgs/${a.orgId}/resources`, { type: 'app', name: 'x', orgId: b.orgId }, 'orgId'],
    ]
    for (const [method, path, body, field] of cases) {
      const reply = await admin.request(method, path, body)
      expect(reply.status, `${method} ${path}`).toBe(400)
      expect(reply.body.code).toBe('VALIDATION_FAILED')
      expect(JSON.stringify(reply.body.details.issues)).toContain(field)
    }
    expect((await admin.get(`/v1/orgs/${a.orgId}`)).body).toEqual(before)
  })

  it('answers a bad body with 400 and the field at fault', async () => {
    const admin = s.as(a.users.creator)
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/orgs', { name: '' }, 'name'],
      ['POST', '/v1/orgs', { name: 42 }, 'name'],
      ['POST', '/v1/orgs', {}, 'name'],
      ['PATCH', `/v1/orgs/${a.orgId}`, { managementEmail: 'not-an-email' }, 'managementEmail'],
      ['POST', `/v1/orgs/${a.orgId}/resources`, { type: 'app', name: 'x', parentId: 'nope' }, 'parentId'],
      [
        'POST',
        `/v1/orgs/${a.orgId}/bindings`,
        { principal: { type: 'robot', id: a.users.member }, role: 'app_reader' },
        'principal.type',
      ],
      [
        'POST',
        `/v1/orgs/${a.orgId}/bindings`,
        {
          principal: { type: 'user', id: a.users.member },
          role: 'app_reader',
          resourceId: a.appId,
          expiresAt: 'tomorrow',
        },
        'expiresAt',
      ],
      ['PATCH', `/v1/orgs/${a.orgId}/members/${a.users.member}`, { roles: [] }, 'roles'],
      ['POST', '/v1/check', { permission: 'app.read' }, 'resource'],
      ['POST', '/v1/check/batch', { checks: [] }, 'checks'],
      ['GET', `/v1/orgs/${a.orgId}/resources?limit=0`, undefined, 'limit'],
      ['GET', '/v1/orgs/not-a-uuid', undefined, 'orgId'],
    ]
    for (const [method, path, body, field] of cases) {
      const reply = await admin.request(method, path, body)
      expect(reply.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400)
      expect(reply.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } })
    }
    const broken = await admin.request('POST', '/v1/orgs', '{"name": ', {
      'content-type': 'application/json',
    })
    expect([broken.status, broken.body.code]).toEqual([400, 'VALIDATION_FAILED'])
    const semantic = await admin.post(`/v1/orgs/${a.orgId}/resources`, { type: 'spaceship', name: 'x' })
    expect([semantic.status, semantic.body.code]).toEqual([400, 'UNKNOWN_RESOURCE_TYPE'])
    const unauthenticated = await fetch(`${s.url}/v1/orgs`)
    expect(unauthenticated.status).toBe(401)
    expect(unauthenticated.headers.get('content-type')).toContain('application/problem+json')
  })

  it('serves an OpenAPI 3.1 document that a third-party validator accepts', async () => {
    const doc = (await s.platform.get('/v1/openapi.json')).body
    expect(doc.openapi).toBe('3.1.0')
    const result = await new Validator().validate(doc)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    const docs = await fetch(`${s.url}/v1/docs`)
    expect(docs.status).toBe(200)
    const html = await docs.text()
    expect(html).toContain('/v1/openapi.json')
    // The viewer's address names its content: kept for good, and a changed viewer is a new address.
    const src = /<script src="(\/v1\/docs\/redoc\.standalone\.js\?v=([0-9a-f]{16}))">/.exec(html)
    expect(src).not.toBeNull()
    const viewer = await fetch(`${s.url}${src![1]}`)
    expect(viewer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const body = await viewer.text()
    expect(createHash('sha256').update(body).digest('hex').slice(0, 16)).toBe(src![2])
    expect(body).not.toContain('cdn.redoc.ly')
  })
})
