import { randomBytes, randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { members, orgDomains, sso, users } from '@orgkit/store'
import { hit } from '../security/rate-limit.ts'
import { ssoSecretContext } from '../security/secrets-at-rest.ts'
import type { SsoConnectionRef, SsoProfile } from '../security/sso/protocol.ts'
import { sha256 } from '../security/tokens.ts'
import { createSession, type Session } from './accounts.ts'
import { type Actor, type Ctx, type RequestMeta, type Work, write } from './context.ts'
import { heldOutByDirectory, joinOrg } from './joining.ts'
import { assertSeatAvailable } from './plan-limits.ts'
import { applyMappings, defaultRoleOf } from './sso-mapping.ts'

/**
 * Signing in through an org's identity provider (issue 21.1), the part OIDC and SAML share: where a sign-in
 * starts, the started sign-in kept until the provider answers, and what a verified profile becomes — an
 * account, a membership, the mapped groups and roles, and a session exactly like a password sign-in's.
 *
 * A connection signs in only people of its own org's verified domains (or subjects it linked before): an
 * org's IdP can assert any email, so without that rule org A's admin could take over org B's people.
 */

const SIGN_IN_MINUTES = 10
/** The random value binding a started sign-in to the browser that started it (no login CSRF). */
export const SSO_BROWSER_COOKIE = 'orgkit_sso'

/** Where a connection's provider sends the person back, and (SAML) the metadata the IdP is given. */
export function ssoUrls(ctx: Ctx, connection: { id: string; kind: 'oidc' | 'saml' }) {
  const base = ctx.settings.publicUrl.replace(/\/+$/, '')
  if (connection.kind === 'oidc') return { callbackUrl: `${base}/v1/auth/sso/callback`, metadataUrl: null }
  const saml = `${base}/v1/auth/sso/saml/${encodeURIComponent(connection.id)}`
  return { callbackUrl: `${saml}/acs`, metadataUrl: `${saml}/metadata` }
}

/** The connection as its adapter sees it: config with its secret fields opened. */
export function openConnection(ctx: Ctx, row: sso.SsoConnectionRow): SsoConnectionRef<unknown> {
  const protocol = ctx.sso.get(row.kind)
  const config = { ...(row.config as Record<string, unknown>) }
  for (const field of protocol.secretFields) {
    const value = config[field]
    if (typeof value === 'string')
      config[field] = ctx.secrets.open(value, ssoSecretContext(row.id, field)).value
  }
  return { id: row.id, orgId: row.org_id, config }
}

/** A path on this site to land on after signing in; anything else (another origin, `//host`) is dropped. */
function safeReturnTo(value: string | undefined): string {
  return value && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : '/'
}

/**
 * `POST /v1/auth/sso/start`: the org's enabled connection for this email's verified domain (or the given
 * connection), a started sign-in, and where the browser goes. `browser` goes into an HTTP-only cookie.
 */
export async function startSsoSignIn(
  ctx: Ctx,
  meta: RequestMeta,
  input: { email?: string | undefined; connectionId?: string | undefined; returnTo?: string | undefined },
): Promise<{ redirectUrl: string; connectionId: string; browser: string }> {
  await hit(ctx.db, `sso-start:ip:${meta.ip}`, 60, 900, ctx.clock())
  const row = await connectionFor(ctx, input)
  if (!row?.enabled) {
    throw new OrgkitError('SSO_NOT_AVAILABLE', 'single sign-on is not set up for this address', {
      ...(input.connectionId && { connectionId: input.connectionId }),
    })
  }
  const protocol = ctx.sso.get(row.kind)
  const state = randomBytes(32).toString('base64url')
  const browser = randomBytes(32).toString('base64url')
  const started = await protocol.start(openConnection(ctx, row), {
    callbackUrl: ssoUrls(ctx, row).callbackUrl,
    state,
  })
  const stateHash = sha256(state)
  // Started sign-ins nobody finished go here (a few rows at most: starts are limited per address).
  await sso.pruneSignIns(ctx.db, new Date(ctx.clock()))
  await sso.insertSignIn(ctx.db, {
    stateHash,
    connectionId: row.id,
    browserHash: sha256(browser),
    pending: ctx.secrets.seal(
      JSON.stringify({ ...started.pending, returnTo: safeReturnTo(input.returnTo) }),
      `sso-state:${stateHash}`,
    ),
    expiresAt: new Date(ctx.clock() + SIGN_IN_MINUTES * 60_000),
  })
  return { redirectUrl: started.redirectUrl, connectionId: row.id, browser }
}

async function connectionFor(
  ctx: Ctx,
  input: { email?: string | undefined; connectionId?: string | undefined },
) {
  if (input.connectionId) return sso.findConnectionById(ctx.db, input.connectionId)
  const domain = orgDomains.domainOfEmail(input.email ?? '')
  const verified = domain ? await orgDomains.findVerifiedByDomain(ctx.db, domain) : undefined
  if (!verified) return undefined
  const [first] = await sso.enabledConnections(ctx.db, verified.orgId)
  return first
}

/**
 * A provider's answer: the started sign-in taken once by its state (and, for OIDC, the browser's cookie
 * matching it), the answer verified by the adapter, then `completeSsoSignIn`. The SAML ACS uses it too.
 */
export async function finishSsoSignIn(
  ctx: Ctx,
  meta: RequestMeta,
  input: {
    state: string
    currentUrl: URL
    params: Record<string, string>
    /** The browser cookie; required unless the protocol's answer arrives cross-site (SAML HTTP-POST). */
    browser: string | null
    requireBrowser: boolean
  },
): Promise<{ session: Session; orgId: string; returnTo: string }> {
  const stateHash = sha256(input.state)
  const started = await sso.takeSignIn(ctx.db, stateHash, new Date(ctx.clock()))
  if (!started)
    throw new OrgkitError('SSO_FAILED', 'this sign-in is unknown, used or expired: start again', {
      reason: 'state_unknown',
    })
  if (input.requireBrowser && started.browser_hash !== sha256(input.browser ?? '')) {
    throw new OrgkitError('SSO_FAILED', 'this sign-in was started in another browser: start again', {
      reason: 'browser_mismatch',
    })
  }
  const { returnTo, ...pending } = JSON.parse(
    ctx.secrets.open(started.pending, `sso-state:${stateHash}`).value,
  )
  const row = await sso.findConnectionById(ctx.db, started.connection_id)
  if (!row?.enabled)
    throw new OrgkitError('SSO_NOT_AVAILABLE', 'this connection is disabled', {
      connectionId: started.connection_id,
    })
  const profile = await ctx.sso.get(row.kind).finish(openConnection(ctx, row), {
    currentUrl: input.currentUrl,
    params: input.params,
    pending,
    state: input.state,
  })
  const done = await completeSsoSignIn(ctx, row, profile, meta)
  return { ...done, returnTo: safeReturnTo(returnTo) }
}

/**
 * What a verified profile becomes, for both protocols: the account linked to (connection, subject); else the
 * account with that email, linked, when the provider vouched for the email and its domain is the org's;
 * else one made just in time (the domain must be the org's). The person joins the org with the
 * connection's default role when not a member (`joinOrg`), the mapping rules set their mapped groups and
 * roles from `profile.groups` on every sign-in, and a session starts. One write, audited as the person
 * arriving through SSO.
 */
export async function completeSsoSignIn(
  ctx: Ctx,
  connection: sso.SsoConnectionRow,
  profile: SsoProfile,
  meta: RequestMeta,
): Promise<{ session: Session; orgId: string }> {
  const orgId = connection.org_id
  const actor: Actor & { kind: 'user' } = {
    kind: 'user',
    userId: (await sso.findIdentity(ctx.db, connection.id, profile.subject)) ?? randomUUID(),
    via: 'sso',
    connectionId: connection.id,
  }
  const { result } = await write(ctx, actor, meta, orgId, async (work) => {
    // Re-read under the org's lock: a connection disabled a moment ago signs no one in.
    const row = await sso.findConnection(work.tx, orgId, connection.id)
    if (!row?.enabled)
      throw new OrgkitError('SSO_NOT_AVAILABLE', 'this connection is disabled', {
        connectionId: connection.id,
      })
    const now = new Date(ctx.clock())
    const linked = await sso.findIdentity(work.tx, row.id, profile.subject)
    const userId = linked ?? (await accountFor(work, ctx, row, profile, actor.userId))
    actor.userId = await sso.linkIdentity(work.tx, row.id, profile.subject, userId, now)
    const membership = await members.findMembership(work.tx, orgId, actor.userId)
    if (membership?.status !== 'active') {
      if (await heldOutByDirectory(work.tx, orgId, actor.userId))
        throw new OrgkitError(
          'SSO_FAILED',
          "this organization's directory has deactivated you here: ask its administrator",
          { reason: 'deactivated_by_directory' },
        )
      await assertSeatAvailable(ctx, work, orgId)
      await joinOrg(work, ctx, {
        orgId,
        userId: actor.userId,
        roles: [defaultRoleOf(ctx, row)],
        grantedBy: null,
        via: 'sso',
      })
    }
    await applyMappings(work, ctx, row, actor.userId, profile.groups)
    work.audit({
      orgId: null,
      action: 'user.logged_in',
      targetType: 'user',
      targetId: actor.userId,
      after: { via: 'sso', orgId, connectionId: row.id },
    })
    return createSession(work.tx, ctx, actor.userId, meta)
  })
  return { session: result, orgId }
}

/** The existing account this profile may sign in as, or a new one: see `completeSsoSignIn`. */
async function accountFor(
  work: Work,
  ctx: Ctx,
  row: sso.SsoConnectionRow,
  profile: SsoProfile,
  newId: string,
): Promise<string> {
  const domain = orgDomains.domainOfEmail(profile.email)
  const owner = domain ? await orgDomains.findVerifiedByDomain(work.tx, domain) : undefined
  if (owner?.orgId !== row.org_id) {
    throw new OrgkitError(
      'SSO_FAILED',
      `${domain ?? 'this email'} is not a verified domain of this organization: verify it first`,
      { reason: 'email_domain_not_verified', domain },
    )
  }
  const existing = await users.findUserIdByEmail(work.tx, profile.email)
  if (existing !== undefined) {
    // An unverified email links nothing: whoever controls a provider could claim anyone's account.
    if (!profile.emailVerified) {
      throw new OrgkitError(
        'SSO_EMAIL_TAKEN',
        'an account has this email and the identity provider did not say it is verified: it is not linked',
        { reason: 'email_not_verified' },
      )
    }
    work.audit({
      orgId: null,
      action: 'user.linked',
      targetType: 'user',
      targetId: existing,
      after: { connectionId: row.id, subject: profile.subject },
    })
    return existing
  }
  const email = profile.email
  const made = work.apply(
    await users.insertUser(work.tx, {
      id: newId,
      email,
      name: profile.name ?? (email.slice(0, email.indexOf('@')) || email),
      emailVerifiedAt: profile.emailVerified ? new Date(ctx.clock()) : null,
    }),
  )
  work.audit({
    orgId: null,
    action: 'user.created',
    targetType: 'user',
    targetId: made.id,
    after: { email: made.email, name: made.name, via: 'sso', connectionId: row.id },
  })
  return made.id
}
