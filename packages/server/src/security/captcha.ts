import { OrgkitError } from '@orgkit/core'
import { captchas, type Executor } from '@orgkit/store'
import { createChallenge, extractParams, verifySolution } from 'altcha-lib/v1'

/**
 * Self-hosted proof-of-work captcha (ALTCHA): the client must spend a little CPU per attempt, no third
 * party sees anyone. Pluggable: anything with `challenge` and `verify` can replace it.
 */
export interface Captcha {
  challenge(): Promise<unknown>
  /** Throws CAPTCHA_FAILED unless the payload solves a fresh challenge that was never used before. */
  verify(db: Executor, payload: string | undefined): Promise<void>
}

export function altchaCaptcha(
  secret: string,
  clock: () => number,
  options: { maxNumber?: number; ttlSeconds?: number } = {},
): Captcha {
  const ttl = options.ttlSeconds ?? 600
  return {
    challenge: () =>
      createChallenge({
        hmacKey: secret,
        maxNumber: options.maxNumber ?? 50_000,
        expires: new Date(clock() + ttl * 1000),
      }),
    async verify(db, payload) {
      const fail = () => {
        throw new OrgkitError('CAPTCHA_FAILED', 'solve the captcha first', { field: 'captcha' })
      }
      if (!payload) return fail()
      let ok = false
      try {
        // Expiry is read below, against our clock: the library would read the wall clock.
        ok = await verifySolution(payload, secret, false)
      } catch {
        ok = false
      }
      if (!ok) return fail()
      const now = clock()
      const expires = Number(extractParams(payload).expires ?? 0) * 1000 || now + ttl * 1000
      if (expires < now) return fail()
      // A solution works once: remember its signature until it would have expired anyway.
      const decoded = JSON.parse(Buffer.from(payload, 'base64').toString()) as { signature: string }
      if (!(await captchas.spendCaptcha(db, decoded.signature, new Date(expires)))) fail()
    },
  }
}
