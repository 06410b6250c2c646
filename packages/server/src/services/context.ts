import {
  type Change,
  type CompiledModel,
  type Model,
  OrgkitError,
  rules,
  type Subject,
  type Target,
} from '@orgkit/core'
import {
  type AuditInput,
  appendAuditEntry,
  type ChainHead,
  type Changed,
  type Db,
  isNotLast,
  mapPgErrors,
  members,
  orgs,
  recordChanges,
  type Tx,
} from '@orgkit/store'
import type { PaymentProvider } from '../billing/payments.ts'
import type { PlanCatalog } from '../billing/plans.ts'
import type { UsageMeter } from '../billing/usage-meter.ts'
import { type Caches, rememberAuditHeads } from '../caches.ts'
import type { TxtLookup } from '../domains/txt-lookup.ts'
import type { EngineReplica } from '../engine-replica.ts'
import type { Deciders } from '../hot/deciders.ts'
import type { MailSender } from '../mail/mailer.ts'
import type { Captcha } from '../security/captcha.ts'
import type { HostTokens } from '../security/host-tokens.ts'
import type { PasswordHashCost } from '../security/passwords.ts'
import type { SecretBox } from '../security/secret-box.ts'
import type { SsoProtocols } from '../security/sso/registry.ts'
import { enqueueEvent } from '../webhooks/outbox.ts'
import type { WebhookWorker } from '../webhooks/worker.ts'

/** Instance settings the use cases read (from the environment, see config.ts). */
export interface Settings {
  signup: 'open' | 'invite'
  /** Where links in mail point: the console's origin. */
  publicUrl: string
  /** Shared by every instance (stored in the database): signs captcha challenges. */
  captchaSecret: string
  /** Mark cookies Secure (the public URL is https). */
  secureCookies: boolean
  /** Let webhooks reach private networks (tests, on-prem receivers). */
  webhooksAllowPrivate: boolean
  /** Audit entries older than this many days are pruned (the chain stays verifiable). */
  auditRetentionDays: number
  /**
   * Reverse proxies in front of the server. 0: the socket's address is the client's. N: the N-th address
   * from the end of X-Forwarded-For is (each proxy appends the address it saw; only ours are trusted).
   */
  trustProxyHops: number
  /** A local instance (no SMTP, loopback only): its console may read the outbox (security/local-outbox.ts). */
  localOutbox: boolean
  /** A bearer token that reads `/metrics` and nothing else (ORGKIT_METRICS_TOKEN); platform tokens may too. */
  metricsToken: string | null
  /** `/metrics` is served on its own listen address (ORGKIT_METRICS_ADDRESS), not on the public port. */
  metricsElsewhere: boolean
  /** Lower argon2 parameters than the library's defaults (tests only; security/passwords.ts). */
  passwordHashCost?: PasswordHashCost | undefined
}

/** What every use case is given: no globals, everything passed in. */
export interface Ctx {
  db: Db
  engine: EngineReplica
  compiled: CompiledModel
  model: Model
  clock: () => number
  settings: Settings
  mail: MailSender
  captcha: Captcha
  webhooks: WebhookWorker
  billing: Billing
  /** Who answers the authorization API: the engine, or the database when the engine lags (hot/). */
  deciders: Deciders
  caches: Caches
  /** Seals what a database reader must not use: TOTP secrets, unsent mail (security/secret-box.ts). */
  secrets: SecretBox
  /** The host product's JWTs (ORGKIT_JWT_*), verified against its JWKS; null when not configured. */
  hostTokens: HostTokens | null
  /** DNS TXT look-ups verifying domains (ORGKIT_DNS_RESOLVER, domains/txt-lookup.ts). */
  dns: TxtLookup
  /** Per-org SSO: the protocol adapters by kind (security/sso/registry.ts). */
  sso: SsoProtocols
  /**
   * Set only inside a write that runs many use cases as one (services/config/apply.ts): each `write` then
   * joins it — same transaction, org lock, engine changes and audit entries — instead of opening its own.
   */
  within?: { orgId: string; work: Work }
}

