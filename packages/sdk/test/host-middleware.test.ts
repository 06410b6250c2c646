import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import {
  hostTokenConfig,
  type JwksServer,
  makeKey,
  type SigningKey,
  signToken,
  startJwks,
} from '../../server/test/support/host-tokens.ts'
import { orgkitGuard as expressGuard } from '../examples/express.ts'
import { orgkitGuard as honoGuard } from '../examples/hono.ts'
import { authorization, createOrgkitClient, external, must } from '../src/index.ts'

/**
 * The middleware examples (examples/express.ts, examples/hono.ts) run as a host product would run them:
 * a real Orgkit over PGlite, the host's JWKS on loopback, and a host app that turns its requests into
 * checks — with the person's own token (Express), or with the platform token acting as the host's id for
 * them (Hono, through the SDK's `actAs`).
 */
describe('host middleware examples', () => {
  let orgkit: TestServer
  let jwks: JwksServer
  let key: SigningKey
  let appId: string
  const alice = 'host-user-alice'
  const bob = 'host-user-bob'

  beforeAll(async () => {
    key = await makeKey('ES256', 'host-1')
    jwks = await startJwks([key.jwk])
    orgkit = await startTestServer('pglite', { server: { hostTokens: hostTokenConfig(jwks) } })
    // Alice signs in to the host and uses Orgkit with her own token: she is made on her first call.
    const asAlice = client(orgkit.url, await signToken(key, { sub: alice, email: 'alice@host.example' }))
    const org = (await asAlice.post('/v1/orgs', { name: 'Alice Co' })).body.id
    appId = (await asAlice.post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'Shop' })).body.id
    // Bob is provisioned by the host's backend, by its own id for him, and joins as a plain member.
    const platform = createOrgkitClient({ baseUrl: orgkit.url, token: orgkit.token })
    const bobUser = await must(
      platform.PUT('/v1/users/external/{externalId}', {
        params: { path: { externalId: bob } },
        body: { email: 'bob@host.example', name: 'Bob' },
      }),
    )
    await must(
      platform.POST('/v1/orgs/{orgId}/members', {
        params: { path: { orgId: org } },
        body: { userId: bobUser.id, roles: ['org_member'] },
      }),
    )
  })
  afterAll(async () => {
    await orgkit?.stop()
    await jwks?.close()
  })

  it("Express: the person's own token is the check's caller", async () => {
    const guard = expressGuard({ baseUrl: orgkit.url })
    const host = express()
    host.post(
      '/apps/:appId/bundles',
      guard('app.upload_bundle', (req) => ({ type: 'app', id: String(req.params.appId) })),
      (_req, res) => {
        res.status(201).json({ uploaded: true })
      },
    )
    const server: Server = await new Promise((resolve) => {
      const s = host.listen(0, '127.0.0.1', () => resolve(s))
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const upload = async (token?: string) => {
      const response = await fetch(`${url}/apps/${appId}/bundles`, {
        method: 'POST',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })
      return { status: response.status, body: await response.json() }
    }
    try {
      expect(await upload(await signToken(key, { sub: alice }))).toEqual({
        status: 201,
        body: { uploaded: true },
      })
      const denied = await upload(await signToken(key, { sub: bob }))
      expect(denied).toEqual({ status: 403, body: { error: 'forbidden', reason: 'no_grant' } })
      expect((await upload()).status).toBe(401)
      const expired = await upload(await signToken(key, { sub: alice }, { now: Date.now() - 3_600_000 }))
      expect(expired).toEqual({ status: 401, body: { error: 'JWT_EXPIRED' } })
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("Hono: the platform token acts as the host's id for the person (actAs: external:<id>)", async () => {
    const guard = honoGuard({
      baseUrl: orgkit.url,
      platformToken: orgkit.token,
      // Stands for the host's own session middleware: its id for whoever signed in.
      userOf: (c) => c.req.header('x-host-session-user') ?? null,
    })
    const host = new Hono()
    host.post(
      '/apps/:appId/bundles',
      guard('app.upload_bundle', (c) => ({ type: 'app', id: c.req.param('appId')! })),
      (c) => c.json({ uploaded: true }, 201),
    )
    const upload = async (user?: string) => {
      const response = await host.request(`/apps/${appId}/bundles`, {
        method: 'POST',
        headers: user ? { 'x-host-session-user': user } : {},
      })
      return { status: response.status, body: await response.json() }
    }
    expect(await upload(alice)).toEqual({ status: 201, body: { uploaded: true } })
    expect(await upload(bob)).toEqual({ status: 403, body: { error: 'forbidden', reason: 'no_grant' } })
    expect(await upload('host-user-nobody')).toEqual({
      status: 403,
      body: { error: 'forbidden', reason: 'unknown_user' },
    })
    expect((await upload()).status).toBe(401)
  })

  it('createOrgkitClient({ actAs }) calls as that user, by id or by external id', async () => {
    const asBob = createOrgkitClient({ baseUrl: orgkit.url, token: orgkit.token, actAs: external(bob) })
    const me = await must(asBob.GET('/v1/me'))
    expect(me).toMatchObject({ externalId: bob, email: 'bob@host.example' })
    const byId = createOrgkitClient({
      baseUrl: orgkit.url,
      token: orgkit.token,
      actAs: (me as { id: string }).id,
    })
    expect(
      await authorization(byId).check({ permission: 'app.read', resource: { type: 'app', id: appId } }),
    ).toMatchObject({ allowed: true })
  })
})
