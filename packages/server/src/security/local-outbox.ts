import type { Context } from 'hono'
import type { AppEnv } from '../env.ts'
import type { Ctx } from '../services/context.ts'

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/

export const isLoopback = (address: string | null | undefined): boolean =>
  !!address && LOOPBACK.test(address.replace(/^\[|\]$/g, ''))

/**
 * The local console's outbox (docs/console.md): mail that no SMTP server will ever send holds the only
 * copy of a verification or invitation link. The console may read it without a platform token only when
 * the instance was started for local use (`localOutbox`: no SMTP, listening on loopback only) and the
 * request comes from this machine over a socket, with no credentials of its own and not through a proxy.
 * A deployment with SMTP, behind a proxy, or reachable from the network keeps the outbox platform-only.
 */
export function readsLocalOutbox(ctx: Ctx, c: Context<AppEnv>): boolean {
  return (
    ctx.settings.localOutbox &&
    !ctx.mail.configured &&
    c.req.method === 'GET' &&
    c.req.path === '/v1/outbox' &&
    !c.req.header('authorization') &&
    // A proxy on this machine would make every visitor look local: a forwarded request is never local.
    !c.req.header('x-forwarded-for') &&
    !c.req.header('forwarded') &&
    isLoopback(c.get('meta')?.ip)
  )
}
