import { OrgkitError } from '@orgkit/core'
import type { CryptoKey, JWTPayload, JWTVerifyGetKey } from 'jose'
import { isLoopback } from './local-outbox.ts'
import { sha256 } from './tokens.ts'

/**
 * Host tokens (issue 20): the host product's own JWTs, signed by its identity provider (Auth0, Clerk, Better
 * Auth, its own code) and verified here against its JWKS, so a product calls Orgkit as its signed-in people
 * without provisioning them first. Keys come only from the configured JWKS — never from a token's `jwk`,
 * `jku` or `x5u` header, which jose's remote key set does not read — and only asymmetric algorithms are
 * accepted, so neither `alg: none` nor an HMAC keyed with the public key's bytes can pass.
 */

/** RS256, ES256 and EdDSA only (issue 20): asymmetric, so knowing the public key signs nothing. */
export const HOST_TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA']

/** An external id: 1-255 characters, none of them control characters (it travels in a header). */
export const EXTERNAL_ID = /^[^\p{Cc}]{1,255}$/u

/** RFC 8176 `amr` values that prove a second factor: any of them passes an org's required 2FA. */
export const SECOND_FACTORS: ReadonlySet<string> = new Set(['mfa', 'otp', 'hwk', 'swk'])

/**
 * After a fetch, how long a token naming an unknown `kid` waits before the JWKS is fetched again: a key the
 * host adds is accepted within this time (issue 20: within a minute), and a flood of made-up kids costs
 * the host at most one fetch per period.
 */
export const JWKS_COOLDOWN_MS = 30_000
/** How long a fetched JWKS is used before it is fetched again anyway (a key the host removed stops then). */
export const JWKS_MAX_AGE_MS = 600_000
/**
 * How long a token that verified is trusted again without checking its signature (never past its `exp`).
 * A signature check costs 0.15-0.7 ms, several times a check, and a host calls with the same token for its
 * lifetime; a key removed from the JWKS already lives on for up to JWKS_MAX_AGE_MS, so this loses nothing.
 */
export const VERIFIED_TOKEN_TTL_MS = 60_000
const MAX_VERIFIED_TOKENS = 10_000

export interface HostTokenConfig {
  /** `ORGKIT_JWT_JWKS_URL`: https, or plain http on loopback (local development). */
  jwksUrl: string
  /** `ORGKIT_JWT_ISSUER`: the `iss` every token must carry. */
  issuer: string
  /** `ORGKIT_JWT_AUDIENCE`: the `aud` every token must carry (alone, or among others in an array). */
  audience: string
  /** See JWKS_COOLDOWN_MS (tests shorten it). */
  cooldownMs?: number | undefined
  /** See JWKS_MAX_AGE_MS. */
  maxAgeMs?: number | undefined
}

/** What a verified token says about its person. */
export interface HostIdentity {
  /** `sub`: the host's id for the person, matched against users' `externalId`. */
  externalId: string
  email: string | null
  emailVerified: boolean
  name: string | null
  /** The token's `amr` proved a second factor (SECOND_FACTORS). */
  mfa: boolean
}

/** Fails at start-up with what to fix: a JWKS URL that is neither https nor http on loopback. */
export function assertJwksUrl(value: string, field = 'ORGKIT_JWT_JWKS_URL'): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new OrgkitError('VALIDATION_FAILED', `${field} must be a URL, not "${value}"`, { field })
  }
  const local = url.protocol === 'http:' && isLoopback(url.hostname)
  if (url.protocol !== 'https:' && !local) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `${field} must be https (plain http only on loopback, for local development): "${value}"`,
      { field },
    )
  }
  return url
}

type Jose = typeof import('jose')
/**
 * jose, loaded with the first host token to verify: loading its ~46 modules cost every start ~60-85 ms of
 * CPU, and an instance without ORGKIT_JWT_* never verifies one. Node keeps the module once loaded.
 */
const loadJose = (): Promise<Jose> => import('jose')

