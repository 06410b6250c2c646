import { createHash } from 'node:crypto'

/**
 * The proof of work a browser does (altcha's `solveChallenge`: the number whose hash with the salt is the
 * challenge), hashed synchronously: altcha's own awaits a WebCrypto digest on libuv's thread pool for every
 * number tried, ~1,000 a solve, and on a busy machine each of those waits for a thread (sign-in-attack
 * spent most of its time there).
 */
export function solvePow(
  challenge: string,
  salt: string,
  algorithm: string,
  max = 1_000_000,
): { number: number } | null {
  const name = algorithm.replace('-', '').toLowerCase()
  for (let n = 0; n <= max; n++)
    if (
      createHash(name)
        .update(salt + n)
        .digest('hex') === challenge
    )
      return { number: n }
  return null
}