/** Plans, the usage meter and the payment provider (issue #9, docs/billing.md). */
export interface Billing {
  plans: PlanCatalog
  usage: UsageMeter
  payments: PaymentProvider
}

/**
 * Who is calling. A platform token is the host product itself: it may do anything, and may act as one of
 * its users (then it is that user, with that user's rights). Sessions, API keys and host tokens arrive as
 * users. `via` is how the request authenticated, which the audit log records with the actor.
 */
export type Actor =
  | { kind: 'platform'; tokenId: string }
  | {
      kind: 'user'
      userId: string
      via: 'platform' | 'session' | 'apiKey' | 'hostToken' | 'sso'
      keyId?: string
      /** `via: 'platform'`: the platform token acting as the user. */
      tokenId?: string
      /** `via: 'sso'`: the connection the person signed in through (services/sso.ts). */
      connectionId?: string
      /**
       * This request proved a second factor to the host (a host token's `amr`, or a session handed off from
       * one): it passes orgs' required 2FA for this request only (`Subject.mfa`).
       */
      mfa?: boolean
    }

/**
 * A SCIM directory token (issue 21.3): it writes to its one org through the SCIM service only. It is no
 * `Actor`, so no other use case can be handed one: `authorize`, `can` and the rest don't take it.
 */
export interface DirectoryActor {
  kind: 'directory'
  tokenId: string
  orgId: string
}

/** How the audit log names an actor's way in (store/audit.repository.ts). */
const AUDIT_VIA = {
  platform: 'platform',
  session: 'session',
  apiKey: 'api_key',
  hostToken: 'host_token',
  sso: 'sso',
} as const

