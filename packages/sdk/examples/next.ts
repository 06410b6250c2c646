/**
 * Next.js (App Router): a route handler — `app/apps/[appId]/bundles/route.ts` — guarded by Orgkit's engine
 * running in the host's own process: a replica (`@orgkit/sdk/replica`) answers in microseconds, and a
 * request that carries a revision one of this person's writes returned is never answered from older state.
 *
 *   // lib/orgkit.ts, once per process
 *   export const replica = await createReplica({ url: process.env.ORGKIT_URL!, token: process.env.ORGKIT_TOKEN! })
 *   // app/apps/[appId]/bundles/route.ts
 *   export const POST = uploadBundle(replica)
 */
import { orgkitNext } from '../src/next.ts'
import type { Replica } from '../src/replica.ts'

export function uploadBundle(replica: Replica, sessionUser: (req: Request) => string | null) {
  const requirePermission = orgkitNext({
    replica,
    // The host's own session (NextAuth's `auth()`, a cookie…): the Orgkit user id it stored for the person.
    callerFrom: sessionUser,
    atLeastRevision: (req) => Number(req.headers.get('x-orgkit-revision')) || undefined,
  })
  return requirePermission(
    'app.upload_bundle',
    async (_req, { params }: { params: Promise<{ appId: string }> }) => ({
      type: 'app',
      id: (await params).appId,
    }),
    async (_req, { params }) => Response.json({ uploaded: (await params).appId }, { status: 201 }),
  )
}
