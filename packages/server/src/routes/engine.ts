import { createRoute, z } from '@hono/zod-openapi'
import { OrgkitError } from '@orgkit/core'
import { streamSSE } from 'hono/streaming'
import type { RouteModule } from '../env.ts'
import { problemOf } from '../errors.ts'
import { errorResponses, json } from '../schemas.ts'
import * as feed from '../services/engine-feed.ts'

const tags = ['Engine feed']
const RevisionText = z.string().regex(/^\d{1,15}$/, 'a revision')

const FeedEntry = z
  .object({
    revision: z.number().int(),
    changes: z.array(z.looseObject({ op: z.string() })).openapi({
      description: "The engine's changes of this revision (@orgkit/core `Change`), applied in order",
    }),
  })
  .openapi('FeedEntry')

const EngineSnapshot = z
  .object({
    format: z.literal(1),
    model: z.looseObject({}).openapi({ description: 'The model the server runs (@orgkit/core `Model`)' }),
    parts: z
      .array(z.object({ kind: z.string(), records: z.array(z.looseObject({})) }))
      .openapi({ description: "The records, kind by kind in @orgkit/core's `SNAPSHOT_KINDS` order" }),
    revision: z.number().int(),
  })
  .openapi('EngineSnapshot')

/** A follower's place: `Last-Event-ID` (an EventSource reconnecting) wins over the `after` it began with. */
function startAfter(after: string | undefined, lastEventId: string | undefined): number {
  const given = lastEventId !== undefined && /^\d{1,15}$/.test(lastEventId) ? lastEventId : after
  if (given === undefined)
    throw new OrgkitError('VALIDATION_FAILED', 'say where to start: after=<revision> or Last-Event-ID', {
      field: 'after',
    })
  return Number(given)
}

/** The engine's state and its change feed, for a host's in-process replica (@orgkit/sdk/replica). */
export const engineRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/engine/snapshot',
      tags,
      operationId: 'getEngineSnapshot',
      summary: "Get the engine's snapshot",
      description:
        "The model and every record the permission engine holds, at one revision: load it into @orgkit/core's Authorizer, then follow GET /v1/engine/changes from that revision (platform token)",
      responses: { 200: json(EngineSnapshot, 'The snapshot'), ...errorResponses },
    }),
    async (c) => {
      const pieces = await feed.snapshotText(ctx, c.get('actor'))
      const encoder = new TextEncoder()
      let next = 0
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (next < pieces.length) controller.enqueue(encoder.encode(pieces[next++]!))
          else controller.close()
        },
      })
      return c.body(body, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }) as never
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/engine/changes',
      tags,
      operationId: 'followEngineChanges',
      summary: "Follow the engine's changes",
      description:
        'Every revision after `after`, in order. With `Accept: text/event-stream`: server-sent events (`change`, id = revision; `head` heartbeats; `reload`, a problem, when the caller must load the snapshot again), resumed from `Last-Event-ID`; otherwise JSON, waiting up to `waitMs` for the next revision (platform token)',
      request: {
        query: z.object({
          after: RevisionText.optional().openapi({ description: 'The last revision the caller has applied' }),
          waitMs: z.coerce
            .number()
            .int()
            .min(0)
            .max(30_000)
            .default(0)
            .openapi({ description: 'JSON form: how long to wait for a revision when there is none yet' }),
        }),
        headers: z.object({ 'last-event-id': z.string().max(32).optional() }),
      },
      responses: {
        200: {
          description: 'The revisions after `after`',
          content: {
            'application/json': {
              schema: z
                .object({
                  head: z.number().int().openapi({ description: "This server's applied revision" }),
                  changes: z.array(FeedEntry),
                })
                .openapi('FeedPage'),
            },
            'text/event-stream': {
              schema: z.string().openapi({
                description:
                  'event: change, id: <revision>, data: FeedEntry; event: head, data: {"revision": <head>}; event: reload, data: a problem (REVISION_NOT_REACHED)',
              }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { after, waitMs } = c.req.valid('query')
      const actor = c.get('actor')
      const from = startAfter(after, c.req.valid('header')['last-event-id'])
      if (!/\btext\/event-stream\b/.test(c.req.header('accept') ?? ''))
        return c.json(await feed.changesAfter(ctx, actor, from, waitMs, c.req.raw.signal), 200)
      // Refusals (a user's token, an unknown revision) answer as problems before the stream starts.
      feed.assertFeedReader(actor)
      await feed.assertKnown(ctx, from)
      const gone = new AbortController()
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => gone.abort())
        await feed.followChanges(ctx, actor, from, {
          signal: gone.signal,
          change: (entry) =>
            stream.writeSSE({ event: 'change', id: String(entry.revision), data: JSON.stringify(entry) }),
          head: (revision) => stream.writeSSE({ event: 'head', data: JSON.stringify({ revision }) }),
          reload: (error) =>
            stream.writeSSE({ event: 'reload', data: problemOf(error, c.get('requestId')).body }),
        })
      }) as never
    },
  )
}