export interface RequestMeta {
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

/** The audit log's fields for who acted. */
function auditedActor(actor: Actor | DirectoryActor) {
  if (actor.kind === 'directory')
    return {
      actorType: 'directory',
      actorId: actor.tokenId,
      actorVia: 'scim',
      actorCredentialId: actor.tokenId,
    } as const
  return {
    actorType: actor.kind === 'platform' ? 'platform' : actor.keyId ? 'api_key' : 'user',
    actorId: actor.kind === 'platform' ? actor.tokenId : (actor.keyId ?? actor.userId),
    // A platform acting for a person is recorded as both: the person, and the token that acted.
    actorVia: AUDIT_VIA[actor.kind === 'platform' ? 'platform' : actor.via],
    actorCredentialId:
      actor.kind === 'platform'
        ? actor.tokenId
        : (actor.keyId ?? actor.tokenId ?? actor.connectionId ?? null),
  } as const
}

export const isPlatform = (actor: Actor): actor is Extract<Actor, { kind: 'platform' }> =>
  actor.kind === 'platform'

export function subjectOf(actor: Actor): Subject | null {
  if (actor.kind === 'platform') return null
  if (actor.keyId) return { type: 'apiKey', id: actor.keyId }
  return actor.mfa ? { type: 'user', id: actor.userId, mfa: true } : { type: 'user', id: actor.userId }
}

/**
 * API keys call the API within their limits; acting as their owner beyond them — creating orgs, leaving
 * one, ending sessions, managing the account — is for the owner in person.
 */
export function assertNotApiKey(actor: Actor, what: string): void {
  if (actor.kind === 'user' && actor.keyId) throw new OrgkitError('FORBIDDEN', `an API key can't ${what}`)
}

export function actorUserId(actor: Actor): string | null {
  return actor.kind === 'user' ? actor.userId : null
}

/** May the actor do this? Platform tokens may do anything. */
export function can(ctx: Ctx, actor: Actor, permission: string, target: Target): boolean {
  const subject = subjectOf(actor)
  return subject === null || ctx.engine.authorizer.check(subject, permission, target).allowed
}

/**
 * Throws unless the actor may: FORBIDDEN with the engine's reason, or — when an org's policy gate refused
 * (SPEC 1.4: a gate never hides an org) — MFA_REQUIRED / PASSWORD_POLICY, naming what to do first.
 */
export function authorize(ctx: Ctx, actor: Actor, permission: string, target: Target): void {
  const subject = subjectOf(actor)
  if (subject === null) return
  const decision = ctx.engine.authorizer.check(subject, permission, target)
  if (decision.allowed) return
  const details = { permission, reason: decision.reason }
  throwIfGate(decision.reason, details)
  throw new OrgkitError('FORBIDDEN', `you may not ${permission} here`, details)
}

function throwIfGate(reason: string, details: Record<string, unknown>): void {
  if (reason === 'mfa_required')
    throw new OrgkitError(
      'MFA_REQUIRED',
      'this organization requires two-factor authentication: enrol it first',
      details,
    )
  if (reason === 'password_policy')
    throw new OrgkitError(
      'PASSWORD_POLICY',
      "your password doesn't meet this organization's password policy: change it first",
      details,
    )
}

/**
 * Throws MFA_REQUIRED / PASSWORD_POLICY when an org's policy gate stands between the actor and the org, for
 * reads that otherwise filter by `can` (a list, a resource read): SPEC 1.4, a gate is said, never passed
 * off as a 404 or an empty list (issue 19.4). The gate is step 1 of every decision, so any permission on
 * the org tells.
 */
export function assertUngated(ctx: Ctx, actor: Actor, orgId: string): void {
  const subject = subjectOf(actor)
  if (subject === null) return
  const decision = ctx.engine.authorizer.check(subject, 'org.read', { type: 'org', id: orgId })
  if (!decision.allowed) throwIfGate(decision.reason, { reason: decision.reason })
}

/**
 * Tenancy: an org the actor doesn't belong to does not exist for them (404, never 403), so ids from other
 * orgs reveal nothing. Anyone who belongs (SPEC 1.4: member, inherited, or external through a binding on
 * one of its resources) gets through, gated or not; what they may do there is each operation's check.
 */
export function requireOrg(ctx: Ctx, actor: Actor, orgId: string): void {
  const subject = subjectOf(actor)
  const authz = ctx.engine.authorizer
  const found =
    subject === null ? authz.has({ type: 'org', id: orgId }) : authz.belonging(subject, orgId) !== null
  if (!found) throw new OrgkitError('ORG_NOT_FOUND', 'no such organization', { orgId })
}

/** The facts the invariant rules need about the actor at a scope. Platform tokens hold everything. */
export function actorFacts(ctx: Ctx, actor: Actor, target: Target): rules.ActorFacts {
  const subject = subjectOf(actor)
  if (subject === null) {
    return {
      id: 'platform',
      permissions: new Set(ctx.compiled.permissions.keys()),
      rank: Number.MAX_SAFE_INTEGER,
      isOwner: true,
    }
  }
  const authz = ctx.engine.authorizer
  const roles = authz.rolesAt(subject, target)
  return {
    id: actorUserId(actor)!,
    permissions: authz.permissionsAt(subject, target),
    rank: roles.length === 0 ? null : Math.max(...roles.map((r) => r.priority)),
    isOwner: roles.some((r) => rules.isOwnerRole(ctx.model, r.key)),
  }
}

async function assertEveryoneStillOwnsAnOrg(
  ctx: Ctx,
  tx: Tx,
  ownersBefore: ReadonlySet<string>,
  orgIds: ReadonlySet<string>,
) {
  const lost = new Set(ownersBefore)
  for (const id of orgIds)
    for (const u of await members.activeOwnerIds(tx, id, ctx.model.org.ownerRoles)) lost.delete(u)
  const orphaned = await members.usersOwningNoOrg(tx, [...lost], ctx.model.org.ownerRoles)
  if (orphaned.length > 0) {
    throw new OrgkitError(
      'LAST_OWNED_ORG',
      'every user owns at least one organization: this would leave a user owning none',
      { userIds: orphaned },
    )
  }
}

/**
 * A write in progress: its changes to the engine and its audit entries commit with it. Engine changes come
 * only from repository writes (`apply`): a service can't record one by hand, nor make a write without it.
 */
export interface Work {
  tx: Tx
  /**
   * The org's row as the write locked it (null: a write to no org, or to none that exists): what the body
   * would otherwise read again under the same lock (its creator, its plan).
   */
  org: orgs.OrgRow | null
  /**
   * The transaction's `now()`, read with the org's lock (null in a write to no org): what a column defaulting
   * to it holds, so a repository write given it can build its row rather than read it back (`insertBinding`).
   */
  startedAt: Date | null
  /** Records a repository write's engine changes with this transaction and returns its value. */
  apply<T>(result: Changed<T>): T
  audit(
    entry: Omit<
      AuditInput,
      'actorType' | 'actorId' | 'actorVia' | 'actorCredentialId' | 'ip' | 'userAgent' | 'requestId'
    >,
  ): void
  /**
   * Call before a change that may take owner roles away in these orgs: where the model says every user
   * owns an org (seed 004), the write fails if someone who owned one of them ends up owning none.
   */
  watchOwners(...orgIds: string[]): Promise<void>
}

export interface WriteOptions {
  /**
   * `false`: the body of a write to no org asks the engine nothing (user create: the database's unique
   * indexes decide), so it starts without reading the change feed, a round trip less. Its changes still
   * reach the engine in the feed's order after the commit (`committed` catches up first when behind).
   * One that changes nothing answers this instance's revision, which another instance's may be past (it
   * produced nothing to wait for). A write to an org reads the feed's head with its lock either way.
   */
  asksEngine?: boolean
}

/**
 * A write to the users table alone (user create, a host's provisioning): no org, and a body that asks the
 * engine nothing, the table's unique indexes deciding. `write` with `asksEngine: false`.
 */
export const writeUsers = <T>(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  body: (work: Work) => Promise<T>,
): Promise<{ result: T; revision: number }> => write(ctx, actor, meta, null, body, { asksEngine: false })

/** Times a write runs when PostgreSQL keeps ending it to break a deadlock. */
const DEADLOCK_ATTEMPTS = 3

/**
 * Runs the transaction again when PostgreSQL ended it to break a deadlock (40P01): two writes each locking
 * two orgs, in opposite orders (a member's removal takes its org's sub-orgs after it; a transfer up takes
 * the sub-org first). Nothing of the ended one committed; run again, it queues behind the other.
 *
 * `ends`: the write's last audit append may end its transaction (store's `last`: on PostgreSQL its commit
 * rides with it, a round trip less). When it finds the write has more to do after all (another instance moved
 * the chain's head, or gave the org a webhook endpoint: `NOT_LAST`), nothing committed, and the write runs
 * again the long way, once (and that chain's later writes go the long way: `Caches.sharedChains`).
 */
export async function again<T>(run: (ends: boolean) => Promise<T>): Promise<T> {
  let ends = true
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(ends)
    } catch (error) {
      // Not a deadlock: this run does not count against DEADLOCK_ATTEMPTS.
      if (ends && isNotLast(error)) {
        ends = false
        attempt--
      } else if ((error as { code?: unknown }).code !== '40P01' || attempt >= DEADLOCK_ATTEMPTS) throw error
    }
  }
}

