import { orgDomains } from '@orgkit/store'
import { describe, expect, it } from 'vitest'
import { issueLastMonthInvoice } from './support/billing.ts'
import { type CapgoWorld, capgoWorld, useCapgoServer } from './support/fixtures.ts'
import { DATABASES, type Reply, solveCaptcha, type TestServer } from './support/harness.ts'

/**
 * Every route × every kind of caller, under the capgo preset (SPEC 7). The table says what each caller gets;
 * a route in the OpenAPI document but missing here fails the suite, so a new route can't ship unreviewed.
 * C creator (super admin) · A admin · B billing manager · M member · X external App Admin of the app (it
 * belongs to the org, SPEC 1.4: sees it and is refused what its role doesn't give) · O outsider (404).
 */
type Caller = 'C' | 'A' | 'B' | 'M' | 'X' | 'O'
const CALLERS: Caller[] = ['C', 'A', 'B', 'M', 'X', 'O']
const USER_OF: Record<Caller, keyof CapgoWorld['users']> = {
  C: 'creator',
  A: 'admin',
  B: 'billing',
  M: 'member',
  X: 'appAdmin',
  O: 'outsider',
}

interface Call {
  method: string
  path: string
  body?: unknown
}
type Expect = Record<Caller, number>
interface Row {
  route: string
  expect: Expect
  /** Builds the request; may prepare a disposable target through the platform token first. */
  call: (w: CapgoWorld, s: TestServer, caller: Caller) => Promise<Call>
}

const all = (status: number): Expect => ({ C: status, A: status, B: status, M: status, X: status, O: status })
const e = (C: number, A: number, B: number, M: number, X: number, O: number): Expect => ({ C, A, B, M, X, O })

let seq = 0
const next = () => ++seq

async function disposableMember(s: TestServer, w: CapgoWorld) {
  const id = await s.user(`Temp${next()}`)
  await s.platform.post(`/v1/orgs/${w.orgId}/members`, { userId: id, roles: ['org_member'] })
  return id
}

async function disposableChannel(s: TestServer, w: CapgoWorld) {
  const reply = await s.platform.post(`/v1/orgs/${w.orgId}/resources`, {
    type: 'channel',
    name: `ch${next()}`,
    parentId: w.appId,
  })
  return reply.body.id as string
}

async function disposableApp(s: TestServer, w: CapgoWorld) {
  const reply = await s
    .as(w.users.creator)
    .post(`/v1/orgs/${w.orgId}/resources`, { type: 'app', name: `tmp${next()}` })
  return reply.body.id as string
}

/**
 * A world of its own, for calls that end it (delete, transfer): a new one for a caller the row lets through,
 * and one shared by the callers after it that the row refuses (a refused call leaves the world as it was;
 * were one let through by mistake, its own status fails the row). Issue 25.6: a world for every caller made
 * these two rows the matrix's costliest, 3.8 s of CPU over both databases; ~1.6 s with two worlds a row.
 */
const sharedWorlds = new WeakMap<TestServer, Map<string, Promise<CapgoWorld>>>()
async function freshWorld(s: TestServer, row: string, status: number): Promise<CapgoWorld> {
  const byRow = sharedWorlds.get(s) ?? new Map<string, Promise<CapgoWorld>>()
  sharedWorlds.set(s, byRow)
  if (status >= 200 && status < 300) {
    byRow.delete(row)
    return capgoWorld(s)
  }
  let world = byRow.get(row)
  if (!world) {
    world = capgoWorld(s)
    byRow.set(row, world)
  }
  return world
}
/** Deleting or transferring an org: its Super Admin's alone. */
const OWNER_ONLY = e(200, 403, 403, 403, 403, 404)

