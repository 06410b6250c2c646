import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, Member, OrgParams, Revised, Uuid, written } from '../schemas.ts'
import * as members from '../services/members.ts'

const tags = ['Members']
const MemberParams = OrgParams.extend({ userId: Uuid.openapi({ param: { name: 'userId', in: 'path' } }) })
const RoleList = z.object({ roles: z.array(z.string().min(1)).min(1).max(30) }).strict()

/** An organization's members and their org roles. */
export const memberRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/members',
      tags,
      operationId: 'listMembers',
      summary: 'List members',
      description: 'Members, sorted by role priority',
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
      tags,
      operationId: 'addMember',
      summary: 'Add a member',
      description: 'Add an existing user as a member (platform tokens)',
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
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await members.addMember(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/members/{userId}',
      tags,
      operationId: 'setMemberRoles',
      summary: "Set a member's roles",
      description: "Set a member's organization roles",
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
      const { roles } = c.req.valid('json')
      return c.json(
        written(await members.updateMemberRoles(ctx, c.get('actor'), c.get('meta'), orgId, userId, roles)),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/members/{userId}',
      tags,
      operationId: 'removeMember',
      summary: 'Remove a member',
      description: 'Remove a member (or leave)',
      request: { params: MemberParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, userId } = c.req.valid('param')
      const { revision } = await members.removeMember(ctx, c.get('actor'), c.get('meta'), orgId, userId)
      return c.json({ revision }, 200)
    },
  )
}
