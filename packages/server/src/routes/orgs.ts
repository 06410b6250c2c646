import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  json,
  Member,
  Name,
  Org,
  OrgParams,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as members from '../services/members.ts'
import * as orgs from '../services/orgs.ts'

const tags = ['Organizations']
const MemberParams = OrgParams.extend({ userId: Uuid.openapi({ param: { name: 'userId', in: 'path' } }) })
const RoleList = z.object({ roles: z.array(z.string().min(1)).min(1).max(30) }).strict()

export const orgRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs',
      tags,
      summary: 'Organizations you can see',
      responses: { 200: json(z.object({ items: z.array(Org) })), ...errorResponses },
    }),
    async (c) => c.json({ items: await orgs.listOrgs(ctx, c.get('actor')) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs',
      tags,
      summary: 'Create an organization (or a sub-organization with parentId)',
      request: { ...body(z.object({ name: Name, parentId: Uuid.nullable().optional() }).strict()) },
      responses: { 201: json(withRevision(Org.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(await orgs.createOrg(ctx, c.get('actor'), c.get('meta'), c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}',
      tags,
      summary: 'An organization',
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
      summary: "Change the organization's general settings",
      request: {
        params: OrgParams,
        ...body(
          z
            .object({
              name: Name.optional(),
              managementEmail: z.email().nullable().optional(),
              logoUrl: z.url().max(2000).nullable().optional(),
              singleRoleTeams: z.boolean().optional(),
              resourceAdminsGrantTeamAccess: z.boolean().optional(),
              parentId: Uuid.nullable().optional(),
              /** Needs org.update_billing (not org.update_settings); audited as billing. */
              billingEmail: z.email().max(320).nullable().optional(),
            })
            .strict(),
        ),
      },
      responses: { 200: json(withRevision(Org.shape)), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(
          await orgs.updateOrg(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}',
      tags,
      summary: 'Delete an organization',
      request: { params: OrgParams },
      responses: { 200: json(z.object({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { revision } = await orgs.deleteOrg(
        ctx,
        c.get('actor'),
        c.get('meta'),
        c.req.valid('param').orgId,
      )
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/transfer',
      tags,
      summary: 'Transfer ownership to another active member',
      request: { params: OrgParams, ...body(z.object({ userId: Uuid }).strict()) },
      responses: { 200: json(withRevision(Org.shape)), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(
          await orgs.transferOrg(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json').userId,
          ),
        ),
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/members',
      tags: ['Members'],
      summary: 'Members, sorted by role priority',
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Member) })), ...errorResponses },
    }),
    async (c) =>
      c.json({ items: await members.listMembers(ctx, c.get('actor'), c.req.valid('param').orgId) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/members',
      tags: ['Members'],
      summary: 'Add an existing user as a member (platform tokens)',
      request: {
        params: OrgParams,
        ...body(
          z.object({ userId: Uuid, roles: z.array(z.string().min(1)).min(1).max(30).optional() }).strict(),
        ),
      },
      responses: {
        201: json(z.object({ userId: Uuid, roles: z.array(z.string()), revision: z.number() }), 'Created'),
        ...errorResponses,
      },
    }),
    async (c) => {
      return c.json(
        written(
          await members.addMember(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/members/{userId}',
      tags: ['Members'],
      summary: "Set a member's organization roles",
      request: { params: MemberParams, ...body(RoleList) },
      responses: {
        200: json(
          z.object({
            userId: Uuid,
            roles: z.array(z.string()),
            status: z.enum(['active', 'pending']),
            revision: z.number(),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, userId } = c.req.valid('param')
      return c.json(
        written(
          await members.updateMemberRoles(
            ctx,
            c.get('actor'),
            c.get('meta'),
            orgId,
            userId,
            c.req.valid('json').roles,
          ),
        ),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/members/{userId}',
      tags: ['Members'],
      summary: 'Remove a member (or leave)',
      request: { params: MemberParams },
      responses: { 200: json(z.object({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, userId } = c.req.valid('param')
      const { revision } = await members.removeMember(ctx, c.get('actor'), c.get('meta'), orgId, userId)
      return c.json({ revision }, 200)
    },
  )
}
