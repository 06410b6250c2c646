import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import {
  body,
  errorResponses,
  json,
  OrgParams,
  Problem,
  Revised,
  RoleKey,
  rateLimited,
  Uuid,
  written,
} from '../schemas.ts'
import * as joining from '../services/domain-joining.ts'
import * as domains from '../services/domains.ts'

const tags = ['Domains']
const JoinMode = z.enum(['off', 'suggest', 'auto']).openapi('DomainJoinMode', {
  description:
    'off: nobody joins through it; suggest: people with a verified email there see the org and may join; auto: they join at email verification and sign-in',
})
const Domain = z
  .object({
    id: Uuid,
    domain: z.string().openapi({ description: 'Lower case, IDNA labels as punycode' }),
    unicode: z.string().openapi({ description: 'The same name as people read it' }),
    status: z.enum(['pending', 'verified']),
    verifiedAt: z.string().nullable(),
    txtRecord: z
      .object({ name: z.string(), value: z.string() })
      .openapi({ description: 'Publish a TXT record with this value at this name, then verify' }),
    joinMode: JoinMode,
    defaultRole: z
      .string()
      .nullable()
      .openapi({ description: "The role joiners get; null: the model's default" }),
    createdAt: z.string(),
  })
  .openapi('Domain')
const DomainParams = OrgParams.extend({
  domainId: Uuid.openapi({ param: { name: 'domainId', in: 'path' } }),
})
const SuggestedOrg = z
  .object({ orgId: Uuid, name: z.string(), domain: z.string(), joinMode: z.enum(['suggest', 'auto']) })
  .openapi('SuggestedOrg')
const unavailable = {
  503: {
    description: 'The DNS resolver did not answer (DNS_UNAVAILABLE): nothing was decided, try again',
    content: { 'application/problem+json': { schema: Problem } },
  },
} as const

/** An org's verified domains, and joining an org through one (issue 21.2, docs/domains.md). */
export const domainRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/domains',
      tags,
      operationId: 'addDomain',
      summary: 'Add a domain',
      description:
        'Claims a domain for the org (pending until verified): publish `txtRecord`, then verify. Needs org.manage_security.',
      request: { params: OrgParams, ...body(z.object({ domain: z.string().max(1024) }).strict()) },
      responses: { 201: json(Domain.extend({ revision: z.number() }), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const outcome = await domains.addDomain(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))
      return c.json(written(outcome), 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/domains',
      tags,
      operationId: 'listDomains',
      summary: 'List domains',
      description: "The org's domains, pending and verified, by name, each with its TXT challenge",
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Domain) })), ...errorResponses },
    }),
    async (c) => {
      const items = await domains.listDomains(ctx, c.get('actor'), c.req.valid('param').orgId)
      return c.json({ items }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/domains/{domainId}/verify',
      tags,
      operationId: 'verifyDomain',
      summary: 'Verify a domain',
      description:
        'Looks up the TXT record: verified, or DOMAIN_RECORD_MISSING / DOMAIN_RECORD_MISMATCH (details.found) / DOMAIN_TAKEN / DNS_UNAVAILABLE',
      request: { params: DomainParams },
      responses: {
        200: json(Domain.extend({ revision: z.number() })),
        ...errorResponses,
        ...rateLimited,
        ...unavailable,
      },
    }),
    async (c) => {
      const { orgId, domainId } = c.req.valid('param')
      const outcome = await domains.verifyDomain(ctx, c.get('actor'), c.get('meta'), orgId, domainId)
      return c.json(written(outcome), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/domains/{domainId}',
      tags,
      operationId: 'updateDomain',
      summary: 'Set who joins through a domain',
      description:
        'The join mode and default role of a verified domain (DOMAIN_NOT_VERIFIED before); no owner role',
      request: {
        params: DomainParams,
        ...body(
          z.object({ joinMode: JoinMode.optional(), defaultRole: RoleKey.nullable().optional() }).strict(),
        ),
      },
      responses: { 200: json(Domain.extend({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, domainId } = c.req.valid('param')
      const outcome = await domains.updateDomain(
        ctx,
        c.get('actor'),
        c.get('meta'),
        orgId,
        domainId,
        c.req.valid('json'),
      )
      return c.json(written(outcome), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/orgs/{orgId}/domains/{domainId}',
      tags,
      operationId: 'deleteDomain',
      summary: 'Remove a domain',
      description: 'Removes the claim: another org may verify the domain; members who joined through it stay',
      request: { params: DomainParams },
      responses: { 200: json(Revised), ...errorResponses },
    }),
    async (c) => {
      const { orgId, domainId } = c.req.valid('param')
      const { revision } = await domains.deleteDomain(ctx, c.get('actor'), c.get('meta'), orgId, domainId)
      return c.json({ revision }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/suggested-orgs',
      tags,
      operationId: 'listSuggestedOrgs',
      summary: 'List orgs to join',
      description:
        "Orgs the caller may join because they verified their email's domain (the caller's email verified)",
      responses: { 200: json(z.object({ items: z.array(SuggestedOrg) })), ...errorResponses },
    }),
    async (c) => c.json({ items: await joining.suggestedOrgs(ctx, c.get('actor')) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/join',
      tags,
      operationId: 'joinOrgByDomain',
      summary: 'Join a suggested org',
      description:
        'Joins an org listed in /v1/me/suggested-orgs, with its domain default role; others are ORG_NOT_FOUND',
      request: { params: OrgParams },
      responses: {
        200: json(z.object({ orgId: Uuid, roles: z.array(z.string()), revision: z.number() })),
        ...errorResponses,
      },
    }),
    async (c) => {
      const outcome = await joining.joinThroughDomain(
        ctx,
        c.get('actor'),
        c.get('meta'),
        c.req.valid('param').orgId,
      )
      return c.json(written(outcome), 200)
    },
  )
}
