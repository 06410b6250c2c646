import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import * as check from '../hot/check.ts'
import {
  body,
  errorResponses,
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
  /** A request and its answer, for the reference (the document's linter checks them against the schemas). */
  example: { request: z.input<I>; response: unknown }
  run(ctx: Ctx, actor: Actor, input: z.output<I>): Promise<object>
}

const APP = { type: 'app', id: '3f2a9c4e-8b1d-4e6f-a7c2-5d9e0b1f4a68' }
const CHANNEL = { type: 'channel', id: '9b4e1d7a-2c3f-4a5b-8d6e-0f1a2b3c4d5e' }
const BOB = { type: 'user', id: '5d2c8a41-3f0e-4b7a-8e19-6c0d4f2b9e37' } as const
const DENIED = {
  kind: 'override',
  resourceId: CHANNEL.id,
  principal: { type: 'user', id: BOB.id },
  effect: 'deny',
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
    example: {
      request: { subject: BOB, permission: 'app.upload_bundle', resource: APP, atLeastRevision: 1042 },
      response: { allowed: true, reason: 'role', revision: 1042 },
    },
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
    example: {
      request: {
        subject: BOB,
        checks: [
          { permission: 'app.upload_bundle', resource: APP },
          { permission: 'bundle.delete', resource: APP },
        ],
      },
      response: {
        results: [
          { allowed: true, reason: 'role' },
          { allowed: false, reason: 'no_grant' },
        ],
        revision: 1042,
      },
    },
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
    example: {
      request: { subject: BOB, permission: 'app.upload_bundle', type: 'app' },
      response: { ids: [APP.id], revision: 1042 },
    },
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
    example: {
      request: { permission: 'app.upload_bundle', resource: APP },
      response: { users: [BOB.id], revision: 1042 },
    },
    run: check.listPrincipals,
  }),
  route({
    path: '/v1/explain',
    operationId: 'explainPermission',
    summary: 'Explain a decision',
    description: 'Why the decision is what it is: the binding, override or policy that decided',
    input: CheckInput.strict(),
    output: z.record(z.string(), z.unknown()),
    example: {
      request: { subject: BOB, permission: 'channel.promote_bundle', resource: CHANNEL },
      response: {
        allowed: false,
        reason: 'override_deny',
        subject: BOB,
        permission: 'channel.promote_bundle',
        target: CHANNEL,
        decidedBy: DENIED,
        facts: [DENIED],
        revision: 1042,
      },
    },
    run: check.explain,
  }),
]

export const checkRoutes: RouteModule = (app, ctx) => {
  for (const {
    path,
    operationId,
    summary,
    description,
    input,
    output,
    example,
    run,
  } of authorizationRoutes) {
    const request = body(input)
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags: ['Authorization'],
        operationId,
        summary,
        description,
        request: {
          body: {
            ...request.body,
            content: { 'application/json': { schema: input, example: example.request } },
          },
        },
        responses: {
          200: {
            description: 'OK',
            content: { 'application/json': { schema: output, example: example.response } },
          },
          ...errorResponses,
        },
      }),
      async (c) =>
        c.json((await run(ctx, c.get('actor'), c.req.valid('json'))) as Record<string, unknown>, 200),
    )
  }
}
