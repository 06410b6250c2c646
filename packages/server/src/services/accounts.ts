import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import type { Executor, Tx } from '@orgkit/store'
import { queueMail } from '../mail/mailer.ts'
import {
  assertAcceptablePassword,
  dummyHash,
  hashPassword,
  type PasswordPolicy,
  policyId,
  policyViolations,
  verifyPassword,
} from '../security/passwords.ts'
import { hit } from '../security/rate-limit.ts'
import { newSecret, sha256 } from '../security/tokens.ts'
import { hashCode, totpStep } from '../security/totp.ts'
import type { Ctx, RequestMeta } from './context.ts'
import { type Actor, assertNotApiKey, type Work, write } from './context.ts'

const SESSION_DAYS = 30
const VERIFY_HOURS = 48
const RESET_MINUTES = 60
const normalizeEmail = (email: string) => email.trim().toLowerCase()

export interface Session {
  /** The cookie's value; only its hash is stored. */
  token: string
  /** Double-submit CSRF token: a readable cookie the console echoes in a header on writes. */
  csrf: string
  userId: string
}

export async function createSession(tx: Tx, ctx: Ctx, userId: string, meta: RequestMeta): Promise<Session> {
  const token = newSecret('oks')
  const csrf = newSecret('okc')
  await tx
    .insertInto('sessions')
    .values({
      id: sha256(token),
      user_id: userId,
      csrf_token: csrf,
      expires_at: new Date(ctx.clock() + SESSION_DAYS * 86_400_000),
      ip: meta.ip,
      user_agent: meta.userAgent,
    })
    .execute()
  return { token, csrf, userId }
}

/** The session a cookie names, if it is live (not expired, not logged out everywhere since). */
export async function resolveSession(ctx: Ctx, token: string) {
  const row = await ctx.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.csrf_token',
      'sessions.created_at',
      'sessions.expires_at',
      'users.sessions_valid_after',
    ])
    .where('sessions.id', '=', sha256(token))
    .executeTakeFirst()
  if (!row || row.expires_at.getTime() <= ctx.clock() || row.created_at <= row.sessions_valid_after)
    return null
  return { sessionId: row.id, userId: row.user_id, csrf: row.csrf_token }
}

/** The password policies (of any org) this password meets, as the engine's compliance ids. */
async function compliance(db: Executor, password: string): Promise<string[]> {
  const rows = await db
    .selectFrom('orgs')
    .select('password_policy')
    .distinct()
    .where('password_policy', 'is not', null)
    .execute()
  return rows
    .map((r) => r.password_policy as PasswordPolicy)
    .filter((policy) => policyViolations(policy, password).length === 0)
    .map(policyId)
}

async function recordCompliance(work: Work, userId: string, password: string) {
  const compliant = await compliance(work.tx, password)
  const row = await work.tx
    .updateTable('users')
    .set({ compliant_password_policies: compliant })
    .where('id', '=', userId)
    .returning(['mfa_enabled'])
    .executeTakeFirstOrThrow()
  work.change({
    op: 'user.put',
    user: { id: userId, mfaEnabled: row.mfa_enabled, compliantPasswordPolicies: compliant },
  })
}

const anonymous: Actor = { kind: 'platform', tokenId: 'anonymous' }

/**
 * Sign-up (SPEC 3). Open sign-up answers the same whether or not the email has an account: it mails a
 * verification link (or, to an existing account, a note), and the account works once verified. With an
 * invitation token for that email the address is proven already: the account is verified at once.
 */
