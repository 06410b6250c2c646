import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  IdParams,
  json,
  Name,
  OrgParams,
  Revised,
  rateLimited,
  Uuid,
} from '../schemas.ts'
import * as invitations from '../services/invitations.ts'

const Invitation = z
  .object({
    id: Uuid,
    orgId: Uuid,
    email: z.string(),
    role: z.string(),
    roles: z.array(z.string()),
    resourceId: Uuid.nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    status: z.enum(['pending', 'expired']),
    expiresAt: z.string(),
    createdAt: z.string(),
  })
  .openapi('Invitation')
const TokenParams = z.object({
  token: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'token', in: 'path' } }),
})

/** Invitations (seed 001's flow): invite, resend, revoke, and the link's page and acceptance. */
export const invitationRoutes: RouteModule = (app, ctx) => {
  const tags = ['Invitations']
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/invitations',
      tags,
      operationId: 'listInvitations',
      summary: 'List invitations',
      description: 'Invitations not yet accepted: pending or expired',
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Invitation) })), ...errorResponses },
    }),
    async (c) =>
      c.json(
        { items: await invitations.listInvitations(ctx, c.get('actor'), c.req.valid('param').orgId) },
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/invitations',
      tags,
      operationId: 'createInvitation',
      summary: 'Invite someone',
      description: 'Invite by email with org roles, or with a role on one resource (captcha for people)',
      request: {
        params: OrgParams,
        ...body(
          z
            .object({
              email: z.email().max(320),
              role: z.string().min(1).max(64),
              roles: z.array(z.string().min(1).max(64)).max(30).optional(),
              resourceId: Uuid.optional(),
              firstName: Name.optional(),
              lastName: Name.optional(),
              captcha: z.string().max(4000).optional(),
            })
            .strict(),
        ),
      },
      responses: {
        201: json(Invitation.extend({ revision: z.number() }), 'Created'),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) =>
      c.json(
        await invitations.invite(
          ctx,
          c.get('actor'),
          c.get('meta'),
          c.req.valid('param').orgId,
          c.req.valid('json'),
        ),
        201,
      ),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/invitations/{id}/resend',
      tags,
      operationId: 'resendInvitation',
      summary: 'Resend an invitation',
      description: 'Resend with a new link (the old one stops working)',
      request: { params: IdParams },
      responses: {
        200: json(Invitation.extend({ revision: z.number() })),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(await invitations.resend(ctx, c.get('actor'), c.get('meta'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/invitations/{id}',
      tags,
      operationId: 'revokeInvitation',
      summary: 'Revoke an invitation',
      description: 'Revoke a pending invitation',
      request: { params: IdParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      const { revision } = await invitations.revoke(ctx, c.get('actor'), c.get('meta'), orgId, id)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/invitations/{token}',
      tags,
      operationId: 'getInvitation',
      summary: 'Open an invitation link',
      description: 'What an invitation link offers (public: the link is the secret)',
      request: { params: TokenParams },
      responses: {
        200: json(
          z.object({
            orgId: Uuid,
            orgName: z.string(),
            email: z.string(),
            role: z.string(),
            roles: z.array(z.string()),
            roleLabels: z
              .array(z.string())
              .openapi({ description: "Each role's label, as the model or the org names it" }),
            resourceId: Uuid.nullable(),
            resourceName: z.string().nullable(),
            firstName: z.string().nullable(),
            lastName: z.string().nullable(),
            expiresAt: z.string(),
          }),
        ),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) =>
      c.json(await invitations.describeInvitation(ctx, c.get('meta'), c.req.valid('param').token), 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/invitations/{token}/accept',
      tags,
      operationId: 'acceptInvitation',
      summary: 'Accept an invitation',
      description: 'Accept as the signed-in invited user',
      request: { params: TokenParams },
      responses: {
        200: json(
          z.object({
            orgId: Uuid,
            role: z.string(),
            roles: z.array(z.string()),
            resourceId: Uuid.nullable(),
            revision: z.number(),
          }),
        ),
        ...errorResponses,
        ...rateLimited,
      },
    }),
    async (c) =>
      c.json(await invitations.accept(ctx, c.get('actor'), c.get('meta'), c.req.valid('param').token), 200),
  )
}
