import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, OrgParams, Revision } from '../schemas.ts'
import { applyOrgConfig, exportConfig, planOrgConfig } from '../services/config/apply.ts'
import { ConfigChange, ConfigDocument } from '../services/config/document.ts'

const tags = ['Config as code']
const Changes = z.object({ changes: z.array(ConfigChange) })

/** Config as code (issue 23.4, docs/config-as-code.md): export an org, plan a file, apply it. */
export const configRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/config',
      tags,
      operationId: 'exportOrgConfig',
      summary: 'Export the org as config',
      description:
        'Groups, custom roles, bindings, overrides and the security policy, by name (no ids, no secrets)',
      request: { params: OrgParams },
      responses: { 200: json(ConfigDocument), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(await exportConfig(ctx, c.get('actor'), orgId), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/config/plan',
      tags,
      operationId: 'planOrgConfig',
      summary: 'Plan a config',
      description:
        'What applying this document would change, every step checked by its use case and rolled back; a name the org or the model lacks fails with every such error (details.errors)',
      request: { params: OrgParams, ...body(ConfigDocument) },
      responses: { 200: json(Changes), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(await planOrgConfig(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json')), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/config/apply',
      tags,
      operationId: 'applyOrgConfig',
      summary: 'Apply a config',
      description:
        'Make the org what the document says, in one transaction with each change audited; a section left out is left as it is; applying twice changes nothing the second time',
      request: { params: OrgParams, ...body(ConfigDocument) },
      responses: { 200: json(Changes.extend({ revision: Revision })), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const { result, revision } = await applyOrgConfig(
        ctx,
        c.get('actor'),
        c.get('meta'),
        orgId,
        c.req.valid('json'),
      )
      return c.json({ ...result, revision }, 200)
    },
  )
}