export async function signup(
  ctx: Ctx,
  meta: RequestMeta,
  input: { email: string; password: string; name: string; invitation?: string | undefined },
): Promise<{ status: 'verification_sent' } | { status: 'signed_in'; session: Session }> {
  await hit(ctx.db, `signup:ip:${meta.ip}`, 20, 3600, ctx.clock())
  assertAcceptablePassword(input.password)
  const email = normalizeEmail(input.email)
  const invited = input.invitation ? await openInvitation(ctx.db, input.invitation, ctx.clock()) : null
  if (input.invitation && (!invited || normalizeEmail(invited.email) !== email)) {
    throw new OrgkitError('INVITATION_INVALID', 'this invitation is not valid for that email', {
      field: 'invitation',
    })
  }
  if (ctx.settings.signup === 'invite' && !invited) {
    throw new OrgkitError('SIGNUP_CLOSED', 'sign-up is by invitation only')
  }
  const passwordHash = await hashPassword(input.password)
  const { result } = await write(ctx, anonymous, meta, null, async (work) => {
    const existing = await work.tx
      .selectFrom('users')
      .select('id')
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
      .executeTakeFirst()
    if (existing) {
      if (invited)
        throw new OrgkitError('INVALID_CREDENTIALS', 'this email has an account: sign in to accept')
      await queueMail(work.tx, {
        to: email,
        subject: 'Someone tried to sign up with your email',
        text: `Your email already has an Orgkit account. If that was you, sign in at ${ctx.settings.publicUrl}/login, or set a new password at ${ctx.settings.publicUrl}/forgot-password.`,
      })
      return { status: 'verification_sent' as const }
    }
    const id = randomUUID()
    await work.tx
      .insertInto('users')
      .values({
        id,
        email,
        name: input.name,
        password_hash: passwordHash,
        email_verified_at: invited ? new Date(ctx.clock()) : null,
        password_changed_at: new Date(ctx.clock()),
      })
      .execute()
    work.change({ op: 'user.put', user: { id, mfaEnabled: false } })
    await recordCompliance(work, id, input.password)
    work.audit({
      orgId: null,
      action: 'user.signed_up',
      targetType: 'user',
      targetId: id,
      after: { email, name: input.name },
    })
    if (ctx.model.org.personalOrgOnSignup) await createPersonalOrg(work, ctx, id, input.name)
    if (invited) return { status: 'signed_in' as const, session: await createSession(work.tx, ctx, id, meta) }
    const token = newSecret('oki')
    await work.tx
      .insertInto('email_verifications')
      .values({
        token_hash: sha256(token),
        user_id: id,
        expires_at: new Date(ctx.clock() + VERIFY_HOURS * 3_600_000),
        used_at: null,
      })
      .execute()
    await queueMail(work.tx, {
      to: email,
      subject: 'Verify your email for Orgkit',
      text: `Welcome to Orgkit. Verify your email to finish signing up:\n\n${ctx.settings.publicUrl}/verify?token=${token}\n\nThe link works once, for ${VERIFY_HOURS} hours.`,
    })
    return { status: 'verification_sent' as const }
  })
  void ctx.mail.deliver()
  return result
}

/** Seed 004: every user owns at least one org, made at sign-up where the preset asks for it. */
async function createPersonalOrg(work: Work, ctx: Ctx, userId: string, name: string) {
  const orgId = randomUUID()
  const bindingId = randomUUID()
  await work.tx
    .insertInto('orgs')
    .values({
      id: orgId,
      parent_id: null,
      name: `${name || 'My'}'s organization`.slice(0, 200),
      creator_id: userId,
      password_policy: null,
      api_key_policy: null,
    })
    .execute()
  await work.tx
    .insertInto('memberships')
    .values({ org_id: orgId, user_id: userId, status: 'active' })
    .execute()
  await work.tx
    .insertInto('bindings')
    .values({
      id: bindingId,
      org_id: orgId,
      user_id: userId,
      group_id: null,
      role: ctx.model.org.creatorRole,
      scope_type: 'org',
      resource_id: null,
      expires_at: null,
      granted_by: userId,
      reason: 'personal org',
    })
    .execute()
  work.change(
    { op: 'org.put', org: { id: orgId, parentId: null, creatorId: userId } },
    { op: 'membership.put', membership: { orgId, userId, status: 'active' } },
    {
      op: 'binding.put',
      binding: {
        id: bindingId,
        principal: { type: 'user', id: userId },
        role: ctx.model.org.creatorRole,
        scope: { type: 'org', id: orgId },
      },
    },
  )
}

