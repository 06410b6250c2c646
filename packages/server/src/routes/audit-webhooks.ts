import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, OrgParams, Uuid, written } from '../schemas.ts'
import * as audit from '../services/audit.ts'
import * as webhooks from '../services/webhooks.ts'

const AuditFilters = z.object({
  actorId: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  targetType: z.string().max(100).optional(),
  targetId: z.string().max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
})
const AuditEntry = z
  .object({
    id: z.string(),
    seq: z.number(),
    orgId: z.string().nullable(),
    actor: z.object({ type: z.string(), id: z.string().nullable() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    before: z.unknown(),
    after: z.unknown(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    createdAt: z.string(),
    hash: z.string().nullable(),
  })
  .openapi('AuditEntry')
const Webhook = z
  .object({
    id: Uuid,
    orgId: Uuid,
    url: z.string(),
    events: z.array(z.string()).nullable(),
    enabled: z.boolean(),
    description: z.string(),
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Webhook')
const HookParams = OrgParams.extend({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })
const Events = z
  .array(
    z
      .string()
      .regex(/^([a-z_]+\.)*([a-z_]+|\*)$/, 'an event type, or a family like member.*')
      .max(100),
  )
  .max(100)
  .nullable()

/** Audit log (SPEC 4: filter, page, export, verify) and webhook endpoints with their delivery log. */
export const auditWebhookRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/audit-logs',
      tags: ['Audit'],
      summary: 'Audit entries, newest first',
      request: {
        params: OrgParams,
        query: AuditFilters.extend({
          cursor: z
            .string()
            .regex(/^\d{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() })),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await audit.listAudit(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/audit-logs/export',
      tags: ['Audit'],
      summary: 'The whole (filtered) log as CSV or JSON, streamed',
      request: {
        params: OrgParams,
        query: AuditFilters.extend({ format: z.enum(['csv', 'json']).default('json') }),
      },
      responses: {
        200: {
          description: 'The export',
          content: {
            'text/csv': { schema: z.string() },
            'application/json': { schema: z.array(AuditEntry) },
          },
        },
        ...errorResponses,
      },
    }),
    (c) => {
      const { format, ...filters } = c.req.valid('query')
      const orgId = c.req.valid('param').orgId
      const stream = audit.exportAudit(ctx, c.get('actor'), orgId, filters, format)
      return c.body(stream, 200, {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
        'content-disposition': `attachment; filename="audit-${orgId}.${format}"`,
      }) as never
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/audit-logs/verify',
      tags: ['Audit'],
      summary: "Recompute the log's hash chain; report the first broken link",
      request: { params: OrgParams },
      responses: {
        200: json(
          z.object({
            ok: z.boolean(),
            checked: z.number(),
            firstBroken: z
              .object({ id: z.string(), seq: z.string(), reason: z.enum(['content', 'link', 'gap']) })
              .nullable(),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await audit.verifyAudit(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )

  const tags = ['Webhooks']
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/webhooks',
      tags,
      summary: 'Webhook endpoints',
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Webhook) })), ...errorResponses },
    }),
    async (c) =>
      c.json({ items: await webhooks.listWebhooks(ctx, c.get('actor'), c.req.valid('param').orgId) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/webhooks',
      tags,
      summary: 'Add an endpoint; its signing secret is answered this once',
      request: {
        params: OrgParams,
        ...body(
          z
            .object({
              url: z.url().max(2000),
              events: Events.optional(),
              description: z.string().max(500).optional(),
            })
            .strict(),
        ),
      },
      responses: {
        201: json(Webhook.extend({ secret: z.string(), revision: z.number() }), 'Created'),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await webhooks.createWebhook(
          ctx,
          c.get('actor'),
          c.get('meta'),
          c.req.valid('param').orgId,
          c.req.valid('json'),
        ),
        201,
      ),
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/webhooks/{id}',
      tags,
      summary: 'Change an endpoint (URL, events, enabled)',
      request: {
        params: HookParams,
        ...body(
          z
            .object({
              url: z.url().max(2000),
              events: Events,
              enabled: z.boolean(),
              description: z.string().max(500),
            })
            .partial()
            .strict(),
        ),
      },
      responses: { 200: json(Webhook.extend({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(
          await webhooks.updateWebhook(ctx, c.get('actor'), c.get('meta'), orgId, id, c.req.valid('json')),
        ),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/webhooks/{id}',
      tags,
      summary: 'Remove an endpoint',
      request: { params: HookParams },
      responses: { 200: json(z.object({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await webhooks.deleteWebhook(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/webhooks/{id}/test',
      tags,
      summary: 'Send a test ping',
      request: { params: HookParams },
      responses: { 200: json(z.object({ eventId: z.string(), deliveryId: Uuid })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await webhooks.pingWebhook(ctx, c.get('actor'), c.get('meta'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/webhooks/{id}/deliveries',
      tags,
      summary: 'The delivery log: status, attempts, duration, response excerpt',
      request: {
        params: HookParams,
        query: z.object({
          cursor: z.iso.datetime().optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({
                id: Uuid,
                eventId: z.string(),
                type: z.string(),
                status: z.enum(['pending', 'succeeded', 'failed']),
                attempts: z.number(),
                nextAttemptAt: z.string().nullable(),
                lastStatus: z.number().nullable(),
                lastError: z.string().nullable(),
                durationMs: z.number().nullable(),
                responseExcerpt: z.string().nullable(),
                deliveredAt: z.string().nullable(),
                createdAt: z.string(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await webhooks.listDeliveries(ctx, c.get('actor'), orgId, id, c.req.valid('query')), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/deliveries/{id}/redeliver',
      tags,
      summary: 'Send a delivery again now (same event id)',
      request: { params: HookParams },
      responses: { 200: json(z.object({ deliveryId: Uuid, eventId: z.string() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await webhooks.redeliver(ctx, c.get('actor'), c.get('meta'), orgId, id), 200)
    },
  )
}
