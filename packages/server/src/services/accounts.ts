import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { credentials, type Executor, invitations, sessions, type Tx, users } from '@orgkit/store'
import { assertAcceptablePassword, dummyHash, hashPassword, verifyPassword } from '../security/passwords.ts'
import { hit } from '../security/rate-limit.ts'
import { openTotpSecret } from '../security/secrets-at-rest.ts'
import { newSecret, sha256 } from '../security/tokens.ts'
import { hashCode, totpStep } from '../security/totp.ts'
import type { Ctx, RequestMeta } from './context.ts'
import { type Actor, assertNotApiKey, write } from './context.ts'
import { autoJoinByDomain } from './domain-joining.ts'
import { foundPersonalOrg } from './joining.ts'
import { recordCompliance } from './password-compliance.ts'
import { guardSignIn, recordSignInFailure } from './sign-in-guard.ts'
import { assertPasswordAllowed } from './sso-required.ts'

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

/**
 * A new session for the user. `secondFactor`: handed off from a host token whose `amr` proved one (issue 20),
 * so the session passes an org's required 2FA as the token did.
 */
export async function createSession(
  tx: Tx,
  ctx: Ctx,
  userId: string,
  meta: RequestMeta,
  secondFactor = false,
): Promise<Session> {
  const token = newSecret('oks')
  const csrf = newSecret('okc')
  await sessions.insertSession(tx, {
    id: sha256(token),
    userId,
    csrfToken: csrf,
    expiresAt: new Date(ctx.clock() + SESSION_DAYS * 86_400_000),
    ip: meta.ip,
    userAgent: meta.userAgent,
    secondFactor,
  })
  return { token, csrf, userId }
}

/** The session a cookie names, if it is live (not expired, not logged out everywhere since). */
export async function resolveSession(ctx: Ctx, token: string) {
  const row = await sessions.findSession(ctx.db, sha256(token))
  if (!row || row.expires_at.getTime() <= ctx.clock() || row.created_at <= row.sessions_valid_after)
    return null
  return { sessionId: row.id, userId: row.user_id, csrf: row.csrf_token, secondFactor: row.second_factor }
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
  const passwordHash = await hashPassword(input.password, ctx.settings.passwordHashCost)
  const { result } = await write(ctx, anonymous, meta, null, async (work) => {
    const existing = await users.findUserIdByEmail(work.tx, email)
    if (existing) {
      if (invited)
        throw new OrgkitError('INVALID_CREDENTIALS', 'this email has an account: sign in to accept')
      await ctx.mail.queue(work.tx, {
        to: email,
        subject: 'Someone tried to sign up with your email',
        text: `Your email already has an Orgkit account. If that was you, sign in at ${ctx.settings.publicUrl}/login, or set a new password at ${ctx.settings.publicUrl}/forgot-password.`,
      })
      return { status: 'verification_sent' as const }
    }
    const { id } = work.apply(
      await users.insertUser(work.tx, {
        id: randomUUID(),
        email,
        name: input.name,
        passwordHash,
        emailVerifiedAt: invited ? new Date(ctx.clock()) : null,
        passwordChangedAt: new Date(ctx.clock()),
      }),
    )
    await recordCompliance(work, id, input.password)
    work.audit({
      orgId: null,
      action: 'user.signed_up',
      targetType: 'user',
      targetId: id,
      after: { email, name: input.name },
    })
    if (ctx.model.org.personalOrgOnSignup) await foundPersonalOrg(work, ctx, { id, name: input.name })
    if (invited) return { status: 'signed_in' as const, session: await createSession(work.tx, ctx, id, meta) }
    const token = newSecret('oki')
    await credentials.insertEmailVerification(work.tx, {
      tokenHash: sha256(token),
      userId: id,
      expiresAt: new Date(ctx.clock() + VERIFY_HOURS * 3_600_000),
    })
    await ctx.mail.queue(work.tx, {
      to: email,
      subject: 'Verify your email for Orgkit',
      text: `Welcome to Orgkit. Verify your email to finish signing up:\n\n${ctx.settings.publicUrl}/verify?token=${token}\n\nThe link works once, for ${VERIFY_HOURS} hours.`,
    })
    return { status: 'verification_sent' as const }
  })
  void ctx.mail.deliver()
  // Signed up through an invitation: the email is verified already, so its domain may take them in too.
  if (result.status === 'signed_in') await autoJoinByDomain(ctx, meta, result.session.userId)
  return result
}

export async function verifyEmail(ctx: Ctx, meta: RequestMeta, token: string): Promise<Session> {
  await hit(ctx.db, `verify:ip:${meta.ip}`, 30, 900, ctx.clock())
  const { result } = await write(ctx, anonymous, meta, null, async (work) => {
    const now = new Date(ctx.clock())
    const userId = await credentials.useEmailVerification(work.tx, sha256(token), now)
    if (!userId) throw new OrgkitError('TOKEN_INVALID', 'this link is invalid, used or expired')
    await credentials.markEmailVerified(work.tx, userId, now)
    work.audit({ orgId: null, action: 'user.email_verified', targetType: 'user', targetId: userId })
    return createSession(work.tx, ctx, userId, meta)
  })
  // The mailbox is proven: an org holding its domain verified in `auto` mode takes the person in.
  await autoJoinByDomain(ctx, meta, result.userId)
  return result
}

/**
 * Sign-in. Wrong email and wrong password are one answer with one timing (a dummy hash is verified
 * when there is no account). Guessing is limited per address, and an account that failed several times
 * lately asks for a solved captcha (CAPTCHA_REQUIRED) rather than refusing its owner (sign-in-guard.ts).
 * With TOTP on, a valid unused code (or a recovery code) is required: MFA_CODE_REQUIRED until one comes
 * (SPEC 6).
 */
