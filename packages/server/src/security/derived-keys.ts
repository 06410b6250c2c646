import { hkdfSync } from 'node:crypto'
import type { Keyring } from './secret-box.ts'

/**
 * A 32-byte key per keyring key, derived by HKDF-SHA-256 under `info`, so that each purpose (the engine's
 * stored state, the change feed) has keys of its own, unrelated to the ORGKIT_SECRET_KEY that seals secrets
 * at rest and to each other's. Null for a key id the keyring does not hold. Derived once per key id.
 */
export function derivedKeys(keyring: Keyring, info: string): (kid: string) => Buffer | null {
  const derived = new Map<string, Buffer>()
  return (kid) => {
    const known = derived.get(kid)
    if (known) return known
    const key = keyring.keys.get(kid)
    if (!key) return null
    const made = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32))
    derived.set(kid, made)
    return made
  }
}
