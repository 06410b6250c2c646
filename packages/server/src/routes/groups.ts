import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  Group,
  IdParams,
  json,
  Name,
  OrgParams,
  Revised,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as groups from '../services/groups.ts'

const tags = ['Groups']
const GroupMemberParams = IdParams.extend({ userId: Uuid.openapi({ param: { name: 'userId', in: 'path' } }) })
const GroupInput = z.object({
  name: Name,
  description: z.string().max(1000).optional(),
  role: z.string().min(1).nullable().optional(),
})
const GroupDetail = Group.extend({
  members: z.array(
    z.object({
      userId: Uuid,
      email: z.string(),
      name: z.string(),
      memberRole: z.string().nullable(),
      memberRoleSuspended: z.boolean().openapi({
        description: "Single-role teams are on: memberRole is kept but unused, and can't be set (seed 003)",
      }),
      effectiveRole: z
        .string()
        .nullable()
        .openapi({ description: 'The level the member has in the team now' }),
    }),
  ),
})

/** Groups (teams) and their members. */
export const groupRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/groups',
      tags,
      operationId: 'listGroups',
      summary: 'List groups',
      description: "The organization's groups",
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Group) })), ...errorResponses },
    }),
    async (c) =>
      c.json({ items: await groups.listGroups(ctx, c.get('actor'), c.req.valid('param').orgId) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/groups',
      tags,
      operationId: 'createGroup',
      summary: 'Create a group',
      description: 'Create a group, with a role at the org or none',
      request: { params: OrgParams, ...body(GroupInput.strict()) },
      responses: { 201: json(withRevision(Group.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await groups.createGroup(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/groups/{id}',
      tags,
      operationId: 'getGroup',
      summary: 'Get a group',
      description: 'A group with its members',
      request: { params: IdParams },
      responses: { 200: json(GroupDetail), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await groups.getGroup(ctx, c.get('actor'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/groups/{id}',
      tags,
      operationId: 'updateGroup',
      summary: 'Edit a group',
      description: "Change a group's name, description or role",
      request: { params: IdParams, ...body(GroupInput.partial().strict()) },
      responses: { 200: json(withRevision(Group.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(await groups.updateGroup(ctx, c.get('actor'), c.get('meta'), orgId, id, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/groups/{id}',
      tags,
      operationId: 'deleteGroup',
      summary: 'Delete a group',
      description: 'Delete a group (built-in groups stay)',
      request: { params: IdParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await groups.deleteGroup(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/orgs/{orgId}/groups/{id}/members/{userId}',
      tags,
      operationId: 'setGroupMember',
      summary: 'Add or update a group member',
      description: 'Add a member to a group, or set their role in it',
      request: {
        params: GroupMemberParams,
        body: {
          content: {
            'application/json': {
              schema: z.object({ memberRole: z.string().min(1).nullable().optional() }).strict(),
            },
          },
          required: false,
        },
      },
      responses: {
        200: json(
          z.object({ groupId: Uuid, userId: Uuid, memberRole: z.string().nullable(), revision: z.number() }),
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, id, userId } = c.req.valid('param')
      const input = (c.req.valid('json') as { memberRole?: string | null } | undefined) ?? {}
      return c.json(
        written(await groups.putGroupMember(ctx, c.get('actor'), c.get('meta'), orgId, id, userId, input)),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/groups/{id}/members/{userId}',
      tags,
      operationId: 'removeGroupMember',
      summary: 'Remove a group member',
      description: 'Remove a member from a group',
      request: { params: GroupMemberParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id, userId } = c.req.valid('param')
      const meta = c.get('meta')
      const { revision } = await groups.removeGroupMember(ctx, c.get('actor'), meta, orgId, id, userId)
      return c.json({ revision }, 200)
    },
  )
}