/** Whether a bearer secret is shaped as a compact JWS (three base64url parts), not an `okp_`/`okk_` secret. */
export const looksLikeJwt = (secret: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(secret)

/**
 * One server's verifier: its remote key set caches the JWKS, fetches it again for an unknown `kid` (at
 * most once per cooldown), and is made with the server, never at module level.
 */
export class HostTokens {
  /** Made with the first token to verify (jose loads then); the JWKS is fetched on first use either way. */
  private keys: JWTVerifyGetKey | undefined
  private readonly jwksUrl: URL
  private readonly config: HostTokenConfig
  /** Tokens that verified, by their SHA-256 (never the token): until `until` (performance.now()) or `exp`. */
  private readonly verifiedTokens = new Map<string, { identity: HostIdentity; exp: number; until: number }>()

  constructor(
    config: HostTokenConfig,
    private readonly clock: () => number,
  ) {
    this.config = config
    this.jwksUrl = assertJwksUrl(config.jwksUrl)
  }

  /** The token's person, or a catalogued 401 saying what is wrong with it. */
  async verify(token: string): Promise<HostIdentity> {
    const hash = sha256(token)
    const hit = this.verifiedTokens.get(hash)
    if (hit !== undefined && hit.until > performance.now() && hit.exp > this.clock()) return hit.identity
    this.verifiedTokens.delete(hash)
    const jose = await loadJose()
    let payload: JWTPayload
    try {
      payload = await this.verified(token, jose)
    } catch (error) {
      throw refusal(error, jose.errors)
    }
    const identity = identityOf(payload)
    if (this.verifiedTokens.size >= MAX_VERIFIED_TOKENS) this.verifiedTokens.clear()
    this.verifiedTokens.set(hash, {
      identity,
      exp: (payload.exp as number) * 1000,
      until: performance.now() + VERIFIED_TOKEN_TTL_MS,
    })
    return identity
  }

  private async verified(
    token: string,
    { createRemoteJWKSet, errors, jwtVerify }: Jose,
  ): Promise<JWTPayload> {
    this.keys ??= createRemoteJWKSet(this.jwksUrl, {
      cooldownDuration: this.config.cooldownMs ?? JWKS_COOLDOWN_MS,
      cacheMaxAge: this.config.maxAgeMs ?? JWKS_MAX_AGE_MS,
    })
    const keys = this.keys
    const options = {
      algorithms: HOST_TOKEN_ALGORITHMS,
      issuer: this.config.issuer,
      audience: this.config.audience,
      requiredClaims: ['exp', 'sub'],
      // Expiry and not-before against the server's clock, with no tolerance: expired means expired.
      currentDate: new Date(this.clock()),
    }
    try {
      return (await jwtVerify(token, keys, options)).payload
    } catch (error) {
      // A token with no `kid` and several keys of its type in the set: the one that verifies it, if any.
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error
      for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
        try {
          return (await jwtVerify(token, key, options)).payload
        } catch (next) {
          if (!(next instanceof errors.JWSSignatureVerificationFailed)) throw next
        }
      }
      throw new errors.JWSSignatureVerificationFailed()
    }
  }
}

/** jose's error as the catalogue's: each refusal its own code. */
function refusal(error: unknown, errors: Jose['errors']): OrgkitError {
  if (error instanceof OrgkitError) return error
  if (error instanceof errors.JWTExpired) return new OrgkitError('JWT_EXPIRED', 'the token has expired')
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim
    if (claim === 'iss')
      return new OrgkitError('JWT_ISSUER_MISMATCH', 'the token is not from the configured issuer', { claim })
    if (claim === 'aud')
      return new OrgkitError('JWT_AUDIENCE_MISMATCH', 'the token is not for the configured audience', {
        claim,
      })
    return new OrgkitError('JWT_CLAIM_INVALID', `the token's "${claim}" claim ${error.reason}`, {
      claim,
      reason: error.reason,
    })
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new OrgkitError(
      'JWT_ALGORITHM_REFUSED',
      `host tokens are signed with ${HOST_TOKEN_ALGORITHMS.join(', ')}`,
      {
        allowed: HOST_TOKEN_ALGORITHMS,
      },
    )
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new OrgkitError('JWT_SIGNATURE_INVALID', 'the token’s signature does not verify')
  if (error instanceof errors.JWKSNoMatchingKey)
    return new OrgkitError('JWT_KEY_UNKNOWN', 'no key of the JWKS matches the token (its kid and alg)')
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    // jose's own "expected 200 OK" and "not JSON", and fetch's network failures
    (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') ||
    (error instanceof TypeError && /fetch/i.test(error.message))
  )
    return new OrgkitError('JWKS_UNAVAILABLE', 'the JWKS could not be fetched or read: try again shortly')
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKInvalid
  )
    return new OrgkitError('JWT_MALFORMED', `the token can't be read: ${(error as Error).message}`)
  throw error
}

const text = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value.trim().length > 0 ? value.trim().slice(0, max) : null

/** The claims Orgkit reads, checked: `sub` is an id we can store (the header `external:` form names it). */
function identityOf(payload: JWTPayload): HostIdentity {
  const sub = payload.sub
  if (typeof sub !== 'string' || !EXTERNAL_ID.test(sub)) {
    throw new OrgkitError('JWT_CLAIM_INVALID', 'the token’s "sub" is not an id of 1-255 visible characters', {
      claim: 'sub',
    })
  }
  const email = text(payload.email, 320)
  const names = [text(payload.given_name, 100), text(payload.family_name, 100)].filter(Boolean)
  const amr = Array.isArray(payload.amr) ? payload.amr : []
  return {
    externalId: sub,
    email: email?.includes('@') ? email : null,
    // Strictly the boolean: an account with this email is linked only on the issuer's word that it's theirs.
    emailVerified: payload.email_verified === true,
    name: text(payload.name, 200) ?? (names.length > 0 ? names.join(' ') : null),
    mfa: amr.some((method) => typeof method === 'string' && SECOND_FACTORS.has(method)),
  }
}
