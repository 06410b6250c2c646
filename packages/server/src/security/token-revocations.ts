import { type Store, tokens } from '@orgkit/store'
import type { Caches } from '../caches.ts'

/**
 * Makes a platform token's revocation immediate (issue 22.7). Each instance keeps the tokens it verified
 * (middleware/auth.ts): the host product calls the check API on every request of its own, and a database
 * round trip per call would cost more than the check (measured: ~65 µs of this process's CPU per lookup on
 * PostgreSQL, ~220 µs in-process on PGlite, against ~30 µs for a whole check answered over HTTP). Instead the database says
 * when a token goes: migration 0010's triggers NOTIFY its id as a revocation or a deletion commits, however
 * it was made, and every instance drops it from its cache then. On PostgreSQL that is a LISTEN connection of
 * its own, re-made when it drops (the cache is emptied then, and entries last a second until it is back: what
 * was revoked meanwhile was not heard); on the embedded database, the one in-process connection.
 *
 * Answers how to stop.
 */
export async function followTokenRevocations(
  store: Store,
  caches: Caches,
  onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  const forget = (id: string) => {
    caches.platformTokenEpoch++
    for (const [hash, entry] of caches.platformTokens) if (entry.id === id) caches.platformTokens.delete(hash)
  }
  const hearing = (heard: boolean) => {
    caches.platformTokenEpoch++
    caches.platformTokens.clear()
    caches.platformTokenRevocationsHeard = heard
  }
  if (store.listenInProcess) {
    const stop = await store.listenInProcess(tokens.TOKENS_CHANNEL, forget)
    hearing(true)
    return async () => {
      hearing(false)
      await stop()
    }
  }
  if (!store.listen) return async () => {}
  let stopped = false
  let unlisten: (() => Promise<void>) | null = null
  let delay = 100
  const retry = () => {
    setTimeout(() => void subscribe(), delay).unref()
    delay = Math.min(delay * 2, 5000)
  }
  const subscribe = async (): Promise<void> => {
    if (stopped) return
    try {
      unlisten = await store.listen!(tokens.TOKENS_CHANNEL, forget, (error) => {
        hearing(false)
        onError(error)
        retry()
      })
      hearing(true)
      delay = 100
    } catch (error) {
      onError(error)
      retry()
    }
  }
  await subscribe()
  return async () => {
    stopped = true
    hearing(false)
    await unlisten?.()
  }
}
