import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUCKETS } from '../src/security/rate-limit.ts'
import { DATABASES, solveCaptcha, startTestServer, type TestServer } from './support/harness.ts'
import { accountFor } from './support/sessions.ts'

/**
 * Issue 22.1: 105 wrong passwords for one email from 11 addresses locked its owner out from everywhere for
 * the window (a per-account limit counted every attempt before the password was checked), and the attack
 * could be repeated forever. Now guessing is limited per address and per account-and-address (429 with
 * Retry-After), and after a few failures an account asks every sign-in for a solved proof-of-work captcha
 * instead of refusing it: the owner, from anywhere else, with the right password, still gets in.
 */
describe.each(DATABASES)('sign-in under a distributed guessing attack (%s)', (database) => {
  let s: TestServer
  const email = 'owner@example.com'
  const password = 'the owner’s own passphrase'

  beforeAll(async () => {
    // The limits slide (auth.sign-in-window.test.ts): the attempts may straddle a quarter hour.
    s = await startTestServer(database, { trustProxyHops: 1 })
    await accountFor(s, email, password)
    await accountFor(s, 'other@example.com', 'another long passphrase')
  })
  afterAll(() => s?.stop())

  interface Answer {
    status: number
    code: string | undefined
    retryAfter: string | null
  }
  const login = async (from: string, body: object): Promise<Answer> => {
    const response = await fetch(`${s.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify(body),
    })
    const reply = (await response.json()) as { code?: string }
    return { status: response.status, code: reply.code, retryAfter: response.headers.get('retry-after') }
  }
  /** Signs in as a browser would: when a captcha is asked for, solves one and sends the form again. */
  const loginSolving = async (from: string, body: object): Promise<Answer[]> => {
    const first = await login(from, body)
    if (first.code !== 'CAPTCHA_REQUIRED') return [first]
    return [first, await login(from, { ...body, captcha: await solveCaptcha(s.url) })]
  }
  const outbox = async () =>
    (await s.platform.get('/v1/outbox')).body.items as { to: string; subject: string; text: string }[]

  it('lets the owner in from a fresh address, with the right password, while 11 addresses guess it', async () => {
    const answers: Answer[] = []
    // 11 addresses, each guessing until refused; once asked for a captcha they solve one for every guess.
    let solving = false
    for (let a = 1; a <= 11; a++) {
      for (let i = 0; i < 12; i++) {
        const guess = { email, password: `guess ${a}.${i}` }
        const tries: Answer[] = solving
          ? [await login(`203.0.113.${a}`, { ...guess, captcha: await solveCaptcha(s.url) })]
          : await loginSolving(`203.0.113.${a}`, guess)
        solving ||= tries[0]!.code === 'CAPTCHA_REQUIRED'
        answers.push(...tries)
        if (tries.at(-1)!.status === 429) break
      }
    }
    // The finding's attack: over 100 wrong passwords for one email, from 11 addresses.
    const wrong = answers.filter((x) => x.code === 'INVALID_CREDENTIALS').length
    expect(wrong).toBeGreaterThanOrEqual(105)
    // The attackers' own addresses are refused, each 429 saying when to come back.
    const refused = answers.filter((x) => x.status === 429)
    expect(refused.length).toBe(11)
    for (const x of refused) expect(Number(x.retryAfter)).toBeGreaterThan(0)
    // Never a 2xx, never a 5xx.
    expect(answers.every((x) => x.status === 401 || x.status === 429 || x.status === 400)).toBe(true)

    // The owner, from an address of their own, with the right password: in, after a captcha if asked.
    const owner = await loginSolving('198.51.100.7', { email, password })
    expect(owner.at(-1)!.status).toBe(200)
    expect(owner.every((x) => x.status !== 429)).toBe(true)

    // And the attack goes on: still no lock-out of the owner.
    for (let i = 0; i < 3; i++) await loginSolving('203.0.113.99', { email, password: `more ${i}` })
    expect((await loginSolving('198.51.100.8', { email, password })).at(-1)!.status).toBe(200)

    // The owner hears of it once, through the mail outbox, not once per attempt.
    const notices = (await outbox()).filter((m) => m.to === email && /sign-in attempts/i.test(m.subject))
    expect(notices).toHaveLength(1)
  }, 120_000)

  it('says when to come back on every 429, whichever limit answered it', async () => {
    const reset = async () =>
      fetch(`${s.url}/v1/auth/password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.30' },
        body: JSON.stringify({ email: 'other@example.com' }),
      })
    let last = await reset()
    for (let i = 0; i < 6 && last.status !== 429; i++) last = await reset()
    expect(last.status).toBe(429)
    const retryAfter = Number(last.headers.get('retry-after'))
    // An hour's window: an attempt counts for the hour and at most one bucket of it more.
    expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 3600 + 3600 / BUCKETS).toBe(true)
    expect(((await last.json()) as { details: { retryAfter: number } }).details.retryAfter).toBe(retryAfter)
  })

  it('answers alike for an email with an account and one without', async () => {
    const run = async (target: string, from: string) => {
      const codes: string[] = []
      for (let i = 0; i < 8; i++) {
        const x = await login(from, { email: target, password: `nope ${i}` })
        codes.push(`${x.status} ${x.code}`)
      }
      return codes
    }
    const existing = await run('other@example.com', '198.51.100.20')
    const unknown = await run('nobody@example.com', '198.51.100.21')
    expect(unknown).toEqual(existing)
    // Past a few failures both ask for a captcha, which a wrong one does not satisfy.
    expect(existing.at(-1)).toBe('401 CAPTCHA_REQUIRED')
    const bad = await login('198.51.100.22', { email: 'nobody@example.com', password: 'x', captcha: 'e30=' })
    expect([bad.status, bad.code]).toEqual([400, 'CAPTCHA_FAILED'])
  })
})
