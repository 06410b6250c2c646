import { createHmac } from 'node:crypto'
import { type Db, type FeedMac, remacChanges } from '@orgkit/store'
import { derivedKeys } from './derived-keys.ts'
import type { Keyring } from './secret-box.ts'

/** HKDF's info: the change feed's own key, never one that seals or MACs anything else. */
const INFO = 'orgkit change-feed'

/** SHA-256's block: RFC 2104 pads the key to it. */
const BLOCK = 64

/** K ⊕ `byte` over a block (K zero-padded): RFC 2104's ipad (0x36) and opad (0x5c). */
function pad(key: Buffer, byte: number): Uint8Array {
  const block = new Uint8Array(BLOCK).fill(byte)
  for (const [i, b] of key.entries()) block[i] = b ^ byte
  return block
}

/**
 * The MAC authenticating the change feed (migration 0022, changes repository): HMAC-SHA-256 under a key
 * derived from each keyring key by HKDF-SHA-256 (`orgkit change-feed`). An entry is MACed by the database,
 * in the statement that writes it, with the current key's padded blocks (`pads`), and verified here with
 * whichever key its id names, while the keyring holds it.
 *
 * So the feed's key — this derived one only — travels to the database with each write, as two bind
 * parameters: it is not in the database, but a server that logs statements with their parameters
 * (log_statement, log_min_duration_statement) writes it to its log (docs/architecture.md).
 */
export function changeFeedMac(keyring: Keyring): FeedMac {
  const keyOf = derivedKeys(keyring, INFO)
  const current = keyOf(keyring.current)!
  return {
    current: keyring.current,
    pads: { inner: pad(current, 0x36), outer: pad(current, 0x5c) },
    mac: (kid, message) => {
      const key = keyOf(kid)
      return key && createHmac('sha256', key).update(message).digest()
    },
  }
}

/**
 * `orgkit secrets rotate`: every feed entry that a key the keyring still holds verifies, MACed anew under
 * the current key, so the old key can leave the keyring without an engine refusing the feed it reads.
 * Returns how many were.
 */
export const rotateChangeFeed = (db: Db, keyring: Keyring): Promise<number> =>
  remacChanges(db, changeFeedMac(keyring))
