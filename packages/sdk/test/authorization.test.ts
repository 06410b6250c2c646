import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  authorization,
  createOrgkitClient,
  type ErrorCode,
  OrgkitApiError,
  type PlatformPermission,
  type ProblemCode,
} from '../src/index.ts'

/** A server of one answer: records what was sent, answers `status` with `body`. */
function fakeServer(status: number, body: unknown) {
  const sent: { url: string; body: unknown }[] = []
  // openapi-fetch calls fetch with one Request.
  const fetch = (async (input: Request) => {
    sent.push({ url: new URL(input.url).pathname, body: await input.json() })
    const type = status < 400 ? 'application/json' : 'application/problem+json'
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } })
  }) as typeof globalThis.fetch
  return { sent, client: createOrgkitClient({ baseUrl: 'http://orgkit.test', token: 't', fetch }) }
}

type Capgo = 'org.read' | 'app.read' | 'app.upload_bundle'

describe('authorization(): the check API with typed permissions (issue 18)', () => {
  it('sends the body as given and answers the decision', async () => {
    const { sent, client } = fakeServer(200, { allowed: true, reason: 'role', revision: 7 })
    const authz = authorization<Capgo>(client)
    const decision = await authz.check({
      permission: 'app.upload_bundle',
      resource: { type: 'app', id: 'a1' },
    })
    expect(decision).toEqual({ allowed: true, reason: 'role', revision: 7 })
    expect(sent).toEqual([
      { url: '/v1/check', body: { permission: 'app.upload_bundle', resource: { type: 'app', id: 'a1' } } },
    ])
  })

  it("refuses a permission outside the model's keys at compile time, in batches too", async () => {
    const { client } = fakeServer(200, { results: [], revision: 1 })
    const authz = authorization<Capgo>(client)
    // @ts-expect-error: not one of the model's permissions
    await authz.check({ permission: 'app.uplaod_bundle', resource: { org: 'o1' } }).catch(() => null)
    await authz.checkBatch({
      // @ts-expect-error: a batched check is narrowed as well
      checks: [{ permission: 'org.raed', resource: { org: 'o1' } }],
    })
    // Untyped, any string goes: custom models keep working.
    await authorization(client).checkBatch({
      checks: [{ permission: 'anything.at_all', resource: { org: 'o' } }],
    })
    expectTypeOf<PlatformPermission>().toExtend<string>()
    expectTypeOf<'org.read_billing'>().toExtend<PlatformPermission>()
  })

  it("throws the problem's typed code", async () => {
    const { client } = fakeServer(400, {
      type: 'https://orgkit.dev/problems/unknown-permission',
      title: 'Invalid request',
      status: 400,
      code: 'UNKNOWN_PERMISSION',
      detail: 'no such permission',
    })
    const error = await authorization(client)
      .check({ permission: 'nope', resource: { org: 'o1' } })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OrgkitApiError)
    const code = (error as OrgkitApiError).code
    expect(code).toBe('UNKNOWN_PERMISSION')
    expectTypeOf(code).toEqualTypeOf<ProblemCode>()
    expectTypeOf<'RATE_LIMITED'>().toExtend<ErrorCode>()
    expectTypeOf<'NOT_A_CODE'>().not.toExtend<ProblemCode>()
  })
})
