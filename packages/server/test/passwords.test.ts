import { describe, expect, it } from 'vitest'
import { dummyHash, hashPassword, verifyPassword } from '../src/security/passwords.ts'

/**
 * Passwords are argon2id at OWASP's minimum (m=19 MiB, t=2, p=1) unless a server is given lower parameters,
 * which only the tests do (support/harness.ts): a check reads the parameters from the hash it checks.
 */
describe('password hashing', () => {
  it('hashes with argon2id at m=19 MiB, t=2, p=1 by default, and checks the password', async () => {
    const hashed = await hashPassword('a long enough passphrase')
    expect(hashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await verifyPassword(hashed, 'a long enough passphrase')).toBe(true)
    expect(await verifyPassword(hashed, 'another passphrase')).toBe(false)
  })

  it('hashes with the lower parameters it is given, and checks either kind', async () => {
    const cheap = await hashPassword('a long enough passphrase', { memoryCost: 1024, timeCost: 1 })
    expect(cheap).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
    expect(await verifyPassword(cheap, 'a long enough passphrase')).toBe(true)
    expect(await verifyPassword(cheap, 'a long enough passphrase!')).toBe(false)
    expect(await verifyPassword('not a hash', 'a long enough passphrase')).toBe(false)
  })

  it('makes the timing-only hash once per server, with its parameters', async () => {
    const caches: { dummyPasswordHash: Promise<string> | null } = { dummyPasswordHash: null }
    const first = await dummyHash(caches)
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await dummyHash(caches)).toBe(first)
    expect(await dummyHash({ dummyPasswordHash: null }, { memoryCost: 1024, timeCost: 1 })).toMatch(
      /\$m=1024,t=1,p=1\$/,
    )
  })
})