export async function login(
  ctx: Ctx,
  meta: RequestMeta,
  input: {
    email: string
    password: string
    totp?: string | undefined
    recoveryCode?: string | undefined
    captcha?: string | undefined
  },
): Promise<Session> {
  const email = normalizeEmail(input.email)
  await guardSignIn(ctx, meta, email, input.captcha)
  const user = await credentials.findLoginByEmail(ctx.db, email)
  await assertPasswordAllowed(ctx, ctx.db, email, user?.id ?? null)
  const ok = await verifyPassword(
    user?.password_hash ?? (await dummyHash(ctx.caches, ctx.settings.passwordHashCost)),
    input.password,
  )
  if (!user?.password_hash || !ok) {
    await recordSignInFailure(ctx, meta, email, user?.id ?? null)
    throw new OrgkitError('INVALID_CREDENTIALS', 'wrong email or password')
  }
  if (!user.email_verified_at)
    throw new OrgkitError(
      'EMAIL_NOT_VERIFIED',
      'verify your email first: open the link mailed to you (lost or expired? reset your password: its link verifies the email too)',
    )
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
  await autoJoinByDomain(ctx, meta, user.id)
  return result
}

/** Accepts a TOTP code once (a later step than the last one used) or an unused recovery code. */
export async function consumeSecondFactor(
  tx: Tx,
  ctx: Ctx,
  userId: string,
  input: { totp?: string | undefined; recoveryCode?: string | undefined },
) {
  const row = await credentials.lockTotp(tx, userId)
  if (input.recoveryCode) {
    const now = new Date(ctx.clock())
    if (await credentials.useRecoveryCode(tx, userId, hashCode(input.recoveryCode), now)) return
    throw new OrgkitError('MFA_INVALID', 'that recovery code is not valid', { field: 'recoveryCode' })
  }
  if (!input.totp)
    throw new OrgkitError('MFA_CODE_REQUIRED', 'enter the code from your authenticator app', {
      field: 'totp',
    })
  const secret = row.totp_secret ? await openTotpSecret(tx, ctx.secrets, userId, row.totp_secret) : null
  const step = secret ? totpStep(secret, input.totp, ctx.clock()) : null
  if (step === null || step <= Number(row.totp_last_step ?? -1)) {
    throw new OrgkitError('MFA_INVALID', 'that code is not valid (or was used already)', { field: 'totp' })
  }
  await credentials.recordTotpStep(tx, userId, step)
}

export async function logout(ctx: Ctx, sessionToken: string): Promise<void> {
  await sessions.deleteSession(ctx.db, sha256(sessionToken))
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
    await sessions.invalidateUserSessions(work.tx, userId, new Date(ctx.clock()))
    await sessions.deleteUserSessions(work.tx, userId)
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
  const user = await credentials.getCredentials(ctx.db, actor.userId)
  if (!user.password_hash || !(await verifyPassword(user.password_hash, input.current))) {
    throw new OrgkitError('INVALID_CREDENTIALS', 'the current password is wrong', { field: 'current' })
  }
  const passwordHash = await hashPassword(input.next, ctx.settings.passwordHashCost)
  await write(ctx, actor, meta, null, async (work) => {
    await credentials.setPassword(work.tx, user.id, passwordHash, new Date(ctx.clock()))
    await sessions.deleteUserSessions(work.tx, user.id, keepSession ? sha256(keepSession) : null)
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
    const userId = await users.findUserIdByEmail(work.tx, email)
    await assertPasswordAllowed(ctx, work.tx, email, userId ?? null)
    if (!userId) return
    await credentials.deletePasswordResets(work.tx, userId)
    const token = newSecret('okr')
    await credentials.insertPasswordReset(work.tx, {
      tokenHash: sha256(token),
      userId,
      expiresAt: new Date(ctx.clock() + RESET_MINUTES * 60_000),
    })
    await ctx.mail.queue(work.tx, {
      to: email,
      subject: 'Reset your Orgkit password',
      text: `Someone asked to reset the password of your Orgkit account. If that was you, choose a new one:\n\n${ctx.settings.publicUrl}/reset-password?token=${token}\n\nThe link works once, for ${RESET_MINUTES} minutes. If it wasn't you, ignore this mail: your password stays as it is.`,
    })
    work.audit({
      orgId: null,
      action: 'user.password_reset_requested',
      targetType: 'user',
      targetId: userId,
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
  const passwordHash = await hashPassword(input.password, ctx.settings.passwordHashCost)
  await write(ctx, anonymous, meta, null, async (work) => {
    const now = new Date(ctx.clock())
    const userId = await credentials.usePasswordReset(work.tx, sha256(input.token), now)
    if (!userId) throw new OrgkitError('TOKEN_INVALID', 'this reset link is invalid, used or expired')
    await assertPasswordAllowed(ctx, work.tx, (await users.findUser(work.tx, userId))!.email, userId)
    await credentials.resetPassword(work.tx, userId, passwordHash, now)
    await sessions.deleteUserSessions(work.tx, userId)
    await credentials.deleteEmailVerifications(work.tx, userId)
    await recordCompliance(work, userId, input.password)
    work.audit({ orgId: null, action: 'user.password_reset', targetType: 'user', targetId: userId })
  })
}

/** An invitation that can still be accepted. */
export async function openInvitation(db: Executor, token: string, now: number) {
  return invitations.findOpenByTokenHash(db, sha256(token), new Date(now))
}
