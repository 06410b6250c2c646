import { OrgkitError } from '@orgkit/core'
import { tokens, users } from '@orgkit/store'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.ts'
import type { Ctx } from '../services/context.ts'

export const ACT_AS_HEADER = 'x-orgkit-user'

/**
 * Authenticates `Authorization: Bearer <token>`. A platform token is the host product; with
 * `X-Orgkit-User: <userId>` it acts as that user, with exactly that user's rights. Sessions and user API
 * keys (accounts, next) resolve to a user actor here too, so no route changes when they land.
 */
export function authenticate(ctx: Ctx): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) throw new OrgkitError('UNAUTHENTICATED', 'send Authorization: Bearer <token>')
    const token = await tokens.findActivePlatformToken(ctx.db, match[1]!)
    if (!token) throw new OrgkitError('UNAUTHENTICATED', 'unknown or revoked token')
    const actAs = c.req.header(ACT_AS_HEADER)
    if (actAs) {
      const user = /^[0-9a-f-]{36}$/i.test(actAs) ? await users.findUser(ctx.db, actAs) : undefined
      if (!user) throw new OrgkitError('UNAUTHENTICATED', `no user ${actAs} to act as`)
      c.set('actor', { kind: 'user', userId: user.id, via: 'platform' })
    } else {
      c.set('actor', { kind: 'platform', tokenId: token.id })
    }
    await next()
  }
}
