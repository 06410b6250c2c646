import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SecretBox } from '../src/security/secret-box.ts'
import { rotateSecrets, sealStoredSecrets, webhookContext } from '../src/security/secrets-at-rest.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * A review found webhook signing secrets stored in plain text, unlike TOTP secrets, unsent mail and SSO
 * secrets: a database reader could forge deliveries to every receiver. Both secrets of an endpoint (and the
 * one a rotation replaced) are sealed to it (`webhook:<id>`), opened only by the delivery worker, sealed at
 * start when an older version left them in plain text, and re-sealed by `orgkit secrets rotate`.
 */

interface Delivery {
  path: string
  body: string
  headers: Record<string, string>
}

/** A loopback receiver keeping each delivery, by path (one path per endpoint), to verify with any secret. */
async function recorder() {
  const received: Delivery[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, headers: req.headers as Record<string, string> })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${port}/${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const verifies = (secret: string, d: Delivery | undefined) => {
  try {
    new Webhook(secret).verify(d!.body, d!.headers)
    return true
  } catch {
    return false
  }
}

describe.each(DATABASES)('webhook secrets at rest (%s)', (database) => {
  let s: TestServer
  let receiver: Awaited<ReturnType<typeof recorder>>
  let hooks = ''
  let owner: ReturnType<TestServer['as']>
  const logs: string[] = []
  /** Every secret the API answered: none may be stored, logged, audited or sent in a payload. */
  const answered: string[] = []

  beforeAll(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) })
    s = await startTestServer(database, { server: { logger } })
    receiver = await recorder()
    owner = s.as(await s.user('Owner'))
    const org = await owner.post('/v1/orgs', { name: 'Sealed hooks' })
    expect(org.status).toBe(201)
    hooks = `/v1/orgs/${org.body.id}/webhooks`
  }, 60_000)
  afterAll(async () => {
    await s?.stop()
    await receiver?.close()
  })

  const row = (id: string) =>
    s.store.db
      .selectFrom('webhooks')
      .select(['secret', 'previous_secret'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  const create = async (path: string) => {
    const reply = await owner.post(hooks, { url: receiver.url(path), events: ['group.*'] })
    expect(reply.status).toBe(201)
    answered.push(reply.body.secret)
    return { id: reply.body.id as string, secret: reply.body.secret as string }
  }
  /** Makes an event every endpoint takes, delivers it, and answers what `path` received. */
  const deliver = async (path: string) => {
    const before = receiver.received.length
    expect(
      (await owner.post(`${hooks.replace('/webhooks', '')}/groups`, { name: `g${before}` })).status,
    ).toBe(201)
    await s.ctx.webhooks.runOnce()
    return receiver.received.slice(before).find((d) => d.path === `/${path}`)
  }

  it('stores secrets sealed to their endpoint; deliveries verify with the answered ones, in a rotation too', async () => {
    const a = await create('a')
    const b = await create('b')
    const stored = await row(a.id)
    expect(stored.secret).toMatch(/^ok1:/)
    expect(stored.secret).not.toContain(a.secret.slice('whsec_'.length))
    expect(s.ctx.secrets.open(stored.secret, webhookContext(a.id)).value).toBe(a.secret)
    expect(() => s.ctx.secrets.open(stored.secret, webhookContext(b.id))).toThrow()
    expect(verifies(a.secret, await deliver('a'))).toBe(true)

    const rotated = await owner.post(`${hooks}/${a.id}/rotate-secret`)
    expect(rotated.status).toBe(200)
    answered.push(rotated.body.secret)
    const after = await row(a.id)
    expect([after.secret, after.previous_secret]).toEqual([expect.stringMatching(/^ok1:/), stored.secret])
    const during = await deliver('a')
    expect([verifies(a.secret, during), verifies(rotated.body.secret, during)]).toEqual([true, true])
  })

  it("refuses to sign with a sealed secret moved onto another endpoint's row", async () => {
    const [a, b] = (await owner.get(hooks)).body.items as { id: string }[]
    await s.store.db
      .updateTable('webhooks')
      .set({ secret: (await row(a!.id)).secret, previous_secret: null })
      .where('id', '=', b!.id)
      .execute()
    expect(await deliver('b')).toBeUndefined()
    const [attempt] = (await owner.get(`${hooks}/${b!.id}/deliveries`)).body.items
    expect(attempt).toMatchObject({
      status: 'pending',
      lastStatus: null,
      lastError: expect.stringMatching(/does not open/),
    })
    expect((await owner.delete(`${hooks}/${b!.id}`)).status).toBe(200)
  })

  it('seals a plain-text secret an older version left (at start), and it keeps verifying', async () => {
    const c = await create('c')
    const previous = `whsec_${randomBytes(32).toString('base64')}`
    answered.push(previous)
    await s.store.db
      .updateTable('webhooks')
      .set({
        secret: c.secret,
        previous_secret: previous,
        previous_secret_expires_at: new Date(Date.now() + 3600_000),
      })
      .where('id', '=', c.id)
      .execute()
    // What every start runs before it serves (server.ts): only the plain-text endpoint is due.
    expect((await sealStoredSecrets(s.store.db, s.ctx.secrets, { everything: false })).webhook).toBe(1)
    const sealed = await row(c.id)
    expect([sealed.secret, sealed.previous_secret]).toEqual([
      expect.stringMatching(/^ok1:/),
      expect.stringMatching(/^ok1:/),
    ])
    expect(JSON.stringify(sealed)).not.toContain(c.secret.slice('whsec_'.length))
    const delivery = await deliver('c')
    expect([verifies(c.secret, delivery), verifies(previous, delivery)]).toEqual([true, true])
  })

  it('is re-sealed by `secrets rotate` under a new key, and counted; a missing key refuses the start', async () => {
    const { keyring } = s.ctx.secrets
    const next = new SecretBox({ current: 'k2', keys: new Map([['k2', randomBytes(32)], ...keyring.keys]) })
    expect((await rotateSecrets(s.store.db, next)).webhook).toBe(2)
    const [a] = (await owner.get(hooks)).body.items as { id: string }[]
    const stored = await row(a!.id)
    expect(stored.secret).toMatch(/^ok1:k2:/)
    expect(next.open(stored.secret, webhookContext(a!.id)).value).toBe(answered[2])
    // The running server's keyring lacks k2: a start with it would be refused, naming the key.
    await expect(sealStoredSecrets(s.store.db, s.ctx.secrets, { everything: false })).rejects.toThrow(/"k2"/)
  })

  it('never logs, audits or sends a secret', async () => {
    expect(answered.length).toBe(5)
    const audit = await owner.get(`${hooks.replace('/webhooks', '')}/audit-logs?limit=100`)
    expect(audit.status).toBe(200)
    const seen = [JSON.stringify(audit.body), ...receiver.received.map((d) => d.body), ...logs].join('\n')
    for (const secret of answered) expect(seen).not.toContain(secret.slice('whsec_'.length))
  })
})
