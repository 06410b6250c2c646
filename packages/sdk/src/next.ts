/**
 * `requirePermission` for Next.js route handlers (the App Router's `route.ts`): wraps a handler, which runs
 * when Orgkit allows; otherwise the answer is 401 / 403 problem+json. Web `Request` / `Response` only, so it
 * needs nothing of Next itself.
 *
 *   const requirePermission = orgkitNext({ replica, callerFrom: async (req) => (await auth())?.user.orgkitId })
 *   export const POST = requirePermission(
 *     'app.upload_bundle',
 *     async (_req, { params }) => ({ type: 'app', id: (await params).appId }),
 *     async (req, { params }) => Response.json({ uploaded: true }, { status: 201 }),
 *   )
 */
import { decide, type GuardOptions, PROBLEM_CONTENT_TYPE } from './guard.ts'
import type { ResourceRef } from './replica.ts'

export type { Caller, GuardOptions } from './guard.ts'

/** What Next passes a route handler besides the request: the dynamic segments (a promise since Next 15). */
export interface RouteContext<P = Record<string, string | string[]>> {
  params: Promise<P>
}

export function orgkitNext(options: GuardOptions<Request>) {
  return <C = RouteContext>(
    permission: string,
    resourceFrom: (req: Request, context: C) => ResourceRef | Promise<ResourceRef>,
    handler: (req: Request, context: C) => Response | Promise<Response>,
  ) =>
    async (req: Request, context: C): Promise<Response> => {
      const verdict = await decide(options, req, permission, await resourceFrom(req, context))
      if (verdict.allowed) return handler(req, context)
      return new Response(JSON.stringify(verdict.problem), {
        status: verdict.status,
        headers: { 'content-type': PROBLEM_CONTENT_TYPE },
      })
    }
}
