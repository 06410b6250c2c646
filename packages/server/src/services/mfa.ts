import { OrgkitError } from '@orgkit/core'
import QRCode from 'qrcode'
import { verifyPassword } from '../security/passwords.ts'
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
  const { result } = await write(ctx, actor, meta, null, async (work) => {
    const user = await work.tx
      .selectFrom('users')
      .select(['email', 'totp_enabled_at'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow()
    if (user.totp_enabled_at)
      throw new OrgkitError('MFA_ALREADY_ENABLED', '2FA is on already: turn it off first')
    const secret = newTotpSecret()
    await work.tx
      .updateTable('users')
      .set({ totp_secret: secret, totp_last_step: null })
      .where('id', '=', userId)
      .execute()
    const url = otpauthUrl(secret, user.email)
    return { secret, otpauthUrl: url, qrSvg: await QRCode.toString(url, { type: 'svg', margin: 1 }) }
  })
  return result
}

/** Confirms enrolment with a first valid code; answers the recovery codes, shown this once. */
export async function confirmTotp(ctx: Ctx, actor: Actor, meta: RequestMeta, code: string) {
  const userId = userOf(actor)
  const { result, revision } = await write(ctx, actor, meta, null, async (work) => {
    const user = await work.tx
      .selectFrom('users')
      .select(['totp_secret', 'totp_enabled_at', 'compliant_password_policies'])
      .where('id', '=', userId)
      .forUpdate()
      .executeTakeFirstOrThrow()
    if (user.totp_enabled_at) throw new OrgkitError('MFA_ALREADY_ENABLED', '2FA is on already')
    if (!user.totp_secret) throw new OrgkitError('MFA_NOT_ENROLLED', 'start enrolment first')
    const step = totpStep(user.totp_secret, code, ctx.clock())
    if (step === null) throw new OrgkitError('MFA_INVALID', 'that code is not valid', { field: 'code' })
    const codes = newRecoveryCodes()
    await work.tx
      .updateTable('users')
      .set({ totp_enabled_at: new Date(ctx.clock()), totp_last_step: String(step), mfa_enabled: true })
      .where('id', '=', userId)
      .execute()
    await work.tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
    await work.tx
      .insertInto('recovery_codes')
      .values(codes.map((c) => ({ user_id: userId, code_hash: hashCode(c), used_at: null })))
      .execute()
    work.change({
      op: 'user.put',
      user: { id: userId, mfaEnabled: true, compliantPasswordPolicies: user.compliant_password_policies },
    })
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
  const user = await ctx.db
    .selectFrom('users')
    .select(['password_hash', 'totp_enabled_at'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow()
  if (!user.totp_enabled_at) throw new OrgkitError('MFA_NOT_ENROLLED', '2FA is not on')
  if (!user.password_hash || !(await verifyPassword(user.password_hash, input.password))) {
    throw new OrgkitError('INVALID_CREDENTIALS', 'wrong password', { field: 'password' })
  }
  const { revision } = await write(ctx, actor, meta, null, async (work) => {
    await consumeSecondFactor(work.tx, ctx, userId, input)
    const row = await work.tx
      .updateTable('users')
      .set({ totp_secret: null, totp_enabled_at: null, totp_last_step: null, mfa_enabled: false })
      .where('id', '=', userId)
      .returning('compliant_password_policies')
      .executeTakeFirstOrThrow()
    await work.tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
    work.change({
      op: 'user.put',
      user: { id: userId, mfaEnabled: false, compliantPasswordPolicies: row.compliant_password_policies },
    })
    work.audit({ orgId: null, action: 'user.mfa_disabled', targetType: 'user', targetId: userId })
  })
  return { revision }
}