/**
 * Runs a write: one transaction holding the write, its audit entries and its change-feed row, so they
 * commit together or not at all (SPEC 2). Returns the revision the write produced, once this instance's
 * engine has applied it, so the caller's next check already sees it. Bodies authorize inside (after the
 * org lock and the catch-up) and read nothing outside `work.tx` (PGlite has a single connection). A body
 * may run more than once (`again`): whatever it does beyond memory goes through `work.tx`.
 */
export async function write<T>(
  ctx: Ctx,
  actor: Actor | DirectoryActor,
  meta: RequestMeta,
  orgId: string | null,
  body: (work: Work) => Promise<T>,
  options: WriteOptions = {},
): Promise<{ result: T; revision: number }> {
  if (ctx.within) {
    if (orgId !== ctx.within.orgId)
      throw new OrgkitError('FORBIDDEN', 'a joined write stays in the organization it locked', { orgId })
    return { result: await body(ctx.within.work), revision: ctx.engine.revision }
  }
  let events = false
  // A constraint the checks above missed (a race on a unique name, say) is a catalogued error, not a 500.
  const { result, revision, changes, heads } = await mapPgErrors('this change', () =>
    again((ends) =>
      ctx.db.transaction().execute(async (tx) => {
        events = false
        // Writes to one org queue on its row; the engine then catches up inside the lock, so the body's
        // authorization and invariant checks see every write that committed before this one. The lock's
        // statement reads the feed's head once the lock is held: no read of the feed when the engine has it.
        const locked = orgId !== null ? await orgs.lockOrgAtHead(tx, orgId) : null
        const org = locked?.org ?? null
        if (locked === null ? options.asksEngine !== false : locked.head > ctx.engine.revision)
          await ctx.engine.catchUpWithin(tx, locked?.head)
        const changes: Change[] = []
        const audits: AuditInput[] = []
        const ownersBefore = new Set<string>()
        const watched = new Set<string>()
        const work: Work = {
          tx,
          org,
          startedAt: locked?.now ?? null,
          apply: (result) => {
            changes.push(...result.changes)
            return result.value
          },
          audit: (entry) =>
            audits.push({
              ...entry,
              ...auditedActor(actor),
              ip: meta.ip,
              userAgent: meta.userAgent,
              requestId: meta.requestId,
            }),
          watchOwners: async (...orgIds) => {
            if (!ctx.model.org.everyUserOwnsAnOrg) return
            const fresh = [...new Set(orgIds)].filter((id) => !watched.has(id))
            for (const id of fresh) watched.add(id)
            // One read for all of them (a removal watches every org of its subtree).
            for (const owners of (
              await members.activeOwnersByOrg(tx, fresh, ctx.model.org.ownerRoles)
            ).values())
              for (const u of owners) ownersBefore.add(u)
          },
        }
        const result = await body(work)
        if (ownersBefore.size > 0) await assertEveryoneStillOwnsAnOrg(ctx, tx, ownersBefore, watched)
        const now = new Date(ctx.clock())
        // Each chain's head as appended here, else as this server last committed it (Caches.auditHeads).
        const heads = new Map<string, ChainHead>()
        // The last entry's statement also logs the changes to the feed, when it can (audit.repository.ts) and
        // no outbox rows follow it: the revision row it takes is every write's queue until commit.
        let recorded: number | null = null
        for (const [i, entry] of audits.entries()) {
          const chain = entry.orgId ?? ''
          const head = heads.get(chain) ?? ctx.caches.auditHeads.get(chain) ?? null
          const final = i === audits.length - 1 && !ctx.caches.hookedChains.has(chain)
          const feed = final && changes.length > 0 ? { changes, mac: ctx.engine.feedMac } : undefined
          const last = ends && final && head !== null && !ctx.caches.sharedChains.has(chain)
          const { row, endpoints, revision } = await appendAuditEntry(tx, entry, now, head, feed, {
            last,
          }).catch((error: unknown) => {
            // The head moved (or the org has an endpoint, which the run again learns): from now on this chain's
            // writes go the long way, rather than fail and run again each time another instance writes to it.
            if (isNotLast(error)) ctx.caches.sharedChains.add(chain)
            throw error
          })
          recorded = revision
          if (endpoints.length > 0) ctx.caches.hookedChains.add(chain)
          else ctx.caches.hookedChains.delete(chain)
          heads.set(chain, { seq: Number(row.seq), hash: row.hash! })
          // Webhook events commit with the write they announce (a transactional outbox).
          if (entry.orgId !== null && (await enqueueEvent(tx, row, now, endpoints))) events = true
        }
        const revision =
          changes.length === 0
            ? ctx.engine.revision
            : (recorded ?? (await recordChanges(tx, changes, ctx.engine.feedMac)))
        return { result, revision, changes, heads }
      }),
    ),
  )
  rememberAuditHeads(ctx.caches, heads)
  // The caller's next check sees its own write: applied here from memory, or caught up to.
  if (changes.length > 0) await ctx.engine.committed(revision, changes)
  else await ctx.engine.atLeast(revision)
  if (events) void ctx.webhooks.runOnce().catch(() => 0)
  return { result, revision }
}
