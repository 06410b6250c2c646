import { OrgkitError } from '@orgkit/core'
import { createSession, type Session } from './accounts.ts'
import { type Actor, type Ctx, type RequestMeta, write } from './context.ts'
import { autoJoinByDomain } from './domain-joining.ts'

/**
 * The console's sign-in hand-off for a host product that embeds it (docs/console.md): the console, given the
 * person's host token by the host page, exchanges it for an ordinary Orgkit session (HTTP-only cookie +
 * CSRF), so everything after is the console as usual. Only a host token is exchanged — a platform token or
 * an API key never mints a person's session — and a token whose `amr` proved a second factor gives a
 * session that passes an org's required 2FA, as the token itself did.
 */
export async function startHostSession(ctx: Ctx, actor: Actor, meta: RequestMeta): Promise<Session> {
  if (actor.kind !== 'user' || actor.via !== 'hostToken') {
    throw new OrgkitError(
      'FORBIDDEN',
      'only a host token (the host product’s JWT) is exchanged for a session',
    )
  }
  const { result } = await write(ctx, actor, meta, null, async (work) => {
    const session = await createSession(work.tx, ctx, actor.userId, meta, actor.mfa === true)
    work.audit({
      orgId: null,
      action: 'session.handed_off',
      targetType: 'user',
      targetId: actor.userId,
      after: { secondFactor: actor.mfa === true },
    })
    return session
  })
  // A sign-in like any other: an org holding the person's (verified) email domain in `auto` mode takes them in.
  await autoJoinByDomain(ctx, meta, actor.userId)
  return result
}
