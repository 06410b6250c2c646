import { fileURLToPath } from 'node:url'
import type { Model } from '@orgkit/core'
import { tokens } from '@orgkit/store'
import pino from 'pino'
import {
  borrowEmbeddedDatabase,
  type PostgresTestDatabase,
  postgresTestDatabase,
} from '../../../store/test/support/test-databases.ts'
import type { PlanCatalog } from '../../src/billing/plans.ts'
import { type RunningServer, type ServerOptions, startServer } from '../../src/server.ts'
import { solvePow } from './pow.ts'

/** The key sealing secrets at rest on the test PostgreSQL (issue 22.7): fixed, so instances share it. */
export const TEST_SECRET_KEY = `test:${'7e57'.repeat(16)}`

/**
 * Where each test's embedded database comes from: a migrated template kept here (remade when the migrations
 * change), ~1 s a server instead of ~4 s of initdb and migrations. ORGKIT_TEST_TEMPLATES= (empty) turns it
 * off: every database from initdb, as `npm start`'s first start makes one.
 */
export const TEMPLATE_DIR =
  process.env.ORGKIT_TEST_TEMPLATES ??
  fileURLToPath(new URL('../../../../node_modules/.cache/orgkit', import.meta.url))

/** argon2's parameters on a test server (ServerOptions.passwordHashCost): hashing isn't what they test. */
export const TEST_PASSWORD_HASH_COST = { memoryCost: 1024, timeCost: 1 }

/** Every API suite runs on the embedded database, and on a real PostgreSQL when one is configured. */
export const DATABASES: ('pglite' | 'postgres')[] = process.env.ORGKIT_TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite']

export interface Reply {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies
  body: any
}

export interface Client {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>
  get(path: string): Promise<Reply>
  post(path: string, body?: unknown): Promise<Reply>
  patch(path: string, body?: unknown): Promise<Reply>
  put(path: string, body?: unknown): Promise<Reply>
  delete(path: string): Promise<Reply>
}

export interface TestServer extends RunningServer {
  token: string
  /** The host product itself (platform token). */
  platform: Client
  /** The platform token acting as one user: exactly that user's rights. */
  as(userId: string): Client
  /** Provisions a user and returns its id. */
  user(name: string): Promise<string>
  stop(): Promise<void>
  /** Its PostgreSQL database (null on the embedded one): pass it as `postgres` to start another instance on it. */
  postgres: PostgresTestDatabase | null
}

export function client(url: string, token: string, actAs?: string): Client {
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(actAs && { 'x-orgkit-user': actAs }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }
  return clientOver(request)
}

/**
 * The Client shape over one `request` (however it authenticates: a token, a cookie jar, a scripted
 * browser): the verbs, with POST and PATCH sending `{}` when given no body.
 */
export function clientOver(request: Client['request']): Client {
  return {
    request,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body ?? {}),
    patch: (path, body) => request('PATCH', path, body ?? {}),
    put: (path, body) => request('PUT', path, body),
    delete: (path) => request('DELETE', path),
  }
}

/** A real server on a loopback port, over a fresh database (a copy of the migrated template, on either database). */
export async function startTestServer(
  database: 'pglite' | 'postgres',
  options: {
    model?: Model
    smtpUrl?: string
    signup?: 'open' | 'invite'
    clock?: () => number
    trustProxyHops?: number
    plans?: PlanCatalog
    /**
     * Run on this PostgreSQL database (another test server's `postgres`: two instances on one database, or
     * a restart on the same data); whoever made it removes it.
     */
    postgres?: PostgresTestDatabase | null
    /** Let credential-less loopback requests read the mail outbox, as `orgkit start` does (the console). */
    localOutbox?: boolean
    /** The built console to serve at `/`; API-only by default, whatever is built. */
    consoleDir?: string
    /** Any other server option, as given (issue 22's metrics access and secret keys). */
    server?: Partial<ServerOptions>
  } = {},
): Promise<TestServer> {
  const own = !options.server?.database && !options.postgres
  const embedded = database === 'pglite' && own ? await borrowEmbeddedDatabase() : null
  const postgres =
    database === 'postgres' ? (options.postgres ?? (own ? await postgresTestDatabase() : null)) : null
  const server = await startServer({
    database: embedded
      ? { dataDir: embedded.dataDir, pglite: embedded.pglite }
      : { url: postgres?.url, schema: postgres?.schema, poolSize: 12 },
    model: options.model,
    logger: pino({ level: 'silent' }),
    captchaMaxNumber: 2000,
    // argon2 at 1 MiB and one pass (~1 ms of CPU a hash or check, not ~16): tests sign in and fail sign-ins
    // by the hundred (auth.sign-in-attack alone ~150 a database). passwords.test checks the defaults.
    passwordHashCost: TEST_PASSWORD_HASH_COST,
    clock: options.clock,
    webhooksAllowPrivate: true,
    webhookIntervalMs: 0,
    smtpUrl: options.smtpUrl,
    signup: options.signup,
    trustProxyHops: options.trustProxyHops,
    localOutbox: options.localOutbox,
    consoleDir: options.consoleDir ?? null,
    plans: options.plans,
    usageFlushMs: 0,
    // PostgreSQL needs ORGKIT_SECRET_KEY, the same on every instance of a database (the embedded one makes its own).
    secretKey: database === 'postgres' ? TEST_SECRET_KEY : undefined,
    ...options.server,
  }).catch(async (error: unknown) => {
    // A start refused (a test of a refusal, or a failure): its own database goes all the same.
    await embedded?.release()
    if (own) await postgres?.remove()
    throw error
  })
  // Closed either way, its embedded database goes back to the worker's (a PostgreSQL one stays for a restart);
  // one whose server failed to close is closed with it, never lent again.
  const close = async () => {
    try {
      await server.close()
    } catch (error) {
      await embedded?.discard()
      throw error
    }
    await embedded?.release()
  }
  const token =
    server.bootstrapToken ??
    (await tokens.createPlatformToken(server.store.db, 'second').then(
      (made) => made.secret,
      async (error: unknown) => {
        await close().catch(() => {})
        if (own) await postgres?.remove()
        throw error
      },
    ))
  const platform = client(server.url, token)
  let emails = 0
  return {
    ...server,
    token,
    platform,
    as: (userId) => client(server.url, token, userId),
    user: async (name) => {
      const reply = await platform.post('/v1/users', {
        email: `${name.toLowerCase()}.${++emails}@example.com`,
        name,
      })
      if (reply.status !== 201) throw new Error(`user ${name}: ${JSON.stringify(reply.body)}`)
      return reply.body.id as string
    },
    postgres,
    close,
    stop: async () => {
      await close()
      if (own) await postgres?.remove()
    },
  }
}

/** Solves the server's proof-of-work captcha the way the browser widget does. */
export async function solveCaptcha(url: string): Promise<string> {
  const challenge = (await (await fetch(`${url}/v1/captcha`)).json()) as {
    algorithm: string
    challenge: string
    salt: string
    signature: string
    maxnumber?: number
  }
  const solution = solvePow(challenge.challenge, challenge.salt, challenge.algorithm, challenge.maxnumber)
  if (!solution) throw new Error('captcha not solved')
  const payload = {
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    number: solution.number,
    salt: challenge.salt,
    signature: challenge.signature,
  }
  return Buffer.from(JSON.stringify(payload)).toString('base64')
}
