import { type Model, OrgkitError } from '@orgkit/core'
import { resolveModel } from '@orgkit/core/files'
import { loadPlans, type PlanCatalog } from './billing/plans.ts'
import { parseResolverAddress } from './domains/txt-lookup.ts'
import { assertJwksUrl, type HostTokenConfig } from './security/host-tokens.ts'
import { parseKeyring } from './security/secret-box.ts'

export interface Config {
  port: number
  host: string
  dataDir: string
  /**
   * ORGKIT_TEMPLATE_DIR: a folder keeping a migrated embedded database that an empty data folder starts as
   * a copy of (made there once per migration set), instead of initdb and every migration. The repository's
   * `orgkit` sets it to node_modules/.cache/orgkit.
   */
  templateDir: string | undefined
  databaseUrl: string | undefined
  /**
   * ORGKIT_DATABASE_PREPARE (on | off, default on): statements run prepared on PostgreSQL. Off behind a pooler
   * that can't keep a session's prepared statements (PgBouncer in transaction mode without max_prepared_statements).
   */
  databasePrepare: boolean
  /** ORGKIT_MODEL as given: a preset's name or a model file's path. */
  model: string
  /** The model it names, loaded and checked (a bad file fails here, with every error and its line). */
  modelDefinition: Model
  publicUrl: string | undefined
  logLevel: string
  smtpUrl: string | undefined
  mailFrom: string | undefined
  signup: 'open' | 'invite'
  webhooksAllowPrivate: boolean
  auditRetentionDays: number
  /** Minutes between checkpoints of each org's audit head (ORGKIT_AUDIT_CHECKPOINT_MINUTES, 0: none). */
  auditCheckpointMinutes: number
  trustProxyHops: number
  /** Plans (ORGKIT_PLANS: a JSON file; ORGKIT_DEFAULT_PLAN: the default), see docs/billing.md. */
  plans: PlanCatalog
  /** Server processes sharing the port (ORGKIT_WORKERS), each with its own engine; more than one needs PostgreSQL. */
  workers: number
  /** A bearer token that reads `/metrics` (ORGKIT_METRICS_TOKEN); platform tokens may too. */
  metricsToken: string | undefined
  /** `host:port` serving `/metrics` without a token, instead of the public port (ORGKIT_METRICS_ADDRESS). */
  metricsAddress: string | undefined
  /** The keys sealing secrets at rest (ORGKIT_SECRET_KEY: `[kid:]key`, comma-separated, current first). */
  secretKey: string | undefined
  /** The host product's JWTs (ORGKIT_JWT_JWKS_URL, ORGKIT_JWT_ISSUER, ORGKIT_JWT_AUDIENCE), all or none. */
  hostTokens: HostTokenConfig | undefined
  /** The DNS resolver verifying domains (ORGKIT_DNS_RESOLVER: `ip[:port]`); undefined: the system's. */
  dnsResolver: string | undefined
  /** Whether the engine's state is kept in the database and restored at start (ORGKIT_ENGINE_STATE: on | off). */
  engineState: boolean
  /**
   * ORGKIT_ENGINE_STATE_MAX_AGE (`7d`, `12h`, `90m`, `30s`; default 7 days): a stored state whose lineage was
   * built from rows longer ago than this is not restored; the engine loads from rows and starts a new one.
   */
  engineStateMaxAgeMs: number
}

/** A stored engine state descends from a load from rows at most this long ago (ORGKIT_ENGINE_STATE_MAX_AGE). */
export const DEFAULT_ENGINE_STATE_MAX_AGE_MS = 7 * 86_400_000

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `7d`, `12h`, `90m`, `30s` as milliseconds, from a minute to a year; throws naming the variable. */
export function parseDuration(value: string, variable: string): number {
  const match = /^(\d{1,6})\s*([smhd])$/.exec(value.trim())
  const ms = match ? Number(match[1]) * DURATION_UNITS[match[2]!]! : Number.NaN
  if (!(ms >= 60_000 && ms <= 366 * 86_400_000)) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `${variable} must be a duration from 1m to 366d, with its unit (7d, 12h, 90m, 3600s), not "${value}"`,
      { field: variable },
    )
  }
  return ms
}

