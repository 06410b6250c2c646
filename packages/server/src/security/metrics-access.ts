import { OrgkitError } from '@orgkit/core'
import { resolveCaller } from '../middleware/auth.ts'
import type { Ctx } from '../services/context.ts'
import { safeEqual } from './tokens.ts'

/**
 * Who may read `/metrics` on the public port (issue 22.8): its routes, statuses, rates and the process's
 * memory are reconnaissance for anyone else. A scraper sends `Authorization: Bearer <ORGKIT_METRICS_TOKEN>`
 * (a credential that can read metrics and nothing else), or the host product's platform token. Users, their
 * API keys and sessions can't: the figures are the whole instance's, every tenant's.
 */
export async function assertMetricsReader(ctx: Ctx, authorization: string | undefined): Promise<void> {
  const secret = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1]
  if (!secret)
    throw new OrgkitError(
      'UNAUTHENTICATED',
      'send Authorization: Bearer <ORGKIT_METRICS_TOKEN or a platform token>',
    )
  const { metricsToken } = ctx.settings
  if (metricsToken && safeEqual(secret, metricsToken)) return
  const actor = await resolveCaller(ctx, {
    method: 'GET',
    authorization,
    actAs: undefined,
    session: undefined,
    csrf: undefined,
  })
  if (actor.kind !== 'platform')
    throw new OrgkitError(
      'PLATFORM_ONLY',
      'metrics are the whole instance’s: platform or metrics tokens only',
    )
}
