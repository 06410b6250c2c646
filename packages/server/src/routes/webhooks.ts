import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, IdParams, json, OrgParams, Revised, Uuid, written } from '../schemas.ts'
import * as webhooks from '../services/webhooks.ts'
import { eventCatalogue } from '../webhooks/events.ts'

const tags = ['Webhooks']
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
const Events = z
  .array(
    z
      .string()
      .regex(/^([a-z_]+\.)*([a-z_]+|\*)$/, 'an event type, or a family like member.*')
      .max(100),
  )
  .max(100)
  .nullable()
const Delivery = z.object({
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
})

const EventType = z
  .object({
    type: z.string(),
    description: z.string(),
    billing: z.boolean().openapi({
      description: 'Sent only to endpoints that name it, set up by readers of the billing audit',
    }),
  })
  .openapi('WebhookEventType')

/** Webhook endpoints and their delivery log. */
export const webhookRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhook-event-types',
      tags,
      operationId: 'listWebhookEventTypes',
      summary: 'List webhook event types',
      description:
        "The event catalogue an endpoint's `events` choose from (a family too: `member.*`); the payloads are in " +
        "this document's `webhooks` section",
      responses: { 200: json(z.object({ items: z.array(EventType) })), ...errorResponses },
    }),
    (c) => c.json({ items: eventCatalogue() }, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/webhooks',
      tags,
      operationId: 'listWebhooks',
      summary: 'List webhook endpoints',
      description: "The organization's webhook endpoints",
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
      operationId: 'createWebhook',
      summary: 'Add a webhook endpoint',
      description: 'Add an endpoint; its signing secret is answered this once',
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
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        await webhooks.createWebhook(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json')),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/webhooks/{id}',
      tags,
      operationId: 'updateWebhook',
      summary: 'Change a webhook endpoint',
      description: 'Change an endpoint (URL, events, enabled)',
      request: {
        params: IdParams,
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
      operationId: 'deleteWebhook',
      summary: 'Remove a webhook endpoint',
      description: 'Remove an endpoint: no more events are sent to it',
      request: { params: IdParams },
      responses: { 200: json(Revised), ...errorResponses },
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
      path: '/v1/orgs/{orgId}/webhooks/{id}/rotate-secret',
      tags,
      operationId: 'rotateWebhookSecret',
      summary: "Rotate a webhook endpoint's signing secret",
      description:
        'A new signing secret, answered this once. The old one keeps signing beside it until ' +
        '`previousSecretExpiresAt` (24 hours): each delivery carries both signatures meanwhile',
      request: { params: IdParams },
      responses: {
        200: json(
          z
            .object({ secret: z.string(), previousSecretExpiresAt: z.string(), revision: z.number() })
            .openapi('RotatedWebhookSecret'),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await webhooks.rotateSecret(ctx, c.get('actor'), c.get('meta'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/webhooks/{id}/test',
      tags,
      operationId: 'testWebhook',
      summary: 'Ping a webhook endpoint',
      description: 'Send a test ping, logged as a delivery',
      request: { params: IdParams },
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
      operationId: 'listWebhookDeliveries',
      summary: 'List deliveries',
      description: 'The delivery log: status, attempts, duration, response excerpt',
      request: {
        params: IdParams,
        query: z.object({
          cursor: z.iso.datetime().optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(Delivery), nextCursor: z.string().nullable() })),
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
      operationId: 'redeliverWebhookDelivery',
      summary: 'Redeliver',
      description: 'Send a delivery again now (same event id)',
      request: { params: IdParams },
      responses: { 200: json(z.object({ deliveryId: Uuid, eventId: z.string() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await webhooks.redeliver(ctx, c.get('actor'), c.get('meta'), orgId, id), 200)
    },
  )
}
