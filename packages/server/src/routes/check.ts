import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, PermissionKey, ResourceRef, Revision, Subject } from '../schemas.ts'
import * as check from '../services/check.ts'

const tags = ['Authorization']
const CheckInput = z.object({
  subject: Subject.optional(),
  permission: PermissionKey,
  resource: ResourceRef,
  atLeastRevision: Revision.optional(),
})
const Decision = z
  .object({ allowed: z.boolean(), reason: z.string(), revision: Revision })
  .openapi('Decision')

/** The authorization API the host product calls (SPEC 5, 6). */
export const checkRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/check',
      tags,
      summary: 'May the subject (default: you) do this?',
      request: body(CheckInput.strict()),
      responses: { 200: json(Decision), ...errorResponses },
    }),
    async (c) => c.json(await check.check(ctx, c.get('actor'), c.req.valid('json')), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/check/batch',
      tags,
      summary: 'Many checks in one call; each answers or errs on its own',
      request: body(
        z
          .object({
            checks: z
              .array(CheckInput.omit({ atLeastRevision: true }).strict())
              .min(1)
              .max(1000),
            atLeastRevision: Revision.optional(),
          })
          .strict(),
      ),
      responses: {
        200: json(
          z.object({
            results: z.array(
              z.object({
                allowed: z.boolean(),
                reason: z.string(),
                error: z.object({ code: z.string(), detail: z.string() }).optional(),
              }),
            ),
            revision: Revision,
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await check.checkBatch(ctx, c.get('actor'), c.req.valid('json')), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/list-resources',
      tags,
      summary: 'Which resources of a type may the subject do this on',
      request: body(
        z
          .object({
            subject: Subject.optional(),
            permission: PermissionKey,
            type: z.string().min(1),
            atLeastRevision: Revision.optional(),
          })
          .strict(),
      ),
      responses: { 200: json(z.object({ ids: z.array(z.string()), revision: Revision })), ...errorResponses },
    }),
    async (c) => c.json(await check.listResources(ctx, c.get('actor'), c.req.valid('json')), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/list-principals',
      tags,
      summary: 'Who may do this on the resource',
      request: body(
        z
          .object({ permission: PermissionKey, resource: ResourceRef, atLeastRevision: Revision.optional() })
          .strict(),
      ),
      responses: {
        200: json(z.object({ users: z.array(z.string()), revision: Revision })),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await check.listPrincipals(ctx, c.get('actor'), c.req.valid('json')), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/explain',
      tags,
      summary: 'Why the decision is what it is: the binding, override or policy that decided',
      request: body(CheckInput.strict()),
      responses: { 200: json(z.record(z.string(), z.unknown())), ...errorResponses },
    }),
    async (c) =>
      c.json(
        (await check.explain(ctx, c.get('actor'), c.req.valid('json'))) as unknown as Record<string, unknown>,
        200,
      ),
  )
}
