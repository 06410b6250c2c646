import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CapgoWorld, capgoWorld } from './support/fixtures.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

interface Entry {
  action: string
  actor: { type: string; id: string | null; name: string | null }
  target: { type: string; id: string | null; name: string | null }
}

/** A loopback receiver that keeps each delivery's body and headers, to verify with any secret later. */
async function recorder() {
  const received: { body: string; headers: Record<string, string> }[] = []
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      received.push({ body, headers: req.headers as Record<string, string> })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    received,
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const verifies = (secret: string, d: { body: string; headers: Record<string, string> }) => {
  try {
    new Webhook(secret).verify(d.body, d.headers)
    return true
  } catch {
    return false
  }
}

// Issue 26.2 and 26.3 over the API: audit entries that name who and what, the actions an auditor may
// filter on, the webhook event catalogue, and rotating a signing secret with a 24-hour overlap.
describe.each(DATABASES)('audit names, webhook catalogue and secret rotation (%s)', (database) => {
  let s: TestServer
  let w: CapgoWorld
  let offset = 0
  let hook: Awaited<ReturnType<typeof recorder>>
  beforeAll(async () => {
    s = await startTestServer(database, { clock: () => Date.now() + offset })
    w = await capgoWorld(s)
    hook = await recorder()
  })
  afterAll(async () => {
    await s?.stop()
    await hook?.close()
  })
  const owner = () => s.as(w.users.creator)
  const entries = async (query: string) =>
    (await owner().get(`/v1/orgs/${w.orgId}/audit-logs?limit=100&${query}`)).body.items as Entry[]

  it('names actors and targets as they are now, a deleted one as its entry recorded it', async () => {
    const group = await owner().post(`/v1/orgs/${w.orgId}/groups`, { name: 'Release managers' })
    await owner().patch(`/v1/orgs/${w.orgId}/resources/${w.appId}`, { name: 'Storefront' })
    await owner().delete(`/v1/orgs/${w.orgId}/groups/${group.body.id}`)

    const [deleted] = await entries('action=group.deleted')
    expect(deleted).toMatchObject({
      actor: { type: 'user', id: w.users.creator, name: 'Creator' },
      target: { type: 'group', id: group.body.id, name: 'Release managers' },
    })
    // The app's entries, old and new, by the name it has now.
    const app = await entries(`targetId=${w.appId}`)
    expect(app.map((e) => e.action)).toEqual(['resource.updated', 'resource.created'])
    expect(app.every((e) => e.target.name === 'Storefront')).toBe(true)
    const [joined] = await entries(`action=member.added&targetId=${w.users.admin}`)
    expect(joined?.target).toMatchObject({ type: 'user', name: 'Admin' })
    const [orgCreated] = await entries('action=org.created')
    expect(orgCreated?.target).toMatchObject({ type: 'org', name: 'Acme' })
    // The platform token made the members: named by the token, not as a person.
    expect(joined?.actor).toMatchObject({ type: 'platform', name: expect.any(String) })
  })

  it("lists the actions an auditor may filter on, with what each means, within the reader's scope", async () => {
    const actions = async (userId: string) => s.as(userId).get(`/v1/orgs/${w.orgId}/audit-logs/actions`)
    const full = (await actions(w.users.creator)).body.items as { action: string; description: string }[]
    expect(full).toContainEqual({ action: 'member.added', description: expect.stringMatching(/joined/) })
    expect(full.some((a) => a.action.startsWith('billing.'))).toBe(true)
    const admin = (await actions(w.users.admin)).body.items as { action: string }[]
    expect(admin.some((a) => a.action === 'group.deleted')).toBe(true)
    expect(admin.some((a) => a.action.startsWith('billing.'))).toBe(false)
    const billing = (await actions(w.users.billing)).body.items as { action: string }[]
    expect(billing.length).toBeGreaterThan(0)
    expect(billing.every((a) => a.action.startsWith('billing.'))).toBe(true)
    expect((await actions(w.users.member)).status).toBe(403)
    expect((await actions(w.users.outsider)).status).toBe(404)
  })

  it('serves the webhook event catalogue an endpoint chooses from', async () => {
    const reply = await s.as(w.users.member).get('/v1/webhook-event-types')
    expect(reply.status).toBe(200)
    const types = reply.body.items as { type: string; description: string; billing: boolean }[]
    expect(types).toContainEqual({
      type: 'webhook.secret_rotated',
      description: expect.any(String),
      billing: false,
    })
    expect(types.find((t) => t.type === 'billing.plan_changed')?.billing).toBe(true)
    expect(types.some((t) => t.type === 'audit.checkpoint')).toBe(true)
  })

  it('rotates a signing secret: both sign for 24 hours, then only the new one; audited without it', async () => {
    const hooks = `/v1/orgs/${w.orgId}/webhooks`
    const created = await owner().post(hooks, { url: hook.url, events: ['group.*'], description: 'CI' })
    const old = created.body.secret as string
    const rotated = await owner().post(`${hooks}/${created.body.id}/rotate-secret`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.secret).toMatch(/^whsec_/)
    expect(rotated.body.secret).not.toBe(old)
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - s.ctx.clock()).toBeGreaterThan(23 * 3600_000)

    await owner().post(`/v1/orgs/${w.orgId}/groups`, { name: 'Overlap' })
    await s.ctx.webhooks.runOnce()
    const during = hook.received.at(-1)!
    expect([verifies(old, during), verifies(rotated.body.secret, during)]).toEqual([true, true])

    offset += 25 * 3600_000
    await owner().post(`/v1/orgs/${w.orgId}/groups`, { name: 'After' })
    await s.ctx.webhooks.runOnce()
    const after = hook.received.at(-1)!
    expect(JSON.parse(after.body).data.after.name).toBe('After')
    expect([verifies(old, after), verifies(rotated.body.secret, after)]).toEqual([false, true])

    const [audited] = await entries('action=webhook.secret_rotated')
    expect(audited?.target).toMatchObject({ type: 'webhook', id: created.body.id, name: 'CI' })
    const log = JSON.stringify(await entries('targetType=webhook'))
    expect(log).not.toContain(old)
    expect(log).not.toContain(rotated.body.secret)
    await owner().delete(`${hooks}/${created.body.id}`)
  })

  it('rotates for those who manage webhooks only, billing endpoints for billing readers, in the org only', async () => {
    const hooks = `/v1/orgs/${w.orgId}/webhooks`
    const billing = await owner().post(hooks, { url: hook.url, events: ['billing.*'] })
    const plain = await owner().post(hooks, { url: hook.url })
    const rotate = (userId: string, id: string, orgId = w.orgId) =>
      s.as(userId).post(`/v1/orgs/${orgId}/webhooks/${id}/rotate-secret`)
    expect((await rotate(w.users.member, plain.body.id)).status).toBe(403)
    const refused = await rotate(w.users.admin, billing.body.id)
    expect([refused.status, refused.body.details.permission]).toEqual([403, 'org.read_billing_audit'])
    expect((await rotate(w.users.admin, plain.body.id)).status).toBe(200)
    const other = await s.as(w.users.outsider).post('/v1/orgs', { name: 'Elsewhere' })
    expect((await rotate(w.users.outsider, plain.body.id, other.body.id)).status).toBe(404)
    await owner().delete(`${hooks}/${billing.body.id}`)
    await owner().delete(`${hooks}/${plain.body.id}`)
  })
})
