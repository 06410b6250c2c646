import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'
import { closeWhenAnswered } from '../../src/http-close.ts'

/**
 * A real OpenID Provider (oidc-provider 9) on loopback for the SSO tests: it signs real ID tokens (RS256),
 * serves discovery, the token and userinfo endpoints, and checks PKCE and client secrets itself. Its login
 * and consent steps are answered by a handler that signs in `idp.next` — the person the test chose — so a
 * scripted browser (or Chromium) walks the real redirects.
 */
export interface IdpPerson {
  email: string
  emailVerified: boolean
  name?: string
  groups?: string[]
}

export interface TestIdp {
  issuer: string
  /** Registered clients: id → secret. */
  clients: Record<string, string>
  people: Map<string, IdpPerson>
  /** The subject whose login the next interaction completes. */
  next: string
  stop(): Promise<void>
}

export async function startTestIdp(options: {
  redirectUris: string[]
  clients?: Record<string, string>
}): Promise<TestIdp> {
  const clients = options.clients ?? { orgkit: 'orgkit-secret', other: 'other-secret' }
  const people = new Map<string, IdpPerson>()
  const server: Server = createServer()
  // Chromium holds sockets to it (a walk's SSO sign-in): a plain close() waits on them.
  const close = closeWhenAnswered(server, 1000)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const idp: TestIdp = { issuer, clients, people, next: '', stop: async () => {} }
  const provider = new Provider(issuer, {
    clients: Object.entries(clients).map(([client_id, client_secret]) => ({
      client_id,
      client_secret,
      redirect_uris: options.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['orgkit-test-idp-cookie-key'] },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const person = people.get(sub)
      if (!person) return undefined
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          email: person.email,
          email_verified: person.emailVerified,
          ...(person.name && { name: person.name }),
          groups: person.groups ?? [],
        }),
      }
    },
  })
  const callback = provider.callback()
  server.on('request', async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res)
    try {
      const details = await provider.interactionDetails(req, res)
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: idp.next } },
          { mergeWithLastSubmission: false },
        )
        return
      }
      const grant = new provider.Grant({
        accountId: details.session!.accountId,
        clientId: details.params.client_id as string,
      })
      grant.addOIDCScope(String(details.params.scope))
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true },
      )
    } catch (error) {
      res.statusCode = 500
      res.end(String(error))
    }
  })
  idp.stop = close
  return idp
}

/**
 * A browser without a window: a cookie jar per origin (host:port) and redirects followed one by one, so the
 * test sees every hop (the IdP's interaction, the callback's Set-Cookie, the final Location).
 */
export class ScriptedBrowser {
  private readonly jars = new Map<string, Map<string, string>>()

  cookies(origin: string): Map<string, string> {
    const host = new URL(origin).host
    if (!this.jars.has(host)) this.jars.set(host, new Map())
    return this.jars.get(host)!
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const jar = this.cookies(url)
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const headers = new Headers(init.headers)
    if (cookie) headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at)
      const value = pair!.slice(at + 1)
      if (value && !/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.set(name, value)
      else jar.delete(name)
    }
    return response
  }

  /** Follows redirects from `url` until `stop` says so (or no Location): the last response and its URL. */
  async follow(
    url: string,
    stop: (url: URL) => boolean = () => false,
  ): Promise<{ url: URL; response: Response }> {
    let current = new URL(url)
    for (let hop = 0; hop < 20; hop++) {
      if (stop(current)) return { url: current, response: new Response(null, { status: 204 }) }
      const response = await this.fetch(current.href)
      const location = response.headers.get('location')
      if (response.status < 300 || response.status >= 400 || !location) return { url: current, response }
      await response.arrayBuffer()
      current = new URL(location, current)
    }
    throw new Error('too many redirects')
  }
}

/** A whole SSO sign-in by a browser: start at Orgkit, the IdP's hops as `subject`, the callback; where it landed. */
export async function signInThroughIdp(
  browser: ScriptedBrowser,
  orgkitUrl: string,
  idp: TestIdp,
  subject: string,
  start: Record<string, unknown>,
): Promise<URL> {
  idp.next = subject
  const started = await browser.fetch(`${orgkitUrl}/v1/auth/sso/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(start),
  })
  const { redirectUrl } = (await started.json()) as { redirectUrl: string }
  const atCallback = await browser.follow(redirectUrl, (u) => u.pathname === '/v1/auth/sso/callback')
  const callback = await browser.fetch(atCallback.url.href)
  return new URL(callback.headers.get('location')!, orgkitUrl)
}
