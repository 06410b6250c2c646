import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
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
import { hostApp as expressHost } from '../examples/express.ts'
import { hostApp as honoHost } from '../examples/hono.ts'
import { uploadBundle } from '../examples/next.ts'
import { authorization, createOrgkitClient, external, must } from '../src/index.ts'
import { createReplica } from '../src/replica.ts'

/**
 * The `requirePermission` examples (examples/express.ts, hono.ts, next.ts) run as a host product would run
 * them: a real Orgkit over PGlite, the host's JWKS on loopback, and a host app that turns its requests into
 * checks — with the person's own token (Express), with the platform token acting as the host's id for them
 * (Hono), or in memory by a replica of the engine (a Next.js route handler).
 */
describe('host middleware examples', () => {
  let orgkit: TestServer
  let jwks: JwksServer
  let key: SigningKey
  let appId: string
  let orgId: string
  const alice = 'host-user-alice'
  const bob = 'host-user-bob'

  beforeAll(async () => {
    key = await makeKey('ES256', 'host-1')
    jwks = await startJwks([key.jwk])
    orgkit = await startTestServer('pglite', { server: { hostTokens: hostTokenConfig(jwks) } })
    // Alice signs in to the host and uses Orgkit with her own token: she is made on her first call.
    const asAlice = client(orgkit.url, await signToken(key, { sub: alice, email: 'alice@host.example' }))
    const org = (await asAlice.post('/v1/orgs', { name: 'Alice Co' })).body.id
    orgId = org
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

  /** A refusal as the guards answer it: problem+json with the catalogue's code and the engine's reason. */
  const forbidden = (reason: string) => ({
    status: 403,
    type: 'application/problem+json',
    body: expect.objectContaining({
      status: 403,
      code: 'FORBIDDEN',
      permission: 'app.upload_bundle',
      reason,
    }),
  })
  const answer = async (response: Response) => ({
    status: response.status,
    type: response.headers.get('content-type')?.split(';')[0],
    body: await response.json(),
  })

  it("Express: the person's own token is the check's caller", async () => {
    const server: Server = await new Promise((resolve) => {
      const s = expressHost({ orgkitUrl: orgkit.url }).listen(0, '127.0.0.1', () => resolve(s))
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const upload = async (token?: string) =>
      answer(
        await fetch(`${url}/apps/${appId}/bundles`, {
          method: 'POST',
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }),
      )
    try {
      expect(await upload(await signToken(key, { sub: alice, email: 'alice@host.example' }))).toEqual({
        status: 201,
        type: 'application/json',
        body: { uploaded: true },
      })
      expect(await upload(await signToken(key, { sub: bob }))).toEqual(forbidden('no_grant'))
      expect(await upload()).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } })
      const expired = await upload(await signToken(key, { sub: alice }, { now: Date.now() - 3_600_000 }))
      expect(expired).toMatchObject({
        status: 401,
        type: 'application/problem+json',
        body: { code: 'JWT_EXPIRED' },
      })
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("Hono: the platform token acts as the host's id for the person (external:<id>)", async () => {
    const host = honoHost({ orgkitUrl: orgkit.url, platformToken: orgkit.token })
    const upload = async (user?: string) =>
      answer(
        await host.request(`/apps/${appId}/bundles`, {
          method: 'POST',
          headers: user ? { 'x-host-session-user': user } : {},
        }),
      )
    expect(await upload(alice)).toMatchObject({ status: 201, body: { uploaded: true } })
    expect(await upload(bob)).toEqual(forbidden('no_grant'))
    expect(await upload('host-user-nobody')).toEqual(forbidden('unknown_user'))
    expect(await upload()).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } })
  })

  it('Next.js: a route handler answered by an in-process replica, never older than a given revision', async () => {
    const replica = await createReplica({ url: orgkit.url, token: orgkit.token })
    try {
      const platform = createOrgkitClient({ baseUrl: orgkit.url, token: orgkit.token })
      const idOf = async (externalId: string) =>
        (await must(platform.GET('/v1/users', { params: { query: { externalId } } }))).items[0]!.id
      const ids: Record<string, string> = { alice: await idOf(alice), bob: await idOf(bob) }
      const POST = uploadBundle(replica, (req) => ids[req.headers.get('x-host-session') ?? ''] ?? null)
      const upload = async (who?: string, revision?: number) =>
        answer(
          await POST(
            new Request(`http://host.example/apps/${appId}/bundles`, {
              method: 'POST',
              headers: {
                ...(who && { 'x-host-session': who }),
                ...(revision && { 'x-orgkit-revision': String(revision) }),
              },
            }),
            { params: Promise.resolve({ appId }) },
          ),
        )
      expect(await upload('alice')).toMatchObject({ status: 201, body: { uploaded: appId } })
      expect(await upload('bob')).toEqual(forbidden('no_grant'))
      expect(await upload()).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } })
      // Alice makes Bob a developer of the app; the revision she gets back lets Bob's next request through.
      const asAlice = createOrgkitClient({ baseUrl: orgkit.url, token: orgkit.token, actAs: ids.alice })
      const { revision } = await must(
        asAlice.POST('/v1/orgs/{orgId}/bindings', {
          params: { path: { orgId } },
          body: { principal: { type: 'user', id: ids.bob! }, role: 'app_developer', resourceId: appId },
        }),
      )
      expect(await upload('bob', revision)).toMatchObject({ status: 201 })
    } finally {
      await replica.close()
    }
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
