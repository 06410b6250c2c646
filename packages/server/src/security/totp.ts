import { createHash, randomBytes } from 'node:crypto'
import * as OTPAuth from 'otpauth'

/** RFC 6238 with the authenticator apps' parameters: SHA-1, 6 digits, 30-second steps. */
const PERIOD = 30

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32
}

export function otpauthUrl(secret: string, account: string, issuer = 'Orgkit'): string {
  return new OTPAuth.TOTP({
    issuer,
    label: account,
    secret: OTPAuth.Secret.fromBase32(secret),
    period: PERIOD,
  }).toString()
}

/**
 * The time step a code belongs to, if it is valid within ±1 step of now; null otherwise. Callers accept a
 * code only for a step later than the last one used, so a code works once (RFC 6238 section 5.2).
 */
export function totpStep(secret: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), period: PERIOD })
  const delta = totp.validate({ token: code, timestamp: now, window: 1 })
  return delta === null ? null : Math.floor(now / 1000 / PERIOD) + delta
}

/** Ten single-use recovery codes, shown once; only their hashes are kept. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: 10 }, () => {
    const raw = randomBytes(8).toString('hex')
    return `${raw.slice(0, 5)}-${raw.slice(5, 10)}`
  })
}

export const hashCode = (code: string) => createHash('sha256').update(code.trim().toLowerCase()).digest('hex')
