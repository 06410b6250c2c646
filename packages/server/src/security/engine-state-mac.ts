import { createHmac } from 'node:crypto'
import { type Db, engineSnapshots } from '@orgkit/store'
import { derivedKeys } from './derived-keys.ts'
import type { Keyring } from './secret-box.ts'

/** HKDF's info: a key of its own for the engine's stored state, never one that seals or signs anything else. */
const INFO = 'orgkit engine-state'

/**
 * The MAC authenticating the engine's stored state (issue 25.4, engine-snapshots repository): HMAC-SHA-256
 * under a key derived from each keyring key by HKDF-SHA-256 (`orgkit engine-state`), so the same
 * ORGKIT_SECRET_KEY that seals secrets at rest yields an unrelated key here. A state is MACed with the
 * current key and verified with whichever key its id names, while the keyring holds it.
 */
export function engineStateMac(keyring: Keyring): engineSnapshots.StateMac {
  const keyOf = derivedKeys(keyring, INFO)
  return {
    current: keyring.current,
    mac: (kid, message) => {
      const key = keyOf(kid)
      return key && createHmac('sha256', key).update(message).digest()
    },
  }
}

/**
 * `orgkit secrets rotate`: the stored state MACed anew under the current key, when a key the keyring still
 * holds verifies it — one row's metadata, no byte read (the MAC covers the bytes through their digest). Done
 * here rather than left to the next save, which comes only after 10,000 revisions: otherwise dropping the old
 * key after a rotation would cost a quiet deployment one start from rows (tens of seconds at 1M bindings).
 * A state no held key verifies is left alone: refused at the next start, replaced by the next save.
 */
export const rotateEngineState = (db: Db, keyring: Keyring): Promise<boolean> =>
  engineSnapshots.remacEngineSnapshot(db, engineStateMac(keyring))
