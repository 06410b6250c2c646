import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  json,
  Name,
  Org,
  OrgParams,
  Revised,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as orgs from '../services/orgs.ts'

const tags = ['Organizations']
const OrgUpdate = z
  .object({
    name: Name.optional(),
    managementEmail: z.email().nullable().optional(),
    logoUrl: z.url().max(2000).nullable().optional(),
    /** Seed 003's org settings: full name, description, website, location. */
    fullName: z.string().trim().max(200).optional(),
    description: z.string().trim().max(2000).optional(),
    website: z.url().max(2000).nullable().optional(),
    location: z.string().trim().max(200).optional(),
    singleRoleTeams: z.boolean().optional(),
    resourceAdminsGrantTeamAccess: z.boolean().optional(),
    parentId: Uuid.nullable().optional(),
    /** Needs org.update_billing (not org.update_settings); audited as billing. */
    billingEmail: z.email().max(320).nullable().optional(),
  })
  .strict()

/** Organizations: create, read, settings, delete, transfer. */
export const orgRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs',
      tags,
      operationId: 'listOrgs',
      summary: 'List organizations',
      description: 'Organizations you can see',
      responses: { 200: json(z.object({ items: z.array(Org) })), ...errorResponses },
    }),
    async (c) => c.json({ items: await orgs.listOrgs(ctx, c.get('actor')) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs',
      tags,
      operationId: 'createOrg',
      summary: 'Create an organization',
      description: 'Create an organization (or a sub-organization with parentId)',
      request: { ...body(z.object({ name: Name, parentId: Uuid.nullable().optional() }).strict()) },
      responses: { 201: json(withRevision(Org.shape), 'Created'), ...errorResponses },
    }),
    async (c) =>
      c.json(written(await orgs.createOrg(ctx, c.get('actor'), c.get('meta'), c.req.valid('json'))), 201),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}',
      tags,
      operationId: 'getOrg',
      summary: 'Get an organization',
      description: 'An organization and its general settings',
      request: { params: OrgParams },
      responses: { 200: json(Org), ...errorResponses },
    }),
    async (c) => c.json(await orgs.getOrg(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}',
      tags,
      operationId: 'updateOrg',
      summary: 'Update an organization',
      description: "Change the organization's general settings",
      request: { params: OrgParams, ...body(OrgUpdate) },
      responses: { 200: json(withRevision(Org.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await orgs.updateOrg(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}',
      tags,
      operationId: 'deleteOrg',
      summary: 'Delete an organization',
      description: 'Delete an organization (refused while it has sub-organizations)',
      request: { params: OrgParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const { revision } = await orgs.deleteOrg(ctx, c.get('actor'), c.get('meta'), orgId)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/transfer',
      tags,
      operationId: 'transferOrg',
      summary: 'Transfer an organization',
      description: 'Transfer ownership to another active member',
      request: { params: OrgParams, ...body(z.object({ userId: Uuid }).strict()) },
      responses: { 200: json(withRevision(Org.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const { userId } = c.req.valid('json')
      return c.json(written(await orgs.transferOrg(ctx, c.get('actor'), c.get('meta'), orgId, userId)), 200)
    },
  )
}
