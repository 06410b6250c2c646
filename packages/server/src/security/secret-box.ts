import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'

/**
 * Secrets at rest (issue 22.7): what a database reader must not be able to use — TOTP secrets, the links in
 * unsent mail — is stored sealed with AES-256-GCM under a key that never enters the database.
 *
 * Keys come as a keyring (ORGKIT_SECRET_KEY): comma-separated entries `kid:key` or just `key`, the first one
 * current (sealing), every one able to open what it sealed. A key is 32 bytes, as 64 hex digits or base64
 * (base64url too); a bare key's id is the first 8 hex digits of its SHA-256. Each sealed value says which
 * key sealed it, so keys rotate: put the new key first and keep the old ones until `orgkit secrets rotate`
 * (or use) has re-sealed everything.
 *
 * A sealed value is `ok1:<kid>:<base64url(iv ‖ ciphertext ‖ tag)>`, with a fresh 96-bit IV each time. The
 * associated data binds it to its key id and its place (`totp:<userId>`, `mail:<id>`), so a value copied
 * onto another row does not open there.
 */
export interface Keyring {
  current: string
  keys: ReadonlyMap<string, Buffer>
}

const PREFIX = 'ok1:'
const KID = /^[A-Za-z0-9_-]{1,32}$/

/** Parses ORGKIT_SECRET_KEY; throws VALIDATION_FAILED naming the variable and what is wrong. */
export function parseKeyring(value: string, variable = 'ORGKIT_SECRET_KEY'): Keyring {
  const fail = (why: string): never => {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `${variable} ${why}: give 32 random bytes as base64 or hex (openssl rand -base64 32), optionally as ` +
        'kid:key, and for rotation several, comma-separated, the current one first',
      { field: variable },
    )
  }
  const keys = new Map<string, Buffer>()
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) fail('is empty')
  for (const entry of entries) {
    const at = entry.indexOf(':')
    const encoded = at < 0 ? entry : entry.slice(at + 1)
    const key = decodeKey(encoded) ?? fail('holds a key that is not 32 bytes of base64 or hex')
    const kid = at < 0 ? hash('sha256', key, 'hex').slice(0, 8) : entry.slice(0, at)
    if (!KID.test(kid)) fail(`has a key id "${kid}" that is not 1-32 letters, digits, - or _`)
    if (keys.has(kid)) fail(`names the key id "${kid}" twice`)
    keys.set(kid, key)
  }
  return { current: keys.keys().next().value!, keys }
}

function decodeKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex')
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return null
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  return key.length === 32 ? key : null
}

/** A new random key, as a keyring entry (`kid:base64`): what the embedded default writes to its folder. */
export function newKeyEntry(): string {
  const key = randomBytes(32)
  return `${hash('sha256', key, 'hex').slice(0, 8)}:${key.toString('base64')}`
}

export class SecretBox {
  constructor(readonly keyring: Keyring) {}

  seal(plain: string, context: string): string {
    const kid = this.keyring.current
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.keyring.keys.get(kid)!, iv)
    cipher.setAAD(Buffer.from(`${PREFIX}${kid}:${context}`))
    const sealed = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return `${PREFIX}${kid}:${sealed.toString('base64url')}`
  }

  /**
   * The plain value, and whether it should be sealed again: it was stored in plain text (before sealing
   * existed) or under a key that is no longer the current one. Throws when its key is not in the keyring or
   * the value was altered.
   */
  open(stored: string, context: string): { value: string; stale: boolean } {
    const kid = keyIdOf(stored)
    if (kid === null) return { value: stored, stale: true }
    const key = this.keyring.keys.get(kid)
    if (!key) throw new Error(`a secret is sealed with key "${kid}", which ORGKIT_SECRET_KEY does not hold`)
    const data = Buffer.from(stored.slice(PREFIX.length + kid.length + 1), 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12))
    decipher.setAAD(Buffer.from(`${PREFIX}${kid}:${context}`))
    decipher.setAuthTag(data.subarray(data.length - 16))
    const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()])
    return { value: plain.toString('utf8'), stale: kid !== this.keyring.current }
  }

  /** Whether this keyring can open the value (plain text counts: it needs no key). */
  canOpen(stored: string): boolean {
    const kid = keyIdOf(stored)
    return kid === null || this.keyring.keys.has(kid)
  }
}

/** The id of the key that sealed a stored value; null for plain text (a value from before sealing). */
export function keyIdOf(stored: string): string | null {
  if (!stored.startsWith(PREFIX)) return null
  const end = stored.indexOf(':', PREFIX.length)
  return end < 0 ? null : stored.slice(PREFIX.length, end)
}
