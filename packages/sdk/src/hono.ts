/**
 * `requirePermission` for Hono: a middleware that calls the next handler when Orgkit allows, and answers
 * 401 / 403 problem+json otherwise.
 *
 *   const requirePermission = orgkitHono({ replica, callerFrom: (c) => c.get('user')?.orgkitId })
 *   app.post('/apps/:appId/bundles', requirePermission('app.upload_bundle', (c) => ({ type: 'app', id: c.req.param('appId') })), upload)
 */
import type { Context, MiddlewareHandler } from 'hono'
import { decide, type GuardOptions, PROBLEM_CONTENT_TYPE } from './guard.ts'
import type { ResourceRef } from './replica.ts'

export type { Caller, GuardOptions } from './guard.ts'

export function orgkitHono(options: GuardOptions<Context>) {
  return (
    permission: string,
    resourceFrom: (c: Context) => ResourceRef | Promise<ResourceRef>,
  ): MiddlewareHandler =>
    async (c, next) => {
      const verdict = await decide(options, c, permission, await resourceFrom(c))
      if (!verdict.allowed)
        return c.body(JSON.stringify(verdict.problem), verdict.status, {
          'content-type': PROBLEM_CONTENT_TYPE,
        })
      await next()
    }
}
