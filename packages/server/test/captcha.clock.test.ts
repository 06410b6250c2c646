import { migrate, openStore, type Store } from '@orgkit/store'
import { solveChallenge } from 'altcha-lib/v1'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embeddedTestDatabase } from '../../store/test/support/test-databases.ts'
import { altchaCaptcha, type Captcha } from '../src/security/captcha.ts'
import { solvePow } from './support/pow.ts'

/**
 * A captcha expires by the server's injected clock, as everything else does. Guards the library's own
 * expiry check, which read the wall clock: a server whose clock was behind it refused every solution.
 */
describe('captcha expiry on the injected clock', () => {
  let store: Store
  const embedded = embeddedTestDatabase()
  beforeAll(async () => {
    store = await openStore({ dataDir: embedded.dataDir })
    await migrate(store.db)
  })
  afterAll(async () => {
    await store?.close()
    embedded.remove()
  })

  const solve = async (captcha: Captcha) => {
    const c = (await captcha.challenge()) as {
      algorithm: string
      challenge: string
      salt: string
      signature: string
    }
    const solution = await solveChallenge(c.challenge, c.salt, c.algorithm, 1000).promise
    const payload = {
      algorithm: c.algorithm,
      challenge: c.challenge,
      number: solution!.number,
      salt: c.salt,
      signature: c.signature,
    }
    return Buffer.from(JSON.stringify(payload)).toString('base64')
  }

  it('accepts a fresh solution on a clock an hour behind the wall clock, and refuses one past its expiry', async () => {
    let now = Date.now() - 3_600_000
    const captcha = altchaCaptcha('a secret', () => now, { maxNumber: 1000, ttlSeconds: 600 })
    await expect(captcha.verify(store.db, await solve(captcha))).resolves.toBeUndefined()
    const late = await solve(captcha)
    now += 601_000
    await expect(captcha.verify(store.db, late)).rejects.toMatchObject({ code: 'CAPTCHA_FAILED' })
  })

  it('the tests’ synchronous solver (harness solvePow) finds what altcha’s own solver finds', async () => {
    const captcha = altchaCaptcha('a secret', Date.now, { maxNumber: 1000, ttlSeconds: 600 })
    for (let i = 0; i < 5; i++) {
      const c = (await captcha.challenge()) as { algorithm: string; challenge: string; salt: string }
      const theirs = await solveChallenge(c.challenge, c.salt, c.algorithm, 1000).promise
      expect(solvePow(c.challenge, c.salt, c.algorithm, 1000)).toEqual({ number: theirs!.number })
    }
    expect(solvePow('0'.repeat(64), 'salt', 'SHA-256', 1000)).toBeNull()
  })
})