const ROWS: Row[] = [
  {
    route: 'POST /v1/users',
    expect: all(403),
    call: async () => ({
      method: 'POST',
      path: '/v1/users',
      body: { email: `x${next()}@example.com`, name: 'X' },
    }),
  },
  {
    route: 'GET /v1/users',
    expect: all(403),
    call: async () => ({ method: 'GET', path: '/v1/users?email=someone%40example.com' }),
  },
  {
    route: 'POST /v1/auth/host-session',
    // Only a host token (the host product's JWT) is exchanged for a session: these callers are not one.
    expect: all(403),
    call: async () => ({ method: 'POST', path: '/v1/auth/host-session', body: { token: 'not.a.jwt' } }),
  },
  {
    route: 'GET /v1/auth/sso/saml/{connectionId}/metadata',
    // Public (an IdP's admin reads it); no connection has this id.
    expect: all(404),
    call: async () => ({
      method: 'GET',
      path: '/v1/auth/sso/saml/00000000-0000-4000-8000-000000000000/metadata',
    }),
  },
  {
    route: 'POST /v1/auth/sso/saml/{connectionId}/acs',
    // Public, and it takes only the IdP's form (sso-saml.test.ts walks it): JSON is refused whoever sends it.
    expect: all(415),
    call: async () => ({
      method: 'POST',
      path: '/v1/auth/sso/saml/00000000-0000-4000-8000-000000000000/acs',
      body: { SAMLResponse: 'x', RelayState: 'y' },
    }),
  },
  {
    route: 'PUT /v1/users/external/{externalId}',
    expect: all(403),
    call: async () => ({
      method: 'PUT',
      path: `/v1/users/external/ext-${next()}`,
      body: { email: `ext${next()}@example.com`, name: 'Ext' },
    }),
  },
  { route: 'GET /v1/me', expect: all(200), call: async () => ({ method: 'GET', path: '/v1/me' }) },
  { route: 'GET /v1/orgs', expect: all(200), call: async () => ({ method: 'GET', path: '/v1/orgs' }) },
  {
    route: 'POST /v1/orgs',
    expect: all(201),
    call: async () => ({ method: 'POST', path: '/v1/orgs', body: { name: `Org ${next()}` } }),
  },
  {
    route: 'GET /v1/orgs/{orgId}',
    expect: e(200, 200, 200, 200, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}` }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'PATCH', path: `/v1/orgs/${w.orgId}`, body: { name: 'Acme Renamed' } }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}',
    expect: OWNER_ONLY,
    call: async (_w, s, caller) => {
      const fresh = await freshWorld(s, 'DELETE org', OWNER_ONLY[caller])
      // One's last org is not deleted (seed 001, LAST_ORG): the caller has another.
      await s.as(fresh.users[USER_OF[caller]]).post('/v1/orgs', { name: 'Elsewhere' })
      return { method: 'DELETE', path: `/v1/orgs/${fresh.orgId}`, as: fresh.users[USER_OF[caller]] } as Call
    },
  },
  {
    route: 'POST /v1/orgs/{orgId}/transfer',
    expect: OWNER_ONLY,
    call: async (_w, s, caller) => {
      const fresh = await freshWorld(s, 'transfer org', OWNER_ONLY[caller])
      return {
        method: 'POST',
        path: `/v1/orgs/${fresh.orgId}/transfer`,
        body: { userId: fresh.users.admin },
        as: fresh.users[USER_OF[caller]],
      } as Call
    },
  },
  {
    route: 'GET /v1/orgs/{orgId}/members',
    expect: e(200, 200, 403, 200, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/members` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/members',
    expect: all(403),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/members`,
      body: { userId: await s.user(`N${next()}`) },
    }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/members/{userId}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/members/${await disposableMember(s, w)}`,
      body: { roles: ['org_admin'] },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/members/{userId}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'DELETE',
      path: `/v1/orgs/${w.orgId}/members/${await disposableMember(s, w)}`,
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/resources',
    expect: e(200, 200, 200, 200, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/resources` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/resources',
    expect: e(201, 201, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/resources`,
      body: { type: 'app', name: `app${next()}` },
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/resources/{id}',
    expect: e(200, 200, 404, 200, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/resources/${w.appId}` }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/resources/{id}',
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/resources/${w.appId}`,
      body: { name: 'Shop' },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/resources/{id}',
    expect: e(200, 403, 404, 403, 404, 404),
    call: async (w, s) => ({
      method: 'DELETE',
      path: `/v1/orgs/${w.orgId}/resources/${await disposableApp(s, w)}`,
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/resources/{id}/access',
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/resources/${w.appId}/access` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/resources/{id}/reach',
    // Who reaches it and how: read like its access list.
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/resources/${w.appId}/reach` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/resources/{id}/impact',
    expect: e(200, 403, 404, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/resources/${w.appId}/impact` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/resources/{id}/transfer',
    // A channel of the app moved under another app of the org.
    expect: e(200, 403, 404, 403, 404, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/resources/${await disposableChannel(s, w)}/transfer`,
      body: { toOrgId: w.orgId, parentId: await disposableApp(s, w) },
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/resources/{id}/overrides',
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/resources/${w.appId}/overrides` }),
  },
  {
    route: 'PUT /v1/orgs/{orgId}/resources/{id}/overrides',
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w) => ({
      method: 'PUT',
      path: `/v1/orgs/${w.orgId}/resources/${w.stagingId}/overrides`,
      body: {
        principal: { type: 'user', id: w.users.member },
        permission: 'channel.read_history',
        effect: 'deny',
      },
    }),
  },
  { route: 'GET /v1/model', expect: all(200), call: async () => ({ method: 'GET', path: '/v1/model' }) },
  {
    route: 'GET /v1/orgs/{orgId}/roles',
    expect: e(200, 200, 200, 200, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/roles` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/roles',
    expect: e(201, 201, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/roles`,
      body: {
        key: `viewer_${next()}`,
        scope: 'app',
        slot: 'app',
        label: 'Viewer',
        permissions: ['app.read'],
        priority: 10,
      },
    }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/roles/{key}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/roles/${await customRole(s, w)}`,
      body: { label: 'Renamed' },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/roles/{key}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({ method: 'DELETE', path: `/v1/orgs/${w.orgId}/roles/${await customRole(s, w)}` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/config',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/config` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/config/plan',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'POST', path: `/v1/orgs/${w.orgId}/config/plan`, body: { version: 1 } }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/config/apply',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'POST', path: `/v1/orgs/${w.orgId}/config/apply`, body: { version: 1 } }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/bindings',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/bindings` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/bindings',
    expect: e(201, 201, 404, 403, 201, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/bindings`,
      body: {
        principal: { type: 'user', id: await s.user(`R${next()}`) },
        role: 'app_reader',
        resourceId: w.appId,
      },
    }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/bindings/{id}',
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w, s) => {
      const made = await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
        principal: { type: 'user', id: await s.user(`R${next()}`) },
        role: 'app_reader',
        resourceId: w.appId,
      })
      return {
        method: 'PATCH',
        path: `/v1/orgs/${w.orgId}/bindings/${made.body.id}`,
        body: { role: 'app_uploader' },
      }
    },
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/bindings/{id}',
    expect: e(200, 200, 404, 403, 200, 404),
    call: async (w, s) => {
      const made = await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
        principal: { type: 'user', id: await s.user(`R${next()}`) },
        role: 'app_reader',
        resourceId: w.appId,
      })
      return { method: 'DELETE', path: `/v1/orgs/${w.orgId}/bindings/${made.body.id}` }
    },
  },
  {
    route: 'GET /v1/orgs/{orgId}/groups',
    expect: e(200, 200, 403, 200, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/groups` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/groups',
    expect: e(201, 201, 403, 403, 403, 404),
    call: async (w) => ({ method: 'POST', path: `/v1/orgs/${w.orgId}/groups`, body: { name: `G${next()}` } }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/groups/{id}',
    expect: e(200, 200, 403, 200, 403, 404),
    call: async (w, s) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/groups/${await group(s, w)}` }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/groups/{id}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/groups/${await group(s, w)}`,
      body: { description: 'QA' },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/groups/{id}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({ method: 'DELETE', path: `/v1/orgs/${w.orgId}/groups/${await group(s, w)}` }),
  },
  {
    route: 'PUT /v1/orgs/{orgId}/groups/{id}/members/{userId}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PUT',
      path: `/v1/orgs/${w.orgId}/groups/${await group(s, w)}/members/${w.users.member}`,
      body: {},
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/groups/{id}/members/{userId}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => {
      const id = await group(s, w)
      await s.platform.put(`/v1/orgs/${w.orgId}/groups/${id}/members/${w.users.member}`, {})
      return { method: 'DELETE', path: `/v1/orgs/${w.orgId}/groups/${id}/members/${w.users.member}` }
    },
  },
  {
    route: 'POST /v1/check',
    expect: all(200),
    call: async (w) => ({
      method: 'POST',
      path: '/v1/check',
      body: { permission: 'app.read', resource: { type: 'app', id: w.appId } },
    }),
  },
  {
    route: 'POST /v1/check/batch',
    expect: all(200),
    call: async (w) => ({
      method: 'POST',
      path: '/v1/check/batch',
      body: { checks: [{ permission: 'org.read', resource: { org: w.orgId } }] },
    }),
  },
  {
    route: 'POST /v1/list-resources',
    expect: all(200),
    call: async () => ({
      method: 'POST',
      path: '/v1/list-resources',
      body: { permission: 'app.read', type: 'app' },
    }),
  },
  {
    route: 'POST /v1/list-principals',
    expect: e(200, 200, 403, 403, 403, 403),
    call: async (w) => ({
      method: 'POST',
      path: '/v1/list-principals',
      body: { permission: 'app.read', resource: { type: 'app', id: w.appId } },
    }),
  },
  {
    route: 'POST /v1/auth/signup',
    expect: all(200),
    call: async () => ({
      method: 'POST',
      path: '/v1/auth/signup',
      body: { email: `new${next()}@example.com`, password: 'a long enough passphrase', name: 'New' },
    }),
  },
  {
    route: 'POST /v1/auth/verify',
    expect: all(404),
    call: async () => ({ method: 'POST', path: '/v1/auth/verify', body: { token: 'oki_nope' } }),
  },
  {
    route: 'POST /v1/auth/password-reset',
    expect: all(202),
    call: async () => ({
      method: 'POST',
      path: '/v1/auth/password-reset',
      body: { email: `nobody${next()}@example.com` },
    }),
  },
  {
    route: 'POST /v1/auth/password-reset/confirm',
    expect: all(404),
    call: async () => ({
      method: 'POST',
      path: '/v1/auth/password-reset/confirm',
      body: { token: 'okr_nope', password: 'a long enough passphrase' },
    }),
  },
  {
    route: 'POST /v1/auth/login',
    expect: all(401),
    call: async () => ({
      method: 'POST',
      path: '/v1/auth/login',
      // An email of its own each time: five failures for one email ask for a captcha (issue 22.1).
      body: { email: `nobody${next()}@example.com`, password: 'wrong password!' },
    }),
  },
  {
    route: 'POST /v1/auth/logout',
    expect: all(200),
    call: async () => ({ method: 'POST', path: '/v1/auth/logout' }),
  },
  {
    route: 'POST /v1/auth/logout-all',
    expect: all(200),
    call: async () => ({ method: 'POST', path: '/v1/auth/logout-all' }),
  },
  {
    route: 'POST /v1/me/password',
    expect: all(401),
    call: async () => ({
      method: 'POST',
      path: '/v1/me/password',
      body: { current: 'not my password', next: 'another long passphrase' },
    }),
  },
  {
    route: 'POST /v1/me/mfa/totp',
    expect: all(200),
    call: async () => ({ method: 'POST', path: '/v1/me/mfa/totp' }),
  },
  {
    route: 'POST /v1/me/mfa/totp/confirm',
    expect: all(401),
    call: async () => ({ method: 'POST', path: '/v1/me/mfa/totp/confirm', body: { code: '000000' } }),
  },
  {
    route: 'DELETE /v1/me/mfa/totp',
    expect: all(400),
    call: async () => ({
      method: 'DELETE',
      path: '/v1/me/mfa/totp',
      body: { password: 'x', totp: '000000' },
    }),
  },
  {
    route: 'GET /v1/me/api-keys',
    expect: all(200),
    call: async () => ({ method: 'GET', path: '/v1/me/api-keys' }),
  },
  {
    route: 'POST /v1/me/api-keys',
    expect: all(201),
    call: async () => ({ method: 'POST', path: '/v1/me/api-keys', body: { name: 'ci' } }),
  },
  {
    route: 'DELETE /v1/me/api-keys/{id}',
    expect: all(200),
    call: async (w, s, caller) => {
      const key = await s.as(w.users[USER_OF[caller]]).post('/v1/me/api-keys', { name: 'tmp' })
      return { method: 'DELETE', path: `/v1/me/api-keys/${key.body.id}` }
    },
  },
  { route: 'GET /v1/captcha', expect: all(200), call: async () => ({ method: 'GET', path: '/v1/captcha' }) },
  {
    route: 'GET /v1/orgs/{orgId}/invitations',
    expect: e(200, 200, 403, 200, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/invitations` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/invitations',
    expect: e(201, 201, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/invitations`,
      body: { email: `invitee${next()}@example.com`, role: 'org_member', captcha: await solveCaptcha(s.url) },
    }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/invitations/{id}/resend',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/invitations/${await invitation(s, w)}/resend`,
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/invitations/{id}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'DELETE',
      path: `/v1/orgs/${w.orgId}/invitations/${await invitation(s, w)}`,
    }),
  },
  {
    route: 'GET /v1/invitations/{token}',
    expect: all(404),
    call: async () => ({ method: 'GET', path: '/v1/invitations/oki_nope' }),
  },
  {
    route: 'POST /v1/invitations/{token}/accept',
    expect: all(404),
    call: async () => ({ method: 'POST', path: '/v1/invitations/oki_nope/accept' }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/security',
    expect: e(200, 200, 200, 200, 200, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/security` }),
  },
  {
    route: 'PUT /v1/orgs/{orgId}/security',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'PUT',
      path: `/v1/orgs/${w.orgId}/security`,
      body: { requireMfa: false, passwordPolicy: null, apiKeyPolicy: null },
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/security/compliance',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/security/compliance` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/security/preview',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/security/preview`,
      body: { requireMfa: true, passwordPolicy: null, apiKeyPolicy: null },
    }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/domains',
    expect: e(201, 403, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/domains`,
      body: { domain: `m${next()}.test` },
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/domains',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/domains` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/domains/{domainId}/verify',
    // Verified already (no DNS here): the creator gets it as it is.
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/domains/${await domain(s, w, true)}/verify`,
    }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/domains/{domainId}',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/domains/${await domain(s, w, true)}`,
      body: { joinMode: 'suggest' },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/domains/{domainId}',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'DELETE',
      path: `/v1/orgs/${w.orgId}/domains/${await domain(s, w, false)}`,
    }),
  },
  {
    route: 'GET /v1/me/suggested-orgs',
    expect: all(200),
    call: async () => ({ method: 'GET', path: '/v1/me/suggested-orgs' }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/join',
    // Nobody here has a verified email at a domain the org verified: no org to join that way.
    expect: all(404),
    call: async (w) => ({ method: 'POST', path: `/v1/orgs/${w.orgId}/join` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/api-keys',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/api-keys` }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/api-keys/{keyId}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => {
      const owner = await disposableMember(s, w)
      const key = await s.as(owner).post('/v1/me/api-keys', { name: 'tmp', orgIds: [w.orgId] })
      return { method: 'DELETE', path: `/v1/orgs/${w.orgId}/api-keys/${key.body.id}` }
    },
  },
  {
    route: 'POST /v1/orgs/{orgId}/scim-tokens',
    // A directory token adds and removes people: the Super Admin's act (org.manage_security).
    expect: e(201, 403, 403, 403, 403, 404),
    call: async (w) => ({ method: 'POST', path: `/v1/orgs/${w.orgId}/scim-tokens`, body: { name: 'Okta' } }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/scim-tokens',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/scim-tokens` }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/scim-tokens/{id}',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => {
      const token = await s.platform.post(`/v1/orgs/${w.orgId}/scim-tokens`, { name: 'tmp' })
      return { method: 'DELETE', path: `/v1/orgs/${w.orgId}/scim-tokens/${token.body.id}` }
    },
  },
  {
    route: 'GET /v1/orgs/{orgId}/sso-connections',
    // How the org's people sign in, and its IdP's settings: the Super Admin's (org.manage_security).
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/sso-connections` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/sso-connections',
    expect: e(201, 403, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/sso-connections`,
      body: SSO_CONNECTION,
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/sso-connections/{connectionId}',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'GET',
      path: `/v1/orgs/${w.orgId}/sso-connections/${await ssoConnection(s, w)}`,
    }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/sso-connections/{connectionId}',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/sso-connections/${await ssoConnection(s, w)}`,
      body: { name: 'Renamed' },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/sso-connections/{connectionId}',
    expect: e(204, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'DELETE',
      path: `/v1/orgs/${w.orgId}/sso-connections/${await ssoConnection(s, w)}`,
    }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/sso-connections/{connectionId}/test',
    // Nothing listens at the issuer: the test answers what is wrong (ok: false), to the creator only.
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/sso-connections/${await ssoConnection(s, w)}/test`,
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/sso-policy',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/sso-policy` }),
  },
  {
    route: 'PUT /v1/orgs/{orgId}/sso-policy',
    expect: e(200, 403, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'PUT',
      path: `/v1/orgs/${w.orgId}/sso-policy`,
      body: { ssoRequired: false, breakGlassUserId: null },
    }),
  },
  {
    route: 'POST /v1/auth/sso/start',
    // Public; neither an email nor a connection id: a clear 400 whoever asks (sso-oidc.test.ts walks it).
    expect: all(400),
    call: async () => ({ method: 'POST', path: '/v1/auth/sso/start', body: {} }),
  },
  {
    route: 'GET /v1/auth/sso/callback',
    // Public; a state too long to be one of ours is refused before anything is looked up.
    expect: all(400),
    call: async () => ({ method: 'GET', path: `/v1/auth/sso/callback?state=${'x'.repeat(501)}` }),
  },
  { route: 'GET /v1/outbox', expect: all(403), call: async () => ({ method: 'GET', path: '/v1/outbox' }) },
  {
    route: 'GET /v1/orgs/{orgId}/audit-logs',
    expect: e(200, 200, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/audit-logs` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/audit-logs/actions',
    expect: e(200, 200, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/audit-logs/actions` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/impact',
    // For those who may delete, transfer or change the org's settings (an Admin may change them).
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/impact` }),
  },
  {
    route: 'GET /v1/webhook-event-types',
    expect: all(200),
    call: async () => ({ method: 'GET', path: '/v1/webhook-event-types' }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/webhooks/{id}/rotate-secret',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/webhooks/${await webhook(s, w)}/rotate-secret`,
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/audit-logs/export',
    expect: e(200, 200, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/audit-logs/export?format=json` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/audit-logs/verify',
    expect: e(200, 200, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/audit-logs/verify` }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/webhooks',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/webhooks` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/webhooks',
    expect: e(201, 201, 403, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/webhooks`,
      body: { url: 'http://127.0.0.1:9/hook' },
    }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/webhooks/{id}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/webhooks/${await webhook(s, w)}`,
      body: { enabled: false },
    }),
  },
  {
    route: 'DELETE /v1/orgs/{orgId}/webhooks/{id}',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({ method: 'DELETE', path: `/v1/orgs/${w.orgId}/webhooks/${await webhook(s, w)}` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/webhooks/{id}/test',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/webhooks/${await webhook(s, w)}/test`,
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/webhooks/{id}/deliveries',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => ({
      method: 'GET',
      path: `/v1/orgs/${w.orgId}/webhooks/${await webhook(s, w)}/deliveries`,
    }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/deliveries/{id}/redeliver',
    expect: e(200, 200, 403, 403, 403, 404),
    call: async (w, s) => {
      const ping = await s.platform.post(`/v1/orgs/${w.orgId}/webhooks/${await webhook(s, w)}/test`)
      return { method: 'POST', path: `/v1/orgs/${w.orgId}/deliveries/${ping.body.deliveryId}/redeliver` }
    },
  },
  {
    route: 'POST /v1/explain',
    expect: all(200),
    call: async (w) => ({
      method: 'POST',
      path: '/v1/explain',
      body: { permission: 'app.read', resource: { type: 'app', id: w.appId } },
    }),
  },
  {
    route: 'GET /v1/plans',
    expect: all(200),
    call: async () => ({ method: 'GET', path: '/v1/plans' }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/billing',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/billing` }),
  },
  {
    route: 'PATCH /v1/orgs/{orgId}/billing',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (w) => ({
      method: 'PATCH',
      path: `/v1/orgs/${w.orgId}/billing`,
      body: { billingEmail: 'billing@example.com' },
    }),
  },
  {
    route: 'PUT /v1/orgs/{orgId}/billing/plan',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (w) => ({
      method: 'PUT',
      path: `/v1/orgs/${w.orgId}/billing/plan`,
      body: { plan: 'unlimited' },
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/billing/credits',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/billing/credits` }),
  },
  {
    route: 'POST /v1/orgs/{orgId}/billing/credits',
    expect: e(201, 403, 201, 403, 403, 404),
    call: async (w) => ({
      method: 'POST',
      path: `/v1/orgs/${w.orgId}/billing/credits`,
      body: { kind: 'purchase', amount: 10 },
    }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/billing/invoices',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/billing/invoices` }),
  },
  {
    // Issuing is the platform's (or its hourly job's): no user, whatever their role, issues an invoice.
    route: 'POST /v1/orgs/{orgId}/billing/invoices',
    expect: all(403),
    call: async (w) => ({ method: 'POST', path: `/v1/orgs/${w.orgId}/billing/invoices`, body: {} }),
  },
  {
    route: 'GET /v1/orgs/{orgId}/billing/invoices/{id}',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (_w, s, caller) => {
      const { world, invoiceId } = await invoiced(s)
      return {
        method: 'GET',
        path: `/v1/orgs/${world.orgId}/billing/invoices/${invoiceId}`,
        as: world.users[USER_OF[caller]],
      } as Call
    },
  },
  {
    route: 'POST /v1/orgs/{orgId}/billing/invoices/{id}/pay',
    expect: all(403),
    call: async (_w, s, caller) => {
      const { world, invoiceId } = await invoiced(s)
      return {
        method: 'POST',
        path: `/v1/orgs/${world.orgId}/billing/invoices/${invoiceId}/pay`,
        body: {},
        as: world.users[USER_OF[caller]],
      } as Call
    },
  },
  {
    route: 'GET /v1/orgs/{orgId}/usage',
    expect: e(200, 403, 200, 403, 403, 404),
    call: async (w) => ({ method: 'GET', path: `/v1/orgs/${w.orgId}/usage` }),
  },
  // Every org's structure: the platform token's alone (the replica for hosts, issue 24.2).
  {
    route: 'GET /v1/engine/snapshot',
    expect: all(403),
    call: async () => ({ method: 'GET', path: '/v1/engine/snapshot' }),
  },
  {
    route: 'GET /v1/engine/changes',
    expect: all(403),
    call: async () => ({ method: 'GET', path: '/v1/engine/changes?after=0' }),
  },
]

/** A world of its own with last month's invoice, made once per server. */
const invoicedWorlds = new WeakMap<TestServer, Promise<{ world: CapgoWorld; invoiceId: string }>>()
function invoiced(s: TestServer) {
  let made = invoicedWorlds.get(s)
  if (!made) {
    made = (async () => {
      const world = await capgoWorld(s)
      return { world, invoiceId: await issueLastMonthInvoice(s, world.orgId) }
    })()
    invoicedWorlds.set(s, made)
  }
  return made
}

async function customRole(s: TestServer, w: CapgoWorld) {
  const key = `tmp_${next()}`
  await s.platform.post(`/v1/orgs/${w.orgId}/roles`, {
    key,
    scope: 'app',
    slot: 'app',
    label: 'Tmp',
    permissions: ['app.read'],
    priority: 5,
  })
  return key
}

async function invitation(s: TestServer, w: CapgoWorld) {
  const reply = await s.platform.post(`/v1/orgs/${w.orgId}/invitations`, {
    email: `inv${next()}@example.com`,
    role: 'org_member',
  })
  return reply.body.id as string
}

/** A domain claim of the org, verified through the repository (the matrix has no DNS server to ask). */
async function domain(s: TestServer, w: CapgoWorld, verified: boolean) {
  const id = (await s.platform.post(`/v1/orgs/${w.orgId}/domains`, { domain: `m${next()}.test` })).body
    .id as string
  if (verified)
    await s.store.db.transaction().execute((tx) => orgDomains.markVerified(tx, w.orgId, id, new Date()))
  return id
}

const SSO_CONNECTION = {
  kind: 'oidc',
  name: 'IdP',
  config: { issuer: 'http://127.0.0.1:9', clientId: 'orgkit', clientSecret: 'secret' },
}

async function ssoConnection(s: TestServer, w: CapgoWorld) {
  return (await s.platform.post(`/v1/orgs/${w.orgId}/sso-connections`, SSO_CONNECTION)).body.id as string
}

/**
 * A disposable endpoint, subscribed to an event no row causes in this org (an SSO connection's test sign-in):
 * the matrix makes ~30, and an endpoint taking every event was sent each later write of the org (~750
 * deliveries, ~1,300 failed attempts to the closed port: several seconds of the server's CPU that no row
 * asserts). Its pings (the test and redeliver rows) go to it all the same.
 */
async function webhook(s: TestServer, w: CapgoWorld) {
  return (
    await s.platform.post(`/v1/orgs/${w.orgId}/webhooks`, {
      url: 'http://127.0.0.1:9/hook',
      events: ['sso_connection.tested'],
    })
  ).body.id as string
}

async function group(s: TestServer, w: CapgoWorld) {
  return (await s.platform.post(`/v1/orgs/${w.orgId}/groups`, { name: `Group ${next()}` })).body.id as string
}

describe.each(DATABASES)('route × caller matrix (%s)', (database) => {
  const { s, w } = useCapgoServer(database)

  it('covers every route of the OpenAPI document, and no route twice', async () => {
    const doc = (await s.platform.get('/v1/openapi.json')).body
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(ROWS.map((r) => r.route).sort()).toEqual([...documented].sort())
  })

  for (const row of ROWS) {
    it(row.route, async () => {
      const got: Partial<Record<Caller, number>> = {}
      const details: Record<string, unknown> = {}
      for (const caller of CALLERS) {
        const call = (await row.call(w, s, caller)) as Call & { as?: string }
        const reply: Reply = await s
          .as(call.as ?? w.users[USER_OF[caller]])
          .request(call.method, call.path, call.body)
        got[caller] = reply.status
        if (reply.status !== row.expect[caller]) details[caller] = reply.body
        if (reply.status === 403) expect(['FORBIDDEN', 'PLATFORM_ONLY']).toContain(reply.body.code)
        if (reply.status === 401) expect(['INVALID_CREDENTIALS', 'MFA_INVALID']).toContain(reply.body.code)
        if (reply.status === 404) expect(reply.body.code).toMatch(/NOT_FOUND$|_INVALID$/)
      }
      expect({ got, details }).toEqual({ got: row.expect, details: {} })
    })
  }
})
