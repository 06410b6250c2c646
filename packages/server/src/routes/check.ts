import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import * as check from '../hot/check.ts'
import {
  body,
  errorResponses,
  json,
  PermissionKey,
  ProblemCode,
  ResourceRef,
  Revision,
  Subject,
} from '../schemas.ts'
import type { Actor, Ctx } from '../services/context.ts'

const CheckInput = z.object({
  subject: Subject.optional(),
  permission: PermissionKey,
  resource: ResourceRef,
  atLeastRevision: Revision.optional(),
})
const Decision = z
  .object({ allowed: z.boolean(), reason: z.string(), revision: Revision })
  .openapi('Decision')

/**
 * A route of the authorization API: a POST of one JSON body answered from the engine, without side
 * effects but usage metering. The host product calls these on every request of its own, so besides being
 * registered on the app (validation, the OpenAPI document, every request in tests through `app.request`),
 * they are answered by the hot path (hot/), which runs the same schema and `run` without the
 * framework around them.
 */
export interface AuthorizationRoute<I extends z.ZodType = z.ZodType> {
  path: string
  operationId: string
  summary: string
  description: string
  input: I
  output: z.ZodType
  run(ctx: Ctx, actor: Actor, input: z.output<I>): Promise<object>
}

const route = <I extends z.ZodType>(r: AuthorizationRoute<I>) => r as unknown as AuthorizationRoute

/** The authorization API the host product calls (SPEC 5, 6). */
export const authorizationRoutes: readonly AuthorizationRoute[] = [
  route({
    path: '/v1/check',
    operationId: 'checkPermission',
    summary: 'Check a permission',
    description: 'May the subject (default: you) do this?',
    input: CheckInput.strict(),
    output: Decision,
    run: check.check,
  }),
  route({
    path: '/v1/check/batch',
    operationId: 'checkPermissions',
    summary: 'Check many permissions',
    description:
      "Many checks in one call; each answers or errs on its own. A check's subject defaults to the batch's, then to you",
    input: z
      .object({
        subject: Subject.optional(),
        checks: z
          .array(CheckInput.omit({ atLeastRevision: true }).strict())
          .min(1)
          .max(1000),
        atLeastRevision: Revision.optional(),
      })
      .strict(),
    output: z.object({
      results: z.array(
        z.object({
          allowed: z.boolean(),
          reason: z.string(),
          error: z.object({ code: ProblemCode, detail: z.string() }).optional(),
        }),
      ),
      revision: Revision,
    }),
    run: check.checkBatch,
  }),
  route({
    path: '/v1/list-resources',
    operationId: 'listPermittedResources',
    summary: 'List permitted resources',
    description: 'Which resources of a type may the subject do this on',
    input: z
      .object({
        subject: Subject.optional(),
        permission: PermissionKey,
        type: z.string().min(1),
        atLeastRevision: Revision.optional(),
      })
      .strict(),
    output: z.object({ ids: z.array(z.string()), revision: Revision }),
    run: check.listResources,
  }),
  route({
    path: '/v1/list-principals',
    operationId: 'listPermittedPrincipals',
    summary: 'List permitted principals',
    description: 'Who may do this on the resource',
    input: z
      .object({ permission: PermissionKey, resource: ResourceRef, atLeastRevision: Revision.optional() })
      .strict(),
    output: z.object({ users: z.array(z.string()), revision: Revision }),
    run: check.listPrincipals,
  }),
  route({
    path: '/v1/explain',
    operationId: 'explainPermission',
    summary: 'Explain a decision',
    description: 'Why the decision is what it is: the binding, override or policy that decided',
    input: CheckInput.strict(),
    output: z.record(z.string(), z.unknown()),
    run: check.explain,
  }),
]

export const checkRoutes: RouteModule = (app, ctx) => {
  for (const { path, operationId, summary, description, input, output, run } of authorizationRoutes) {
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags: ['Authorization'],
        operationId,
        summary,
        description,
        request: body(input),
        responses: { 200: json(output), ...errorResponses },
      }),
      async (c) =>
        c.json((await run(ctx, c.get('actor'), c.req.valid('json'))) as Record<string, unknown>, 200),
    )
  }
}
