import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import { createHostApp } from '../examples/embed-express.ts'
import { createReplica, type Replica } from '../src/replica.ts'

/** docs/embed-express.md's code (examples/embed-express.ts), run as the guide tells: against a real Orgkit. */
describe('embedding Orgkit in an existing Express app (docs/embed-express.md)', () => {
  let orgkit: TestServer
  let replica: Replica
  let host: Server
  let url: string

  beforeAll(async () => {
    orgkit = await startTestServer('pglite')
    replica = await createReplica({ url: orgkit.url, token: orgkit.token })
    const app = createHostApp({ orgkitUrl: orgkit.url, platformToken: orgkit.token, replica })
    host = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    url = `http://127.0.0.1:${(host.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => host?.close(resolve))
    await replica?.close()
    await orgkit?.stop()
  })

  const call = async (method: string, path: string, session?: string, body?: unknown) => {
    const response = await fetch(url + path, {
      method,
      headers: {
        ...(session && { 'x-session': session }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: text ? JSON.parse(text) : null,
    }
  }

  it('signs people up, writes as them, and guards its routes from the replica', async () => {
    expect(
      (await call('POST', '/signup', undefined, { id: 'u-ann', email: 'ann@app.example', name: 'Ann' }))
        .status,
    ).toBe(201)
    expect(
      (await call('POST', '/signup', undefined, { id: 'u-ben', email: 'ben@app.example', name: 'Ben' }))
        .status,
    ).toBe(201)
    const team = (await call('POST', '/teams', 'u-ann', { name: 'Ann & Co' })).body.id
    const project = (await call('POST', `/teams/${team}/projects`, 'u-ann', { name: 'Site' })).body.id

    expect(await call('GET', `/projects/${project}`, 'u-ann')).toMatchObject({
      status: 200,
      body: { id: project },
    })
    const refused = await call('GET', `/projects/${project}`, 'u-ben')
    expect(refused).toMatchObject({
      status: 403,
      type: expect.stringMatching(/^application\/problem\+json/),
      body: { code: 'FORBIDDEN', permission: 'app.read', reason: 'no_grant' },
    })
    expect((await call('GET', `/projects/${project}`)).status).toBe(401)

    // Ann adds Ben as a member: the next request sees it (the write's revision bounds the check).
    expect(
      (await call('POST', `/teams/${team}/members`, 'u-ann', { userId: 'u-ben', role: 'org_member' })).status,
    ).toBe(201)
    expect((await call('GET', `/projects/${project}`, 'u-ben')).status).toBe(200)
    expect(await call('POST', `/projects/${project}/builds`, 'u-ben')).toMatchObject({
      status: 403,
      body: { permission: 'app.upload_bundle' },
    })
    expect((await call('POST', `/projects/${project}/builds`, 'u-ann')).status).toBe(201)

    // Ben may not bring people in.
    expect(
      await call('POST', `/teams/${team}/members`, 'u-ben', { userId: 'u-ann', role: 'org_member' }),
    ).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    })
    expect((await call('GET', '/orgkit/lag')).body).toMatchObject({ behind: 0, transport: 'sse' })
  })
})