/**
 * An `smtp://` or `smtps://` URL (nodemailer's form: `smtp://user:pass@host:587`), checked at start: the
 * transport is made on the first mail sent, so a malformed URL would otherwise surface as retried failures.
 */
export function parseSmtpUrl(value: string): string {
  let url: URL | null = null
  try {
    url = new URL(value.trim())
  } catch {}
  if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || !url.hostname) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      'ORGKIT_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…',
      {
        field: 'ORGKIT_SMTP_URL',
      },
    )
  }
  return value.trim()
}

/** `host:port`, `[v6]:port` or a bare port (on 127.0.0.1): where a listener binds. */
export function parseListenAddress(value: string, variable: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d{1,5})$/.exec(value.trim())
  const port = Number(match?.[3])
  if (!match || port > 65535) {
    throw new OrgkitError('VALIDATION_FAILED', `${variable} must be host:port or a port, not "${value}"`, {
      field: variable,
    })
  }
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port }
}

/** A switch: `on` (the default, also when empty) or `off`; anything else fails naming the variable. */
function onOff(env: NodeJS.ProcessEnv, variable: string): boolean {
  const value = env[variable]?.trim() || 'on'
  if (value !== 'on' && value !== 'off') {
    throw new OrgkitError('VALIDATION_FAILED', `${variable} must be "on" or "off", not "${env[variable]}"`, {
      field: variable,
    })
  }
  return value === 'on'
}

