import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

/**
 * A host product's identity provider, for tests: keys made by jose, a JWKS served over plain http on
 * loopback by node:http (as ORGKIT_JWT_JWKS_URL may be for local development), and tokens signed with
 * jose's SignJWT. Nothing is mocked: the server fetches and verifies exactly as it would Auth0's.
 */

export const ISSUER = 'https://idp.host.example/'
export const AUDIENCE = 'orgkit-api'

export interface SigningKey {
  kid: string
  alg: 'RS256' | 'ES256' | 'EdDSA'
  privateKey: CryptoKey
  /** The public JWK, as the JWKS lists it. */
  jwk: JWK
}

export async function makeKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export interface JwksServer {
  url: string
  /** The keys served now: change them to rotate. */
  keys: JWK[]
  /** How many times the JWKS was fetched. */
  fetches: number
  close(): Promise<void>
}

export async function startJwks(keys: JWK[] = []): Promise<JwksServer> {
  const state = { keys, fetches: 0 }
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end()
      return
    }
    state.fetches++
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get keys() {
      return state.keys
    },
    set keys(next) {
      state.keys = next
    },
    get fetches() {
      return state.fetches
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The host-token settings for a server that trusts this JWKS. */
export const hostTokenConfig = (jwks: JwksServer, cooldownMs = 200) => ({
  jwksUrl: jwks.url,
  issuer: ISSUER,
  audience: AUDIENCE,
  cooldownMs,
})

/**
 * A token as the host's provider signs it: `iss`, `aud`, `exp` in 10 minutes and the key's `kid`, each
 * replaceable (`undefined` leaves a claim out).
 */
export async function signToken(
  key: SigningKey,
  claims: JWTPayload & Record<string, unknown>,
  options: { header?: Record<string, unknown>; now?: number } = {},
): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, ...claims }
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
    .sign(key.privateKey)
}
