import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { errorResponses, json, OrgParams } from '../schemas.ts'
import * as audit from '../services/audit.ts'

const tags = ['Audit']
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
    actor: z.object({
      type: z.string(),
      id: z.string().nullable(),
      via: z
        .enum(['session', 'api_key', 'host_token', 'platform', 'scim', 'sso'])
        .nullable()
        .openapi({
          description:
            'How the actor authenticated: a session, an API key, a host token (JWT), or a platform token — ' +
            'acting as the user when `type` is user; null on entries older than this field',
        }),
      credentialId: z.string().nullable().openapi({
        description: 'The credential that authenticated, when it has an id: the platform token, the API key',
      }),
    }),
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

const Name = z
  .string()
  .nullable()
  .openapi({
    description:
      "What it is called now (a person's name or email, a resource's name, a role's label); a deleted target by " +
      'the name its entry recorded; null when nothing names it',
  })
const NamedAuditEntry = AuditEntry.extend({
  actor: AuditEntry.shape.actor.extend({ name: Name }),
  target: AuditEntry.shape.target.extend({ name: Name }),
}).openapi('NamedAuditEntry')

const Head = z
  .object({
    seq: z.number().openapi({ description: "The newest entry's sequence number in the org's chain" }),
    hash: z.string().openapi({ description: "The newest entry's hash (hex SHA-256)" }),
  })
  .nullable()
  .openapi('AuditHead', {
    description:
      "The chain's head: its newest entry (or the retention anchor when every entry was pruned); null for an " +
      'empty chain. Keep it outside the database and pass it to verify later: that detects deleted newest entries',
  })

/** The audit log (SPEC 4): filter, page, export, verify. */
export const auditRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/audit-logs',
      tags,
      operationId: 'listAuditLogs',
      summary: 'List audit entries',
      description:
        'Audit entries, newest first, with the names of their actor and target as they are now (the export ' +
        'keeps ids only: it is the record, names change)',
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
        200: json(
          z.object({ items: z.array(NamedAuditEntry), nextCursor: z.string().nullable(), head: Head }),
        ),
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
      path: '/v1/orgs/{orgId}/audit-logs/actions',
      tags,
      operationId: 'listAuditActions',
      summary: 'List audit actions',
      description:
        "The actions the caller may find in the org's log (the `action` filter's choices), each with what it means",
      request: { params: OrgParams },
      responses: {
        200: json(z.object({ items: z.array(z.object({ action: z.string(), description: z.string() })) })),
        ...errorResponses,
      },
    }),
    (c) => c.json({ items: audit.auditActions(ctx, c.get('actor'), c.req.valid('param').orgId) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/audit-logs/export',
      tags,
      operationId: 'exportAuditLogs',
      summary: 'Export the audit log',
      description: 'The whole (filtered) log as CSV or JSON, streamed',
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
      tags,
      operationId: 'verifyAuditLogs',
      summary: 'Verify the audit log',
      description:
        "Recompute the log's hash chain and report the first broken link. The links alone cannot show that the " +
        'newest entries were deleted: pass a head kept earlier (`seq` and `hash`, from a list or verify answer or ' +
        'an `audit.checkpoint` webhook) and verify reports `truncated` when the chain no longer reaches it',
      request: {
        params: OrgParams,
        query: z.object({
          seq: z
            .string()
            .regex(/^\d{1,15}$/)
            .optional()
            .openapi({ description: 'A kept head: its seq (with `hash`)' }),
          hash: z
            .string()
            .regex(/^[0-9a-f]{64}$/)
            .optional()
            .openapi({ description: 'A kept head: its hash (with `seq`)' }),
        }),
      },
      responses: {
        200: json(
          z.object({
            ok: z.boolean(),
            checked: z.number(),
            firstBroken: z
              .object({ id: z.string(), seq: z.string(), reason: z.enum(['content', 'link', 'gap']) })
              .nullable(),
            head: Head,
            truncated: z.boolean().openapi({
              description:
                'A kept head was given and the chain no longer reaches it with its hash: newest entries were ' +
                'deleted, or the log was rewritten; `ok` is false then',
            }),
            kept: z
              .object({
                seq: z.number(),
                hash: z.string(),
                status: z.enum(['reached', 'missing', 'mismatch', 'pruned']).openapi({
                  description:
                    'reached: the entry at that seq has that hash; missing: no entry at that seq any more; ' +
                    'mismatch: the entry there hashes differently; pruned: older than the retention anchor, ' +
                    'so it cannot be checked',
                }),
                found: z
                  .string()
                  .nullable()
                  .openapi({ description: 'The hash the chain holds at that seq now' }),
              })
              .nullable()
              .openapi({ description: 'What became of the kept head; null without one' }),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await audit.verifyAudit(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
}
