import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUCKETS } from '../src/security/rate-limit.ts'
import { SIGN_IN } from '../src/services/sign-in-guard.ts'
import { DATABASES, solveCaptcha, startTestServer, type TestServer } from './support/harness.ts'
import { accountFor } from './support/sessions.ts'

/**
 * The owner's notice of failed sign-ins (services/sign-in-guard.ts): at most one a day, and another each
 * day a steady attack goes on. The server's clock is moved a day on; a day's count slides in buckets of
 * 1/BUCKETS of it, so a notice counts for between 24 hours and a bucket (96 minutes) more.
 */
describe.each(DATABASES)('the failed sign-in notice over days (%s)', (database) => {
  const hour = 3_600_000
  const start = Date.now()
  let now = start
  let s: TestServer
  const email = 'owner@example.com'

  beforeAll(async () => {
    s = await startTestServer(database, { trustProxyHops: 1, clock: () => now })
    await accountFor(s, email, 'the owner’s own passphrase')
  })
  afterAll(() => s?.stop())

  const outbox = async () =>
    (await s.platform.get('/v1/outbox')).body.items as { to: string; subject: string; text: string }[]
  const notices = async () =>
    (await outbox()).filter((m) => m.to === email && /sign-in attempts/i.test(m.subject)).length

  /** `noticeAfter` wrong passwords from one address, a solved captcha with each once one is asked for. */
  async function attack(from: string) {
    for (let i = 0; i < SIGN_IN.noticeAfter; i++) {
      const captcha = i >= SIGN_IN.captchaAfter ? await solveCaptcha(s.url) : undefined
      const response = await fetch(`${s.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
        body: JSON.stringify({ email, password: `guess ${i}`, captcha }),
      })
      expect(((await response.json()) as { code?: string }).code).toBe('INVALID_CREDENTIALS')
    }
  }

  it('tells the owner once a day while the attack goes on', async () => {
    await attack('203.0.113.1')
    expect(await notices()).toBe(1)
    // The same again 23 hours on: within the day of the first notice, no second one.
    now = start + 23 * hour
    await attack('203.0.113.2')
    expect(await notices()).toBe(1)
    // And past that day and the bucket it may count on for (~25.6 hours on): a second notice.
    now = start + 24 * hour + (24 * hour) / BUCKETS + hour
    await attack('203.0.113.3')
    expect(await notices()).toBe(2)
  })
})
