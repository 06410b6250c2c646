/**
 * `requirePermission` for Express (4 and 5): a middleware that lets the request through when Orgkit
 * allows, and answers 401 / 403 problem+json otherwise.
 *
 *   const requirePermission = orgkitExpress({ replica, callerFrom: (req) => req.user?.orgkitId })
 *   app.post('/apps/:appId/bundles', requirePermission('app.upload_bundle', (req) => ({ type: 'app', id: req.params.appId })), upload)
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { decide, type GuardOptions, PROBLEM_CONTENT_TYPE } from './guard.ts'
import type { ResourceRef } from './replica.ts'

export type { Caller, GuardOptions } from './guard.ts'

export function orgkitExpress(options: GuardOptions<Request>) {
  return (
    permission: string,
    resourceFrom: (req: Request) => ResourceRef | Promise<ResourceRef>,
  ): RequestHandler =>
    (req: Request, res: Response, next: NextFunction) => {
      // Express 4 ignores a returned promise: errors go to `next` by hand.
      void (async () => {
        const verdict = await decide(options, req, permission, await resourceFrom(req))
        if (verdict.allowed) return next()
        res.status(verdict.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(verdict.problem))
      })().catch(next)
    }
}
