import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  IdParams,
  json,
  OrgParams,
  Resource,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import { orgImpact } from '../services/org-impact.ts'
import { resourceImpact, transferResource } from '../services/resource-transfer.ts'

const TypeCount = z.object({ type: z.string(), count: z.number().int() })

const ResourceImpact = z
  .object({
    resource: Resource,
    below: z
      .array(TypeCount)
      .openapi({ description: 'The resources below it, by type: deleted or moved with it' }),
    people: z.number().int().openapi({ description: 'People who may read it now' }),
    peopleLosingAccess: z.number().int().openapi({
      description: 'Of those, the ones who no longer can once it is deleted (or moved to toOrgId)',
    }),
    apiKeysLosingAccess: z.number().int(),
    roleGrants: z.number().int().openapi({ description: 'Role grants on it and below it that are removed' }),
    overrides: z.number().int(),
    invitations: z.number().int().openapi({ description: 'Open invitations to it that are withdrawn' }),
  })
  .openapi('ResourceImpact')

const OrgImpact = z
  .object({
    org: z.object({ id: Uuid, name: z.string() }),
    members: z.number().int(),
    externals: z
      .number()
      .int()
      .openapi({ description: 'People outside it holding a role on one of its resources' }),
    apiKeys: z.number().int().openapi({ description: 'Live API keys that reach it' }),
    resources: z.array(TypeCount),
    subOrgs: z.number().int().openapi({ description: 'A delete is refused while there are any' }),
    invitations: z.number().int(),
  })
  .openapi('OrgImpact')

/**
 * What a delete or a transfer would take with it (the console's confirmations name it), and moving a
 * resource to another org or parent (issue 26.1).
 */
export const entityChangeRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/resources/{id}/impact',
      tags: ['Resources'],
      operationId: 'getResourceImpact',
      summary: 'What deleting or transferring a resource affects',
      description:
        'Counts what goes with it and who loses access: on delete, or on a transfer to `toOrgId` (access ' +
        "there comes from that org's roles only). For those who may delete or transfer it.",
      request: { params: IdParams, query: z.object({ toOrgId: Uuid.optional() }) },
      responses: { 200: json(ResourceImpact), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { toOrgId } = c.req.valid('query')
      return c.json(await resourceImpact(ctx, c.get('actor'), orgId, id, toOrgId), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/resources/{id}/transfer',
      tags: ['Resources'],
      operationId: 'transferResource',
      summary: 'Transfer a resource',
      description:
        'Move a resource and everything below it to another organization (an app), or under another parent ' +
        "(a channel to another app). Needs the type's transfer permission here (`<type>.transfer`, else its " +
        'delete permission) and its create permission where it lands. Moving to another org removes the role ' +
        'grants, overrides and open invitations on the moved resources; both orgs audit `resource.transferred`.',
      request: {
        params: IdParams,
        ...body(z.object({ toOrgId: Uuid, parentId: Uuid.nullable().optional() }).strict()),
      },
      responses: { 200: json(withRevision(Resource.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(await transferResource(ctx, c.get('actor'), c.get('meta'), orgId, id, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/impact',
      tags: ['Organizations'],
      operationId: 'getOrgImpact',
      summary: 'What deleting an organization affects',
      description:
        'Its members, outside collaborators, API keys, resources, sub-organizations and invitations, counted',
      request: { params: OrgParams },
      responses: { 200: json(OrgImpact), ...errorResponses },
    }),
    async (c) => c.json(await orgImpact(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
}