/** Configuration from the environment (SPEC 6); a mistake fails at start-up with what to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OrgkitError('VALIDATION_FAILED', `PORT must be a port number, not "${env.PORT}"`, {
      field: 'PORT',
    })
  }
  const model = env.ORGKIT_MODEL || 'capgo'
  const modelDefinition = resolveModel(model)
  const databaseUrl = env.ORGKIT_DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new OrgkitError('VALIDATION_FAILED', 'ORGKIT_DATABASE_URL must be a postgres:// URL', {
      field: 'ORGKIT_DATABASE_URL',
    })
  }
  const signup = env.ORGKIT_SIGNUP ?? 'open'
  if (signup !== 'open' && signup !== 'invite') {
    throw new OrgkitError('VALIDATION_FAILED', `ORGKIT_SIGNUP must be "open" or "invite", not "${signup}"`, {
      field: 'ORGKIT_SIGNUP',
    })
  }
  const trustProxyHops = Number(env.ORGKIT_TRUST_PROXY ?? 0)
  if (!Number.isInteger(trustProxyHops) || trustProxyHops < 0 || trustProxyHops > 10) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `ORGKIT_TRUST_PROXY must be the number of proxies in front (0-10), not "${env.ORGKIT_TRUST_PROXY}"`,
      { field: 'ORGKIT_TRUST_PROXY' },
    )
  }
  const workers = Number(env.ORGKIT_WORKERS || 1)
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `ORGKIT_WORKERS must be the number of server processes (1-64), not "${env.ORGKIT_WORKERS}"`,
      { field: 'ORGKIT_WORKERS' },
    )
  }
  if (workers > 1 && !databaseUrl) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      'ORGKIT_WORKERS above 1 needs ORGKIT_DATABASE_URL: the embedded database belongs to one process',
      { field: 'ORGKIT_WORKERS' },
    )
  }
  const metricsToken = env.ORGKIT_METRICS_TOKEN || undefined
  if (metricsToken !== undefined && (metricsToken.length < 24 || /\s/.test(metricsToken))) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      'ORGKIT_METRICS_TOKEN must be at least 24 characters without spaces (e.g. `openssl rand -hex 24`)',
      { field: 'ORGKIT_METRICS_TOKEN' },
    )
  }
  const secretKey = env.ORGKIT_SECRET_KEY?.trim() || undefined
  if (secretKey !== undefined) parseKeyring(secretKey)
  const auditCheckpointMinutes = Number(env.ORGKIT_AUDIT_CHECKPOINT_MINUTES || 60)
  if (
    !Number.isInteger(auditCheckpointMinutes) ||
    auditCheckpointMinutes < 0 ||
    auditCheckpointMinutes > 10_080
  ) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `ORGKIT_AUDIT_CHECKPOINT_MINUTES must be minutes between audit checkpoints (0-10080, 0: none), not "${env.ORGKIT_AUDIT_CHECKPOINT_MINUTES}"`,
      { field: 'ORGKIT_AUDIT_CHECKPOINT_MINUTES' },
    )
  }
  const metricsAddress = env.ORGKIT_METRICS_ADDRESS || undefined
  if (metricsAddress !== undefined) parseListenAddress(metricsAddress, 'ORGKIT_METRICS_ADDRESS')
  const engineStateMaxAge = env.ORGKIT_ENGINE_STATE_MAX_AGE?.trim()
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir: env.ORGKIT_DATA_DIR ?? './.orgkit',
    templateDir: env.ORGKIT_TEMPLATE_DIR || undefined,
    databaseUrl,
    databasePrepare: onOff(env, 'ORGKIT_DATABASE_PREPARE'),
    model,
    modelDefinition,
    publicUrl: env.ORGKIT_PUBLIC_URL || undefined,
    logLevel: env.ORGKIT_LOG_LEVEL ?? 'info',
    smtpUrl: env.ORGKIT_SMTP_URL ? parseSmtpUrl(env.ORGKIT_SMTP_URL) : undefined,
    mailFrom: env.ORGKIT_MAIL_FROM || undefined,
    signup,
    webhooksAllowPrivate: env.ORGKIT_WEBHOOKS_ALLOW_PRIVATE === '1',
    auditRetentionDays: Number(env.ORGKIT_AUDIT_RETENTION_DAYS ?? 90),
    auditCheckpointMinutes,
    trustProxyHops,
    plans: loadPlans(env.ORGKIT_PLANS || undefined, env.ORGKIT_DEFAULT_PLAN || undefined),
    workers,
    metricsToken,
    metricsAddress,
    secretKey,
    hostTokens: hostTokensOf(env),
    dnsResolver: env.ORGKIT_DNS_RESOLVER?.trim() ? parseResolverAddress(env.ORGKIT_DNS_RESOLVER) : undefined,
    engineState: onOff(env, 'ORGKIT_ENGINE_STATE'),
    engineStateMaxAgeMs: engineStateMaxAge
      ? parseDuration(engineStateMaxAge, 'ORGKIT_ENGINE_STATE_MAX_AGE')
      : DEFAULT_ENGINE_STATE_MAX_AGE_MS,
  }
}

/** Host tokens take the three settings together: a JWKS without an issuer and audience to hold tokens to is refused. */
function hostTokensOf(env: NodeJS.ProcessEnv): HostTokenConfig | undefined {
  const jwksUrl = env.ORGKIT_JWT_JWKS_URL || undefined
  const issuer = env.ORGKIT_JWT_ISSUER || undefined
  const audience = env.ORGKIT_JWT_AUDIENCE || undefined
  if (!jwksUrl && !issuer && !audience) return undefined
  const missing = Object.entries({
    ORGKIT_JWT_JWKS_URL: jwksUrl,
    ORGKIT_JWT_ISSUER: issuer,
    ORGKIT_JWT_AUDIENCE: audience,
  })
    .filter(([, value]) => value === undefined)
    .map(([name]) => name)
  if (missing.length > 0) {
    throw new OrgkitError('VALIDATION_FAILED', `host tokens need ${missing.join(' and ')} as well`, {
      field: missing[0],
    })
  }
  assertJwksUrl(jwksUrl!)
  return { jwksUrl: jwksUrl!, issuer: issuer!, audience: audience! }
}
