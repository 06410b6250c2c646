import { OrgkitError } from '@orgkit/core'
import { tokens, users } from '@orgkit/store'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { AppEnv } from '../env.ts'
import { looksLikeJwt } from '../security/host-tokens.ts'
import { safeEqual } from '../security/tokens.ts'
import { resolveSession, type Session } from '../services/accounts.ts'
import { findApiKey } from '../services/api-keys.ts'
import type { Actor, Ctx, RequestMeta } from '../services/context.ts'
import { userForHostToken, userIdForExternalId } from '../services/external-users.ts'

export const ACT_AS_HEADER = 'x-orgkit-user'
export const SESSION_COOKIE = 'orgkit_session'
export const CSRF_COOKIE = 'orgkit_csrf'
export const CSRF_HEADER = 'x-orgkit-csrf'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** What a request says about who is calling: its headers, read once by whichever HTTP path answers it. */
export interface Credentials {
  method: string
  authorization: string | undefined
  actAs: string | undefined
  /** The `orgkit_session` cookie's value. */
  session: string | undefined
  csrf: string | undefined
  /** For the audit entry of a user made just in time from a host token (none on the hot path). */
  meta?: RequestMeta | undefined
}

const NO_META: RequestMeta = { ip: null, userAgent: null, requestId: null }
/** `X-Orgkit-User: external:<externalId>` names a user by the host's id for them (issue 20). */
const EXTERNAL_PREFIX = 'external:'

/**
 * Who is calling:
 * - `Authorization: Bearer okp_…` — a platform token (the host product); with `X-Orgkit-User: <id>` (or
 *   `external:<externalId>`) it acts as that user, with exactly that user's rights;
 * - `Authorization: Bearer okk_…` — a user's API key: the owner, narrowed by the key (the engine);
 * - `Authorization: Bearer <JWT>` — a host token (ORGKIT_JWT_*): the user whose externalId is its `sub`,
 *   made just in time from its claims (services/external-users.ts); its `amr` may prove a second factor;
 * - the `orgkit_session` cookie — a signed-in user; writes must echo the `orgkit_csrf` cookie in the
 *   `X-Orgkit-CSRF` header (double submit), so another site can't ride the cookie.
 *
 * Shared by the middleware below and the authorization API's hot path (hot/listener.ts).
 */
export async function resolveCaller(ctx: Ctx, given: Credentials): Promise<Actor> {
  if (given.authorization) {
    const secret = /^Bearer\s+(\S+)$/i.exec(given.authorization)?.[1]
    if (!secret) throw new OrgkitError('UNAUTHENTICATED', 'send Authorization: Bearer <token>')
    if (secret.startsWith('okk_')) {
      const key = await findApiKey(ctx, secret)
      let decision = key && ctx.engine.authorizer.keyState(key.id)
      if (decision === 'unknown') {
        await ctx.engine.catchUp() // made on another instance a moment ago
        decision = ctx.engine.authorizer.keyState(key!.id)
      }
      if (!key || decision !== 'ok')
        throw new OrgkitError('UNAUTHENTICATED', `this API key is ${decision ?? 'unknown'}`)
      return { kind: 'user', userId: key.user_id, via: 'apiKey', keyId: key.id }
    }
    if (looksLikeJwt(secret)) return hostTokenCaller(ctx, secret, given.meta ?? NO_META)
    const token = await platformToken(ctx, secret)
    if (!token) throw new OrgkitError('UNAUTHENTICATED', 'unknown or revoked token')
    if (!given.actAs) return { kind: 'platform', tokenId: token.id }
    const userId = given.actAs.startsWith(EXTERNAL_PREFIX)
      ? await userIdForExternalId(ctx, given.actAs.slice(EXTERNAL_PREFIX.length))
      : await existingUser(ctx, given.actAs)
    if (userId === undefined) throw new OrgkitError('UNAUTHENTICATED', `no user ${given.actAs} to act as`)
    return { kind: 'user', userId, via: 'platform', tokenId: token.id }
  }
  const session = given.session ? await resolveSession(ctx, given.session) : null
  if (!session) throw new OrgkitError('UNAUTHENTICATED', 'sign in first')
  if (!SAFE_METHODS.has(given.method) && !safeEqual(given.csrf ?? '', session.csrf)) {
    throw new OrgkitError(
      'CSRF_FAILED',
      `send the ${CSRF_COOKIE} cookie's value in the ${CSRF_HEADER} header`,
    )
  }
  // A session handed off from a host token that proved a second factor keeps that proof (issue 20).
  return session.secondFactor
    ? { kind: 'user', userId: session.userId, via: 'session', mfa: true }
    : { kind: 'user', userId: session.userId, via: 'session' }
}

