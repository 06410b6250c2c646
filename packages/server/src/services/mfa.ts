import { OrgkitError } from '@orgkit/core'
import { credentials } from '@orgkit/store'
import { verifyPassword } from '../security/passwords.ts'
import { openTotpSecret, totpContext } from '../security/secrets-at-rest.ts'
import { hashCode, newRecoveryCodes, newTotpSecret, otpauthUrl, totpStep } from '../security/totp.ts'
import { consumeSecondFactor } from './accounts.ts'
import { type Actor, type Ctx, type RequestMeta, write } from './context.ts'

function userOf(actor: Actor): string {
  if (actor.kind !== 'user' || actor.keyId)
    throw new OrgkitError('FORBIDDEN', 'only a signed-in user manages their 2FA')
  return actor.userId
}

/** Starts TOTP enrolment: a new secret, its otpauth:// URL and a QR code of it. Not active until confirmed. */
export async function enrolTotp(ctx: Ctx, actor: Actor, meta: RequestMeta) {
  const userId = userOf(actor)
  // Loaded on first use (most starts never draw one), and before the transaction: on the embedded database
  // its one connection would wait for the import.
  const { default: QRCode } = await import('qrcode')
  const { result } = await write(ctx, actor, meta, null, async (work) => {
    const user = await credentials.getCredentials(work.tx, userId)
    if (user.totp_enabled_at)
      throw new OrgkitError('MFA_ALREADY_ENABLED', '2FA is on already: turn it off first')
    const secret = newTotpSecret()
    // Stored sealed (issue 22.7): a database reader can't compute the user's codes.
    await credentials.startTotp(work.tx, userId, ctx.secrets.seal(secret, totpContext(userId)))
    const url = otpauthUrl(secret, user.email)
    return { secret, otpauthUrl: url, qrSvg: await QRCode.toString(url, { type: 'svg', margin: 1 }) }
  })
  return result
}

/** Confirms enrolment with a first valid code; answers the recovery codes, shown this once. */
export async function confirmTotp(ctx: Ctx, actor: Actor, meta: RequestMeta, code: string) {
  const userId = userOf(actor)
  const { result, revision } = await write(ctx, actor, meta, null, async (work) => {
    const user = await credentials.lockTotp(work.tx, userId)
    if (user.totp_enabled_at) throw new OrgkitError('MFA_ALREADY_ENABLED', '2FA is on already')
    if (!user.totp_secret) throw new OrgkitError('MFA_NOT_ENROLLED', 'start enrolment first')
    const secret = await openTotpSecret(work.tx, ctx.secrets, userId, user.totp_secret)
    const step = totpStep(secret, code, ctx.clock())
    if (step === null) throw new OrgkitError('MFA_INVALID', 'that code is not valid', { field: 'code' })
    const codes = newRecoveryCodes()
    work.apply(await credentials.enableTotp(work.tx, userId, step, new Date(ctx.clock())))
    await credentials.replaceRecoveryCodes(work.tx, userId, codes.map(hashCode))
    work.audit({ orgId: null, action: 'user.mfa_enabled', targetType: 'user', targetId: userId })
    return { recoveryCodes: codes }
  })
  return { ...result, revision }
}

/** Turns 2FA off; needs the password and a current code (or a recovery code) again. */
export async function disableTotp(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  input: { password: string; totp?: string | undefined; recoveryCode?: string | undefined },
) {
  const userId = userOf(actor)
  const user = await credentials.getCredentials(ctx.db, userId)
  if (!user.totp_enabled_at) throw new OrgkitError('MFA_NOT_ENROLLED', '2FA is not on')
  if (!user.password_hash || !(await verifyPassword(user.password_hash, input.password))) {
    throw new OrgkitError('INVALID_CREDENTIALS', 'wrong password', { field: 'password' })
  }
  const { revision } = await write(ctx, actor, meta, null, async (work) => {
    await consumeSecondFactor(work.tx, ctx, userId, input)
    work.apply(await credentials.disableTotp(work.tx, userId))
    await credentials.deleteRecoveryCodes(work.tx, userId)
    work.audit({ orgId: null, action: 'user.mfa_disabled', targetType: 'user', targetId: userId })
  })
  return { revision }
}
