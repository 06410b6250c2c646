import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  Binding,
  body,
  errorResponses,
  Group,
  json,
  Name,
  OrgParams,
  Principal,
  Role,
  RoleKey,
  Uuid,
  withRevision,
  written,
} from '../schemas.ts'
import * as bindings from '../services/bindings.ts'
import * as groups from '../services/groups.ts'
import * as roles from '../services/roles.ts'

const Revision = z.object({ revision: z.number() })
const IdParams = OrgParams.extend({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })
const KeyParams = OrgParams.extend({ key: RoleKey.openapi({ param: { name: 'key', in: 'path' } }) })
const GroupMemberParams = IdParams.extend({ userId: Uuid.openapi({ param: { name: 'userId', in: 'path' } }) })

/** Bindings, groups and roles: who holds what, where. */
export const accessRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/model',
      tags: ['Roles'],
      summary: 'The authorization model in force',
      responses: { 200: json(z.record(z.string(), z.unknown())), ...errorResponses },
    }),
    (c) => c.json(ctx.model as unknown as Record<string, unknown>, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/roles',
      tags: ['Roles'],
      summary: 'Built-in and custom roles',
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Role) })), ...errorResponses },
    }),
    async (c) =>
      c.json({ items: await roles.listRoles(ctx, c.get('actor'), c.req.valid('param').orgId) }, 200),
  )
  const RoleInput = z.object({
    key: RoleKey,
    scope: z.string().min(1),
    slot: z.string().min(1),
    label: Name,
    description: z.string().max(1000).optional(),
    permissions: z.array(z.string().min(1)).max(500),
    priority: z.number().int().min(0).max(1_000_000),
  })
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/roles',
      tags: ['Roles'],
      summary: 'Create a custom role',
      request: { params: OrgParams, ...body(RoleInput.strict()) },
      responses: { 201: json(withRevision(Role.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(
          await roles.createRole(
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
      path: '/v1/orgs/{orgId}/roles/{key}',
      tags: ['Roles'],
      summary: 'Edit a custom role',
      request: { params: KeyParams, ...body(RoleInput.omit({ key: true, scope: true }).partial().strict()) },
      responses: { 200: json(withRevision(Role.shape)), ...errorResponses },
    }),
    async (c) => {
      const { orgId, key } = c.req.valid('param')
      return c.json(
        written(await roles.updateRole(ctx, c.get('actor'), c.get('meta'), orgId, key, c.req.valid('json'))),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/roles/{key}',
      tags: ['Roles'],
      summary: 'Delete a custom role; in use, say what happens to its bindings',
      request: {
        params: KeyParams,
        query: z.object({ bindings: z.enum(['delete', 'reassign']).optional(), to: RoleKey.optional() }),
      },
      responses: { 200: json(Revision), ...errorResponses },
    }),
    async (c) => {
      const { orgId, key } = c.req.valid('param')
      const { revision } = await roles.deleteRole(
        ctx,
        c.get('actor'),
        c.get('meta'),
        orgId,
        key,
        c.req.valid('query'),
      )
      return c.json({ revision }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/bindings',
      tags: ['Bindings'],
      summary: 'Role bindings in the organization',
      request: {
        params: OrgParams,
        query: z.object({ userId: Uuid.optional(), groupId: Uuid.optional(), resourceId: Uuid.optional() }),
      },
      responses: { 200: json(z.object({ items: z.array(Binding) })), ...errorResponses },
    }),
    async (c) =>
      c.json(
        {
          items: await bindings.listBindings(
            ctx,
            c.get('actor'),
            c.req.valid('param').orgId,
            c.req.valid('query'),
          ),
        },
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/bindings',
      tags: ['Bindings'],
      summary: 'Grant a role to a user or group, at the org or on a resource',
      request: {
        params: OrgParams,
        ...body(
          z
            .object({
              principal: Principal,
              role: z.string().min(1),
              resourceId: Uuid.nullable().optional(),
              expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
              reason: z.string().max(500).nullable().optional(),
            })
            .strict(),
        ),
      },
      responses: { 201: json(withRevision(Binding.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(
          await bindings.createBinding(
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
      method: 'delete',
      path: '/v1/orgs/{orgId}/bindings/{id}',
      tags: ['Bindings'],
      summary: 'Revoke a binding',
      request: { params: IdParams },
      responses: { 200: json(Revision), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await bindings.deleteBinding(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )

  const GroupInput = z.object({
    name: Name,
    description: z.string().max(1000).optional(),
    role: z.string().min(1).nullable().optional(),
  })
  const GroupDetail = Group.extend({
    members: z.array(
      z.object({ userId: Uuid, email: z.string(), name: z.string(), memberRole: z.string().nullable() }),
    ),
  })
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/groups',
      tags: ['Groups'],
      summary: 'Groups',
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
      tags: ['Groups'],
      summary: 'Create a group',
      request: { params: OrgParams, ...body(GroupInput.strict()) },
      responses: { 201: json(withRevision(Group.shape), 'Created'), ...errorResponses },
    }),
    async (c) => {
      return c.json(
        written(
          await groups.createGroup(
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
      method: 'get',
      path: '/v1/orgs/{orgId}/groups/{id}',
      tags: ['Groups'],
      summary: 'A group with its members',
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
      tags: ['Groups'],
      summary: 'Edit a group',
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
      tags: ['Groups'],
      summary: 'Delete a group',
      request: { params: IdParams },
      responses: { 200: json(Revision), ...errorResponses },
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
      tags: ['Groups'],
      summary: 'Add a member to a group, or set their role in it',
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
      tags: ['Groups'],
      summary: 'Remove a member from a group',
      request: { params: GroupMemberParams },
      responses: { 200: json(Revision), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id, userId } = c.req.valid('param')
      const { revision } = await groups.removeGroupMember(
        ctx,
        c.get('actor'),
        c.get('meta'),
        orgId,
        id,
        userId,
      )
      return c.json({ revision }, 200)
    },
  )
}
