import { OrgkitError } from '@orgkit/core'
import { count, countSoFar, hit } from '../security/rate-limit.ts'
import type { Actor, Ctx, RequestMeta } from './context.ts'
import { write } from './context.ts'

/**
 * How password guessing is slowed without handing strangers a lockout of the owner (SPEC 3, issue 22.1).
 * A limit on an account alone can be spent by anyone who knows its email: 105 wrong passwords from 11
 * addresses used to lock the owner out everywhere. So only addresses are ever refused (429): one address
 * gets `perAddress` sign-ins a window, and `perAccountAndAddress` on one account. An account itself is
 * never refused: after `captchaAfter` failures in a window, every sign-in to it (from anywhere, right
 * password or not) needs a solved proof-of-work captcha, which makes each guess cost the guesser CPU while
 * the owner solves one and gets in. At `noticeAfter` failures the owner is told by mail, once a day.
 *
 * A window is the last `windowSeconds`, sliding (security/rate-limit.ts; to within a minute, never less):
 * a window's end starts no fresh count, so `captchaAfter` failures in any 15 minutes ask for the captcha.
 *
 * Failures are counted per email as typed, whether or not it has an account, so the captcha step can't tell
 * anyone an email exists (the notice goes only to a real account, by mail).
 */
export const SIGN_IN = {
  windowSeconds: 900,
  perAddress: 50,
  perAccountAndAddress: 10,
  captchaAfter: 5,
  noticeAfter: 10,
  noticeEverySeconds: 86_400,
} as const

const anonymous: Actor = { kind: 'platform', tokenId: 'anonymous' }
const failuresKey = (email: string) => `login:failures:${email}`

/**
 * Before the password is checked: the address's limits, then the account's captcha step. A solution is
 * spent in a transaction of its own, so one that came with a wrong password can't be used again.
 */
export async function guardSignIn(
  ctx: Ctx,
  meta: RequestMeta,
  email: string,
  captcha: string | undefined,
): Promise<void> {
  const now = ctx.clock()
  await hit(ctx.db, `login:ip:${meta.ip}`, SIGN_IN.perAddress, SIGN_IN.windowSeconds, now)
  await hit(
    ctx.db,
    `login:email-ip:${email}:${meta.ip}`,
    SIGN_IN.perAccountAndAddress,
    SIGN_IN.windowSeconds,
    now,
  )
  const failures = await countSoFar(ctx.db, failuresKey(email), SIGN_IN.windowSeconds, now)
  if (failures < SIGN_IN.captchaAfter) return
  if (!captcha)
    throw new OrgkitError('CAPTCHA_REQUIRED', 'solve the captcha to sign in to this account', {
      field: 'captcha',
    })
  await write(ctx, anonymous, meta, null, (work) => ctx.captcha.verify(work.tx, captcha))
}

/**
 * A wrong password (or no such account): counted against the email; the owner of a real account hears of
 * it once the failures reach `noticeAfter`, at most once every `noticeEverySeconds`, through the outbox.
 */
export async function recordSignInFailure(
  ctx: Ctx,
  meta: RequestMeta,
  email: string,
  userId: string | null,
): Promise<void> {
  const now = ctx.clock()
  const failures = await count(ctx.db, failuresKey(email), SIGN_IN.windowSeconds, now)
  // From the mark on (a sliding count under a steady attack may never come back down to it), the notices of
  // the last day are read; a failure that finds none counts one, and of concurrent ones only the failure
  // whose count is 1 writes it. Only notices are counted: counting every failure past the mark would keep
  // that count above one for as long as the attack goes on, and the owner would hear of it only once.
  if (failures < SIGN_IN.noticeAfter || userId === null) return
  const noticeKey = `login:notice:${userId}`
  if ((await countSoFar(ctx.db, noticeKey, SIGN_IN.noticeEverySeconds, now)) > 0) return
  if ((await count(ctx.db, noticeKey, SIGN_IN.noticeEverySeconds, now)) !== 1) return
  await write(ctx, anonymous, meta, null, async (work) => {
    await ctx.mail.queue(work.tx, {
      to: email,
      subject: 'Failed sign-in attempts on your Orgkit account',
      text: [
        `Someone tried to sign in to your Orgkit account with a wrong password ${failures} times in the last ${SIGN_IN.windowSeconds / 60} minutes.`,
        '',
        'Your account is not locked: you can sign in as usual (you may be asked to tick "I\'m not a robot" first).',
        `If it was not you, your password held. To be safer, choose a longer password (${ctx.settings.publicUrl}/forgot-password) and turn on two-factor authentication in your account settings.`,
        '',
        'We send this at most once a day.',
      ].join('\n'),
    })
    work.audit({
      orgId: null,
      action: 'user.sign_in_failures_noticed',
      targetType: 'user',
      targetId: userId,
      after: { failures, windowMinutes: SIGN_IN.windowSeconds / 60 },
    })
  })
  void ctx.mail.deliver()
}
