import { hash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Random secrets with a recognisable prefix (`okk_` API keys, `oks_` sessions, `oki_` invitations and
 * email verifications, `okr_` password resets, `okd_` SCIM directory tokens).
 * 256 bits of randomness: a SHA-256 of the secret is all we store, and all we need to look one up.
 */
export function newSecret(kind: 'okk' | 'oks' | 'oki' | 'okc' | 'okr' | 'okd'): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`
}

export const sha256 = (value: string) => hash('sha256', value, 'hex')

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