/**
 * A host token's user. Verifying costs a signature check and no query once the user is known (the JWKS
 * and the externalId → user mapping are cached on the server); the first request of a new person writes
 * their user, once. The token is refused with its own 401 code otherwise (security/host-tokens.ts).
 */
async function hostTokenCaller(ctx: Ctx, token: string, meta: RequestMeta): Promise<Actor> {
  if (ctx.hostTokens === null) {
    throw new OrgkitError(
      'UNAUTHENTICATED',
      'this server takes no host tokens: set ORGKIT_JWT_JWKS_URL, ORGKIT_JWT_ISSUER and ORGKIT_JWT_AUDIENCE',
    )
  }
  const identity = await ctx.hostTokens.verify(token)
  const userId = await userForHostToken(ctx, identity, meta)
  return identity.mfa
    ? { kind: 'user', userId, via: 'hostToken', mfa: true }
    : { kind: 'user', userId, via: 'hostToken' }
}

/**
 * The id of the user a platform token acts as, or undefined. Every user is in the engine (the snapshot
 * and the change feed), so a check acting as one needs no database round trip; one the engine does not
 * know (made on another instance a moment ago, or an id in capitals) is looked for after catching up, and
 * then in the database, which has the last word.
 */
async function existingUser(ctx: Ctx, id: string): Promise<string | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined
  if (ctx.engine.authorizer.hasUser(id)) return id
  await ctx.engine.catchUp()
  if (ctx.engine.authorizer.hasUser(id)) return id
  return (await users.findUser(ctx.db, id))?.id
}

/** The middleware: `resolveCaller` on Hono's request; sets `actor` (and `sessionToken` for a cookie). */
export function authenticate(ctx: Ctx): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = c.req.header('authorization')
    const session = authorization ? undefined : getCookie(c, SESSION_COOKIE)
    c.set(
      'actor',
      await resolveCaller(ctx, {
        method: c.req.method,
        authorization,
        actAs: c.req.header(ACT_AS_HEADER),
        session,
        csrf: c.req.header(CSRF_HEADER),
        meta: c.get('meta'),
      }),
    )
    if (session) c.set('sessionToken', session)
    return next()
  }
}

/**
 * How long a verified platform token is trusted without asking the database again while revocations can't
 * be heard (a LISTEN connection down). The host product calls the check API on every request of its own;
 * a database round trip per check would cost more than the check. Only tokens that verified are kept (by
 * their SHA-256, never the secret), so a wrong token always reaches the database. While revocations are
 * heard (security/token-revocations.ts), a revoked token is dropped as the revocation commits, on every
 * instance, and an entry lasts PLATFORM_TOKEN_HEARD_TTL_MS at most.
 */
export const PLATFORM_TOKEN_TTL_MS = 1000
export const PLATFORM_TOKEN_HEARD_TTL_MS = 60_000

async function platformToken(ctx: Ctx, secret: string): Promise<{ id: string } | undefined> {
  const caches = ctx.caches
  const cache = caches.platformTokens
  const hash = tokens.hashSecret(secret)
  const now = performance.now()
  const hit = cache.get(hash)
  if (hit !== undefined && hit.until > now) return { id: hit.id }
  const epoch = caches.platformTokenEpoch
  const token = await tokens.findActivePlatformToken(ctx.db, secret)
  if (token) {
    // A revocation heard while the database answered may be this token's: then it is not kept.
    if (epoch === caches.platformTokenEpoch) {
      if (cache.size > 1000) cache.clear() // a handful of tokens in practice; never grows unbounded
      const ttl = caches.platformTokenRevocationsHeard ? PLATFORM_TOKEN_HEARD_TTL_MS : PLATFORM_TOKEN_TTL_MS
      cache.set(hash, { id: token.id, until: now + ttl })
    }
  } else cache.delete(hash)
  return token
}

/** Sets the session cookie (HTTP-only) and the CSRF cookie (readable by the console). */
export function startSession(c: Context, session: Session, secure: boolean): void {
  const options = { path: '/', sameSite: 'Lax' as const, secure, maxAge: 30 * 86_400 }
  setCookie(c, SESSION_COOKIE, session.token, { ...options, httpOnly: true })
  setCookie(c, CSRF_COOKIE, session.csrf, options)
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' })
  deleteCookie(c, CSRF_COOKIE, { path: '/' })
}