export async function verifyEmail(ctx: Ctx, meta: RequestMeta, token: string): Promise<Session> {
  await hit(ctx.db, `verify:ip:${meta.ip}`, 30, 900, ctx.clock())
  const { result } = await write(ctx, anonymous, meta, null, async (work) => {
    const row = await work.tx
      .updateTable('email_verifications')
      .set({ used_at: new Date(ctx.clock()) })
      .where('token_hash', '=', sha256(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date(ctx.clock()))
      .returning('user_id')
      .executeTakeFirst()
    if (!row) throw new OrgkitError('TOKEN_INVALID', 'this link is invalid, used or expired')
    await work.tx
      .updateTable('users')
      .set({ email_verified_at: new Date(ctx.clock()) })
      .where('id', '=', row.user_id)
      .execute()
    work.audit({ orgId: null, action: 'user.email_verified', targetType: 'user', targetId: row.user_id })
    return createSession(work.tx, ctx, row.user_id, meta)
  })
  return result
}

/**
 * Sign-in. Wrong email and wrong password are one answer with one timing (a dummy hash is verified
 * when there is no account). With TOTP on, a valid unused code (or a recovery code) is required:
 * MFA_REQUIRED until one comes (SPEC 6).
 */
export async function login(
  ctx: Ctx,
  meta: RequestMeta,
  input: { email: string; password: string; totp?: string | undefined; recoveryCode?: string | undefined },
): Promise<Session> {
  const email = normalizeEmail(input.email)
  // Guessing one account's password is limited per (account, address), so a stranger hammering it locks
  // out only themselves; a looser per-account limit caps guessing spread over many addresses.
  await hit(ctx.db, `login:ip:${meta.ip}`, 50, 900, ctx.clock())
  await hit(ctx.db, `login:email-ip:${email}:${meta.ip}`, 10, 900, ctx.clock())
  await hit(ctx.db, `login:email:${email}`, 100, 900, ctx.clock())
  const user = await ctx.db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .executeTakeFirst()
  const ok = await verifyPassword(user?.password_hash ?? (await dummyHash()), input.password)
  if (!user?.password_hash || !ok) throw new OrgkitError('INVALID_CREDENTIALS', 'wrong email or password')
  if (!user.email_verified_at)
    throw new OrgkitError('EMAIL_NOT_VERIFIED', 'verify your email first: the link is in your inbox')
  // Whoever gets here knows the password: their codes are limited per account, wherever they come from
  // (counted outside the write, whose failure would roll the count back).
  if (user.totp_enabled_at && (input.totp || input.recoveryCode))
    await hit(ctx.db, `mfa:user:${user.id}`, 10, 900, ctx.clock())
  const { result } = await write(
    ctx,
    { kind: 'user', userId: user.id, via: 'session' },
    meta,
    null,
    async (work) => {
      if (user.totp_enabled_at) await consumeSecondFactor(work.tx, ctx, user.id, input)
      await recordCompliance(work, user.id, input.password)
      work.audit({ orgId: null, action: 'user.logged_in', targetType: 'user', targetId: user.id })
      return createSession(work.tx, ctx, user.id, meta)
    },
  )
  return result
}

/** Accepts a TOTP code once (a later step than the last one used) or an unused recovery code. */
export async function consumeSecondFactor(
  tx: Tx,
  ctx: Ctx,
  userId: string,
  input: { totp?: string | undefined; recoveryCode?: string | undefined },
) {
  const row = await tx
    .selectFrom('users')
    .select(['totp_secret', 'totp_last_step'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirstOrThrow()
  if (input.recoveryCode) {
    const used = await tx
      .updateTable('recovery_codes')
      .set({ used_at: new Date(ctx.clock()) })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hashCode(input.recoveryCode))
      .where('used_at', 'is', null)
      .executeTakeFirst()
    if (Number(used.numUpdatedRows) === 1) return
    throw new OrgkitError('MFA_INVALID', 'that recovery code is not valid', { field: 'recoveryCode' })
  }
  if (!input.totp)
    throw new OrgkitError('MFA_REQUIRED', 'enter the code from your authenticator app', { field: 'totp' })
  const step = row.totp_secret ? totpStep(row.totp_secret, input.totp, ctx.clock()) : null
  if (step === null || step <= Number(row.totp_last_step ?? -1)) {
    throw new OrgkitError('MFA_INVALID', 'that code is not valid (or was used already)', { field: 'totp' })
  }
  await tx
    .updateTable('users')
    .set({ totp_last_step: String(step) })
    .where('id', '=', userId)
    .execute()
}

export async function logout(ctx: Ctx, sessionToken: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('id', '=', sha256(sessionToken)).execute()
}

/** Ends every session of the user, here and on every other device. */
export async function logoutEverywhere(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  userId: string,
): Promise<void> {
  assertNotApiKey(actor, 'end sessions')
  await write(ctx, actor, meta, null, async (work) => {
    await work.tx
      .updateTable('users')
      .set({ sessions_valid_after: new Date(ctx.clock()) })
      .where('id', '=', userId)
      .execute()
    await work.tx.deleteFrom('sessions').where('user_id', '=', userId).execute()
    work.audit({ orgId: null, action: 'user.logged_out_everywhere', targetType: 'user', targetId: userId })
  })
}

/** Changes the password (the current one proves it is you); other sessions end. */
export async function changePassword(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  input: { current: string; next: string },
  keepSession: string | null,
) {
  if (actor.kind !== 'user' || actor.keyId)
    throw new OrgkitError('FORBIDDEN', 'only a signed-in user changes their password')
  assertAcceptablePassword(input.next, 'next')
  const user = await ctx.db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where('id', '=', actor.userId)
    .executeTakeFirstOrThrow()
  if (!user.password_hash || !(await verifyPassword(user.password_hash, input.current))) {
    throw new OrgkitError('INVALID_CREDENTIALS', 'the current password is wrong', { field: 'current' })
  }
  const passwordHash = await hashPassword(input.next)
  await write(ctx, actor, meta, null, async (work) => {
    await work.tx
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: new Date(ctx.clock()) })
      .where('id', '=', user.id)
      .execute()
    let others = work.tx.deleteFrom('sessions').where('user_id', '=', user.id)
    if (keepSession) others = others.where('id', '!=', sha256(keepSession))
    await others.execute()
    await recordCompliance(work, user.id, input.next)
    work.audit({ orgId: null, action: 'user.password_changed', targetType: 'user', targetId: user.id })
  })
}

