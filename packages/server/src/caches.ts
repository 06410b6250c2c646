import type { ChainHead } from '@orgkit/store'

/**
 * A server's in-memory caches, made with the server (`createCaches`, on `Ctx.caches`) and never at module
 * level: two servers in one process (the tests start many) share none, and a server's go with it. The
 * maps are bounded, and keyed by a secret's SHA-256, never the secret.
 */
export interface Caches {
  /**
   * Platform tokens that verified, until `until` (`performance.now()` ms): middleware/auth.ts. A wrong
   * token is never kept. A revoked or deleted one is dropped as its revocation commits, on every instance
   * (security/token-revocations.ts); while revocations can't be heard, an entry lasts PLATFORM_TOKEN_TTL_MS.
   */
  platformTokens: Map<string, { id: string; until: number }>
  /** Whether revocations are heard as they commit (then an entry may last a minute, not a second). */
  platformTokenRevocationsHeard: boolean
  /**
   * Bumped by every revocation heard, and whenever hearing starts or stops: a token verified by a lookup
   * that began before a bump is not kept, since the revocation may have been of it.
   */
  platformTokenEpoch: number
  /** The API key a secret names (which never changes): services/api-keys.ts. */
  apiKeys: Map<string, { id: string; user_id: string }>
  /**
   * The user each external id names (a host token's `sub`, an `X-Orgkit-User: external:` header): a check
   * acting as one needs no database round trip. An external id, once given, never moves to another user, so
   * an entry is right for as long as its user exists (asked of the engine at each hit): services/external-users.ts.
   */
  externalUsers: Map<string, string>
  /**
   * Each audit chain's newest entry as this server last committed it, by org id ('' for the account-level
   * chain): a write's append is then one statement while no other instance appended since
   * (store's `appendAuditEntry` checks, and falls back to reading the head). Bounded: cleared past
   * AUDIT_HEADS_MAX chains.
   */
  auditHeads: Map<string, ChainHead>
  /**
   * Chains whose last entry this server appended went to webhook endpoints: a write there logs its changes
   * after its outbox rows, not with its audit entry, so the revision row — every write's queue — is not held
   * across them (services/context.ts), and does not end with its audit append. A hint: wrong, it costs that
   * lock a little longer, or (an endpoint this server has not seen) the write runs again. Bounded with
   * auditHeads.
   */
  hookedChains: Set<string>
  /**
   * Chains another instance appended to while this server kept their head: a write there does not end with
   * its audit append (services/context.ts), which would find the head moved, fail, and run the write again
   * each time another instance had written. Bounded with auditHeads.
   */
  sharedChains: Set<string>
  /** The hash a sign-in for an unknown email is verified against (security/passwords.ts). */
  dummyPasswordHash: Promise<string> | null
}

export const createCaches = (): Caches => ({
  platformTokens: new Map(),
  platformTokenRevocationsHeard: false,
  platformTokenEpoch: 0,
  apiKeys: new Map(),
  externalUsers: new Map(),
  auditHeads: new Map(),
  hookedChains: new Set(),
  sharedChains: new Set(),
  dummyPasswordHash: null,
})

/** Chains whose head a server keeps (`Caches.auditHeads`): one entry each, ~100 bytes. */
export const AUDIT_HEADS_MAX = 10_000

/** Keeps the heads a write committed; a head older than the one kept (writes finishing out of order) is not. */
export function rememberAuditHeads(caches: Caches, heads: ReadonlyMap<string, ChainHead>): void {
  if (caches.auditHeads.size + heads.size > AUDIT_HEADS_MAX) caches.auditHeads.clear()
  if (caches.hookedChains.size > AUDIT_HEADS_MAX) caches.hookedChains.clear()
  if (caches.sharedChains.size > AUDIT_HEADS_MAX) caches.sharedChains.clear()
  for (const [chain, head] of heads) {
    const kept = caches.auditHeads.get(chain)
    if (!kept || kept.seq < head.seq) caches.auditHeads.set(chain, head)
  }
}
