import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { OrgkitError } from '@orgkit/core'
import { credentials, type DatabaseConfig, type Executor, mailOutbox, sso, webhooks } from '@orgkit/store'
import { type Keyring, keyIdOf, newKeyEntry, parseKeyring, type SecretBox } from './secret-box.ts'

/** Where a sealed value belongs (its associated data): it opens only there. */
export const totpContext = (userId: string) => `totp:${userId}`
export const mailContext = (mailId: string) => `mail:${mailId}`
/** An SSO connection's secret field (an OIDC client secret, a SAML SP key): issue 21.1. */
export const ssoSecretContext = (connectionId: string, field: string) => `sso:${connectionId}:${field}`
/** A webhook endpoint's signing secret, the current one and the one a rotation replaced alike. */
export const webhookContext = (webhookId: string) => `webhook:${webhookId}`

/** The file the embedded default keeps its key in, inside its data folder. */
export const KEY_FILE = 'secret.key'

/**
 * The keys this server seals with (security/secret-box.ts): ORGKIT_SECRET_KEY when given. Without it, the
 * embedded database keeps a key of its own in its folder (made on the first start, readable by its owner
 * only), an in-memory one gets a key that dies with it, and a PostgreSQL server is refused: a key stored
 * beside the data would protect nothing, and every instance must hold the same one.
 */
export async function loadKeyring(secretKey: string | undefined, database: DatabaseConfig): Promise<Keyring> {
  if (secretKey) return parseKeyring(secretKey)
  if (database.url) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      'ORGKIT_SECRET_KEY is required with ORGKIT_DATABASE_URL: it seals TOTP, SSO and webhook secrets and ' +
        'mail links at rest, and every instance needs the same one. Make one with `openssl rand -base64 32` ' +
        '(docs/deploy.md)',
      { field: 'ORGKIT_SECRET_KEY' },
    )
  }
  const dir = database.dataDir ?? './.orgkit'
  if (dir.startsWith('memory://')) return parseKeyring(newKeyEntry())
  const file = join(dir, KEY_FILE)
  return parseKeyring((await readOrCreate(dir, file)).trim(), file)
}

async function readOrCreate(dir: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dir, { recursive: true })
  const entry = newKeyEntry()
  try {
    // `wx`: a process starting at the same moment that wrote one first wins, and we read its key.
    await writeFile(file, `${entry}\n`, { mode: 0o600, flag: 'wx' })
    return entry
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return readFile(file, 'utf8')
  }
}

/** Opens a stored TOTP secret; one in plain text or under an older key is sealed anew at once (rotation on use). */
export async function openTotpSecret(
  db: Executor,
  box: SecretBox,
  userId: string,
  stored: string,
): Promise<string> {
  const { value, stale } = box.open(stored, totpContext(userId))
  if (stale) await credentials.replaceTotpSecret(db, userId, stored, box.seal(value, totpContext(userId)))
  return value
}

export interface SealedCounts {
  totp: number
  mail: number
  sso: number
  /** Webhook endpoints (each with its secret and, during a rotation's overlap, the previous one). */
  webhook: number
}

/**
 * Seals the secrets stored in plain text (from before sealing existed) — at every start — and, with
 * `everything`, re-seals under the current key what older keys sealed, so those keys can be dropped
 * (`orgkit secrets rotate`). Changes nothing, and says which, when some value is sealed with a key the
 * keyring lacks: better a refused start than 2FA sign-ins failing one by one. Each value is replaced only
 * if unchanged meanwhile, so a concurrent enrolment or send wins.
 */
export async function sealStoredSecrets(
  db: Executor,
  box: SecretBox,
  options: { everything: boolean },
): Promise<SealedCounts> {
  const current = `ok1:${box.keyring.current}:`
  const totp = await credentials.listTotpSecrets(db, current)
  const mails = await mailOutbox.listUnsentBodies(db, current)
  // SSO connections' secret fields are sealed from the start (services/sso-connections.ts): every `ok1:` value.
  const connections = (await sso.listConfigs(db)).map((c) => ({ ...c, sealed: sealedFields(c.config) }))
  const hooks = await webhooks.listSecrets(db, current)
  const values = [
    ...totp.map((r) => r.totp_secret),
    ...mails.flatMap((m) => [m.text_body, m.html_body ?? '']),
    ...connections.flatMap((c) => c.sealed.map(([, v]) => v)),
    ...hooks.flatMap((h) => [h.secret, h.previous_secret ?? '']),
  ]
  const missing = new Set(values.filter((v) => v && !box.canOpen(v)).map((v) => keyIdOf(v)!))
  if (missing.size > 0) {
    const kids = [...missing].map((kid) => `"${kid}"`).join(', ')
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `stored secrets are sealed with key ${kids}, which ORGKIT_SECRET_KEY does not hold: put it back ` +
        '(as kid:key, after the current key) until `orgkit secrets rotate` has sealed them anew',
      { field: 'ORGKIT_SECRET_KEY' },
    )
  }
  const due = (value: string) => options.everything || keyIdOf(value) === null
  const counts: SealedCounts = { totp: 0, mail: 0, sso: 0, webhook: 0 }
  for (const row of totp.filter((r) => due(r.totp_secret))) {
    const context = totpContext(row.id)
    const plain = box.open(row.totp_secret, context).value
    if (await credentials.replaceTotpSecret(db, row.id, row.totp_secret, box.seal(plain, context)))
      counts.totp++
  }
  for (const mail of mails.filter((m) => due(m.text_body))) {
    const context = mailContext(mail.id)
    const reseal = (body: string) => box.seal(box.open(body, context).value, context)
    const bodies = { text: reseal(mail.text_body), html: mail.html_body ? reseal(mail.html_body) : null }
    if (await mailOutbox.replaceBodies(db, mail.id, mail.text_body, bodies)) counts.mail++
  }
  for (const c of connections.filter((c) => options.everything && c.sealed.length > 0)) {
    const config = { ...(c.config as Record<string, unknown>) }
    for (const [field, value] of c.sealed) {
      const context = ssoSecretContext(c.id, field)
      config[field] = box.seal(box.open(value, context).value, context)
    }
    if (await sso.replaceConfig(db, c.id, c.config, config)) counts.sso++
  }
  for (const hook of hooks.filter((h) => due(h.secret) || (h.previous_secret && due(h.previous_secret)))) {
    const context = webhookContext(hook.id)
    const reseal = (value: string) => box.seal(box.open(value, context).value, context)
    const next = {
      secret: reseal(hook.secret),
      previous_secret: hook.previous_secret === null ? null : reseal(hook.previous_secret),
    }
    if (await webhooks.replaceSecrets(db, hook.id, hook, next)) counts.webhook++
  }
  return counts
}

/** `orgkit secrets rotate`: everything sealed under the current key, so older keys can leave the keyring. */
export const rotateSecrets = (db: Executor, box: SecretBox) =>
  sealStoredSecrets(db, box, { everything: true })

function sealedFields(config: unknown): [string, string][] {
  return Object.entries((config ?? {}) as Record<string, unknown>).filter(
    (e): e is [string, string] => typeof e[1] === 'string' && keyIdOf(e[1]) !== null,
  )
}
