import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SIGN_IN } from '../src/services/sign-in-guard.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { accountFor } from './support/sessions.ts'

/**
 * The sign-in limits slide (security/rate-limit.ts). They used to count in fixed 15-minute windows, each
 * starting from nothing: 4 wrong passwords just before a window's end and 4 just after passed without the
 * captcha step, and an address got 10 sign-ins to one account on each side of the end. Here the server's
 * clock is set on both sides of such an end (a multiple of the window), as the attempts need.
 */
describe.each(DATABASES)('sign-in limits across a fixed window’s end (%s)', (database) => {
  const window = SIGN_IN.windowSeconds * 1000
  // A former window's end, ahead of the real time (a captcha's expiry is on the server's clock anyway).
  const end = Math.ceil(Date.now() / window) * window + window
  let now = end - 300_000
  let s: TestServer

  beforeAll(async () => {
    s = await startTestServer(database, { trustProxyHops: 1, clock: () => now })
  })
  afterAll(() => s?.stop())

  const login = async (from: string, email: string, password: string) => {
    const response = await fetch(`${s.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ email, password }),
    })
    const reply = (await response.json()) as { code?: string }
    return { status: response.status, code: reply.code, retryAfter: response.headers.get('retry-after') }
  }
  async function signUp(email: string, password: string) {
    now = end - 300_000
    await accountFor(s, email, password)
  }

  it('asks for the captcha after the 5th wrong password within 15 minutes, across the end', async () => {
    const email = 'straddled@example.com'
    const password = 'the owner’s own passphrase'
    await signUp(email, password)
    const from = '203.0.113.10'
    now = end - 1000
    for (let i = 0; i < SIGN_IN.captchaAfter - 1; i++)
      expect((await login(from, email, `guess ${i}`)).code).toBe('INVALID_CREDENTIALS')
    now = end + 1000
    expect((await login(from, email, 'one more guess')).code).toBe('INVALID_CREDENTIALS')
    // Five failures in two seconds: the right password, too, now needs a solved captcha.
    expect((await login(from, email, password)).code).toBe('CAPTCHA_REQUIRED')
    // Still so 15 minutes after the first four...
    now = end - 1000 + window
    expect((await login(from, email, password)).code).toBe('CAPTCHA_REQUIRED')
    // ...and no more once they are older than that: one failure left in the window.
    now = end + window
    expect((await login(from, email, password)).status).toBe(200)
  })

  it('refuses an address its 11th sign-in to one account within 15 minutes, across the end', async () => {
    const email = 'often@example.com'
    const password = 'another long passphrase'
    await signUp(email, password)
    const from = '203.0.113.20'
    now = end - 1000
    for (let i = 0; i < SIGN_IN.perAccountAndAddress; i++)
      expect((await login(from, email, password)).status).toBe(200)
    now = end + 1000
    const refused = await login(from, email, password)
    expect([refused.status, refused.code]).toEqual([429, 'RATE_LIMITED'])
    // Back when the ten are older than the window (they count to its minute: end - 1 s is in the minute
    // before the end, which leaves the window 15 minutes after that minute's start).
    expect(Number(refused.retryAfter)).toBe(window / 1000 - 1)
    now = end + window - 1000
    expect((await login(from, email, password)).status).toBe(429)
    now = end + window
    expect((await login(from, email, password)).status).toBe(200)
  })
})
