import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Db } from '@orgkit/store'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  embeddedTestFolder,
  type PostgresTestDatabase,
  postgresTestDatabase,
} from '../../store/test/support/test-databases.ts'
import { type RunningServer, startServer } from '../src/server.ts'
import { client, DATABASES, TEST_PASSWORD_HASH_COST } from './support/harness.ts'

/**
 * Issue 22.7: a database reader (a dump, a replica, an SQL injection elsewhere) could read TOTP secrets and
 * the live links in unsent mail. Both are sealed (AES-256-GCM) under ORGKIT_SECRET_KEY, or a key file in
 * the embedded database's folder; keys rotate (a key id with each value); plaintext from before is sealed
 * at start; PostgreSQL without a key refuses to start.
 */

/** RFC 6238 from the RFC, independent of the server's library: SHA-1, 6 digits, 30 s. */
function totp(base32: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of base32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1]! & 0xf
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

const key = () => randomBytes(32).toString('base64')

describe.each(DATABASES)('secrets at rest (%s)', (database) => {
  let dir = ''
  let postgres: PostgresTestDatabase | undefined
  const running: RunningServer[] = []
  beforeAll(async () => {
    // PGlite's folder: a copy of the migrated template, as every test server's (it holds no key file).
    dir = database === 'pglite' ? embeddedTestFolder() : await mkdtemp(join(tmpdir(), 'orgkit-secrets-'))
    if (database === 'postgres') postgres = await postgresTestDatabase()
  })
  afterAll(async () => {
    for (const s of running) await s.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
    await postgres?.remove()
  })

  // The servers' clock: moved on 30 s before each sign-in, so each takes a TOTP step of its own.
  let offset = 0
  const clock = () => Date.now() + offset
  let token = ''
  const k1 = `k1:${key()}`
  const k2 = `k2:${key()}`

  /** A server on this suite's database (a folder, or a PostgreSQL database), with these keys; closes the previous one. */
  async function boot(secretKey?: string): Promise<RunningServer> {
    await running.pop()?.close()
    const s = await startServer({
      database:
        database === 'pglite'
          ? { dataDir: dir }
          : { url: postgres!.url, schema: postgres!.schema, poolSize: 4 },
      logger: pino({ level: 'silent' }),
      webhookIntervalMs: 0,
      usageFlushMs: 0,
      consoleDir: null,
      clock,
      secretKey,
      // Cheap argon2, as the harness's servers: these sign up and sign in, but test sealing, not hashing.
      passwordHashCost: TEST_PASSWORD_HASH_COST,
    })
    running.push(s)
    token ||= s.bootstrapToken!
    return s
  }
  const column = async (db: Db, userId: string) =>
    (await db.selectFrom('users').select('totp_secret').where('id', '=', userId).executeTakeFirstOrThrow())
      .totp_secret!
  const outbox = async (s: RunningServer) =>
    (await client(s.url, token).get('/v1/outbox')).body.items as { to: string; text: string }[]
  /** Signs up (verified through the outbox's link), and turns 2FA on. */
  const enrol = async (s: RunningServer, email: string) => {
    const password = 'a long enough passphrase'
    const signup = await fetch(`${s.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, name: 'T' }),
    })
    expect(signup.status).toBe(200)
    const mail = (await outbox(s)).find((m) => m.to === email)!
    const verified = await client(s.url, token).post('/v1/auth/verify', {
      token: /token=(oki_[\w-]+)/.exec(mail.text)![1],
    })
    const userId = verified.body.userId as string
    const as = client(s.url, token, userId)
    const started = await as.post('/v1/me/mfa/totp')
    expect(started.status).toBe(200)
    const secret = started.body.secret as string
    expect((await as.post('/v1/me/mfa/totp/confirm', { code: totp(secret, clock()) })).status).toBe(200)
    return { userId, secret, as, email, password }
  }
  /** Signs in with the password and a code of the next step: the stored secret still opens and verifies. */
  const signIn = async (s: RunningServer, who: { email: string; password: string; secret: string }) => {
    offset += 30_000
    const reply = await fetch(`${s.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: who.email, password: who.password, totp: totp(who.secret, clock()) }),
    })
    return reply.status
  }

  it.runIf(database === 'postgres')('refuses to start on PostgreSQL without ORGKIT_SECRET_KEY', async () => {
    await expect(boot(undefined)).rejects.toThrow(/ORGKIT_SECRET_KEY/)
  })

  it('seals plaintext secrets from before at start, and they keep working', async () => {
    const s = await boot(database === 'pglite' ? undefined : k1)
    const legacy = await enrol(s, 'legacy@example.com')
    // As an older version left them: a plain TOTP secret, a plain unsent mail body.
    await s.store.db
      .updateTable('users')
      .set({ totp_secret: legacy.secret })
      .where('id', '=', legacy.userId)
      .execute()
    await s.store.db
      .insertInto('mail_outbox')
      .values({
        id: randomUUID(),
        recipient: 'legacy@example.com',
        subject: 'old',
        text_body: 'https://example.com/verify?token=oki_legacy',
        html_body: null,
        sent_at: null,
        error: null,
      })
      .execute()
    const after = await boot(database === 'pglite' ? undefined : k1)
    expect(await column(after.store.db, legacy.userId)).toMatch(/^ok1:/)
    const bodies = await after.store.db.selectFrom('mail_outbox').select('text_body').execute()
    expect(bodies.every((b) => !b.text_body.includes('oki_'))).toBe(true)
    expect((await outbox(after)).some((m) => m.text.includes('oki_legacy'))).toBe(true)
    expect(await signIn(after, legacy)).toBe(200)
  }, 60_000)

  it('seals TOTP secrets and unsent mail, shows them to whoever may read them, and rotates keys', async () => {
    let s = await boot(database === 'pglite' ? undefined : k1)
    if (database === 'pglite') {
      // The embedded default keeps its key in the data folder, readable by its owner only.
      const file = join(dir, 'secret.key')
      expect((await stat(file)).mode & 0o077).toBe(0)
      expect((await readFile(file, 'utf8')).trim()).toMatch(/^[\w-]+:[A-Za-z0-9+/=_-]{43,44}$/)
    }
    const alice = await enrol(s, 'alice@example.com')
    const stored = await column(s.store.db, alice.userId)
    expect(stored).not.toContain(alice.secret)
    expect(stored).toMatch(/^ok1:/)

    // An invitation's link: sealed in the table, readable through the outbox (platform token).
    const org = (await alice.as.post('/v1/orgs', { name: 'Sealed' })).body.id as string
    const platform = client(s.url, token)
    expect(
      (await platform.post(`/v1/orgs/${org}/invitations`, { email: 'bob@example.com', role: 'org_member' }))
        .status,
    ).toBe(201)
    const row = await s.store.db
      .selectFrom('mail_outbox')
      .select(['text_body'])
      .where('recipient', '=', 'bob@example.com')
      .executeTakeFirstOrThrow()
    expect(row.text_body).not.toMatch(/oki_/)
    const shown = (await outbox(s)).find((m) => m.to === 'bob@example.com')!
    const link = /invitations\/(oki_[\w-]+)/.exec(shown.text)![1]!
    expect((await platform.get(`/v1/invitations/${link}`)).status).toBe(200)

    // Rotation: k2 becomes current, k1 still opens what it sealed; `rotate` re-seals everything under k2.
    if (database === 'pglite') {
      const fileKey = (await readFile(join(dir, 'secret.key'), 'utf8')).trim()
      s = await boot(`${k2},${fileKey}`)
    } else s = await boot(`${k2},${k1}`)
    // Sealed under k1, opened and re-sealed under k2 as it is used.
    expect(await signIn(s, alice)).toBe(200)
    expect(await column(s.store.db, alice.userId)).toMatch(/^ok1:k2:/)
    const { rotateSecrets } = await import('../src/security/secrets-at-rest.ts')
    const rotated = await rotateSecrets(s.store.db, s.ctx.secrets)
    expect(rotated.mail).toBeGreaterThanOrEqual(1)
    const bodies = await s.store.db.selectFrom('mail_outbox').select('text_body').execute()
    expect(bodies.every((b) => b.text_body === '' || b.text_body.startsWith('ok1:k2:'))).toBe(true)
    // Only k2 now: everything still opens.
    s = await boot(k2)
    const again = (await outbox(s)).find((m) => m.to === 'bob@example.com')!
    expect(again.text).toContain(link)
    expect(await signIn(s, alice)).toBe(200)

    // A key the values need is missing: the server says so at start, instead of failing sign-ins later.
    await expect(boot(`k3:${key()}`)).rejects.toThrow(/k2/)
  }, 120_000)
})

describe('ORGKIT_SECRET_KEY', () => {
  it('takes base64 or hex keys, with or without ids, and refuses anything else at start', async () => {
    const { loadConfig } = await import('../src/config.ts')
    const b64 = randomBytes(32).toString('base64')
    const hex = randomBytes(32).toString('hex')
    for (const ok of [b64, hex, `new:${b64},old:${hex}`])
      expect(loadConfig({ ORGKIT_SECRET_KEY: ok }).secretKey).toBe(ok)
    for (const bad of ['short', randomBytes(16).toString('hex'), `a:${b64},a:${hex}`, `bad id:${b64}`])
      expect(() => loadConfig({ ORGKIT_SECRET_KEY: bad })).toThrow(/ORGKIT_SECRET_KEY/)
  })
})
