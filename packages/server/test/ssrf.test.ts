import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertReceiver, receiverAgent } from '../src/webhooks/ssrf.ts'

/**
 * Webhook receivers can't reach inside the network: checked on the URL, and again on the address the
 * delivery's own connection resolves (a DNS answer that changes between the two is DNS rebinding).
 */
describe('webhook receivers on private networks', () => {
  let hits = 0
  const server = createServer((_req, res) => {
    hits++
    res.end('ok')
  })
  let port = 0
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('refuses private hosts by URL, literal or by name', async () => {
    // The reason is a stable word the console explains in place; the operator's switch isn't named.
    for (const url of [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      'http://[::1]/',
      'http://10.1.2.3/',
    ])
      await expect(assertReceiver(url, false)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field: 'url', reason: 'private_network' },
        message: expect.not.stringContaining('ORGKIT_'),
      })
    await expect(assertReceiver('ftp://example.com/', true)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    await expect(assertReceiver(`http://localhost:${port}/`, true)).resolves.toBeInstanceOf(URL)
  })

  it('refuses at connect time a name that resolves to a private address, whatever the URL check saw', async () => {
    const guarded = await receiverAgent(false)
    try {
      // The URL check is skipped on purpose: this is the connection's own lookup refusing.
      const refused = await fetch(`http://localhost:${port}/`, { dispatcher: guarded }).catch(
        (e: Error & { cause?: { code?: string } }) => e.cause?.code,
      )
      expect(refused).toBe('EPRIVATEADDRESS')
      expect(hits).toBe(0)
    } finally {
      await guarded.close()
    }
    const open = await receiverAgent(true)
    try {
      const reply = await fetch(`http://localhost:${port}/`, { dispatcher: open })
      expect(await reply.text()).toBe('ok')
      expect(hits).toBe(1)
    } finally {
      await open.close()
    }
  })
})