/**
 * Forgot password: mails a single-use link (60 minutes) to the account with that email, replacing any older
 * link. Answers the same whether or not the email has an account.
 */
export async function requestPasswordReset(ctx: Ctx, meta: RequestMeta, emailInput: string): Promise<void> {
  const email = normalizeEmail(emailInput)
  await hit(ctx.db, `reset:ip:${meta.ip}`, 10, 3600, ctx.clock())
  await hit(ctx.db, `reset:email:${email}`, 5, 3600, ctx.clock())
  await write(ctx, anonymous, meta, null, async (work) => {
    const user = await work.tx
      .selectFrom('users')
      .select('id')
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
      .executeTakeFirst()
    if (!user) return
    await work.tx.deleteFrom('password_resets').where('user_id', '=', user.id).execute()
    const token = newSecret('okr')
    await work.tx
      .insertInto('password_resets')
      .values({
        token_hash: sha256(token),
        user_id: user.id,
        expires_at: new Date(ctx.clock() + RESET_MINUTES * 60_000),
        used_at: null,
      })
      .execute()
    await queueMail(work.tx, {
      to: email,
      subject: 'Reset your Orgkit password',
      text: `Someone asked to reset the password of your Orgkit account. If that was you, choose a new one:\n\n${ctx.settings.publicUrl}/reset-password?token=${token}\n\nThe link works once, for ${RESET_MINUTES} minutes. If it wasn't you, ignore this mail: your password stays as it is.`,
    })
    work.audit({
      orgId: null,
      action: 'user.password_reset_requested',
      targetType: 'user',
      targetId: user.id,
    })
  })
  void ctx.mail.deliver()
}

/**
 * Sets a new password from a reset link. The link proves the mailbox, so an unverified account becomes
 * verified (whoever signed up with someone else's email loses it to its owner); every session ends; 2FA
 * stays on and is asked for at the next sign-in.
 */
export async function resetPassword(
  ctx: Ctx,
  meta: RequestMeta,
  input: { token: string; password: string },
): Promise<void> {
  await hit(ctx.db, `reset-confirm:ip:${meta.ip}`, 30, 900, ctx.clock())
  assertAcceptablePassword(input.password)
  const passwordHash = await hashPassword(input.password)
  await write(ctx, anonymous, meta, null, async (work) => {
    const now = new Date(ctx.clock())
    const link = await work.tx
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('token_hash', '=', sha256(input.token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst()
    if (!link) throw new OrgkitError('TOKEN_INVALID', 'this reset link is invalid, used or expired')
    await work.tx
      .updateTable('users')
      .set((eb) => ({
        password_hash: passwordHash,
        password_changed_at: now,
        sessions_valid_after: now,
        email_verified_at: eb.fn.coalesce('email_verified_at', eb.val(now)),
      }))
      .where('id', '=', link.user_id)
      .execute()
    await work.tx.deleteFrom('sessions').where('user_id', '=', link.user_id).execute()
    await work.tx.deleteFrom('email_verifications').where('user_id', '=', link.user_id).execute()
    await recordCompliance(work, link.user_id, input.password)
    work.audit({ orgId: null, action: 'user.password_reset', targetType: 'user', targetId: link.user_id })
  })
}

/** An invitation that can still be accepted. */
export async function openInvitation(db: Executor, token: string, now: number) {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('token_hash', '=', sha256(token))
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date(now))
    .executeTakeFirst()
}
