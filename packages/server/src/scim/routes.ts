import { OrgkitError } from '@orgkit/core'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Logger } from 'pino'
import type { App } from '../env.ts'
import { STATUS } from '../errors.ts'
import { bodyTooLarge, MAX_BODY_BYTES } from '../request.ts'
import type { Ctx, DirectoryActor } from '../services/context.ts'
import * as groupsService from '../services/scim-groups.ts'
import { authenticateDirectory, scimBaseUrl } from '../services/scim-tokens.ts'
import * as usersService from '../services/scim-users.ts'
import { assertWellFormedBody } from '../well-formed.ts'
import { resourceType, schema, serviceProviderConfig } from './discovery.ts'
import { patchOperations } from './patch.ts'
import {
  GROUP_FILTERS,
  invalid,
  listResponse,
  parseFilter,
  parsePage,
  SCHEMAS,
  SCIM_CONTENT_TYPE,
  scimErrorBody,
  USER_FILTERS,
} from './protocol.ts'
import { groupResource, groupState, patchGroup, patchUser, userInput, userResource } from './resources.ts'

/**
 * SCIM 2.0 (RFC 7644) for an org's directory, at /scim/v2/orgs/{orgId}: outside /v1, with its own
 * credential (the org's directory tokens), media type (`application/scim+json`; `application/json` taken
 * too) and error schema. Every answer, errors included, is SCIM's; the use cases are services/scim-*.ts.
 */
const BASE = '/scim/v2/orgs/:orgId'

type Handler = (c: Context, dir: DirectoryActor, base: string) => Promise<Response>

const reply = (c: Context, body: unknown, status: 200 | 201 = 200, headers: Record<string, string> = {}) =>
  c.body(JSON.stringify(body), status, { 'content-type': SCIM_CONTENT_TYPE, ...headers })

/** The request's JSON body: SCIM's or plain JSON media type (415 otherwise), parsed (400 invalidSyntax). */
async function readBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/(scim\+)?json\b/i.test(type))
    throw new OrgkitError('UNSUPPORTED_MEDIA_TYPE', `send ${SCIM_CONTENT_TYPE} (or application/json)`)
  const bytes = new Uint8Array(await c.req.arrayBuffer())
  // Text that can't be stored as sent (a NUL, a lone surrogate) is refused before anything reads it.
  assertWellFormedBody(bytes)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw invalid('invalidSyntax', 'the body is not JSON')
  }
}

export function mountScim(app: App, ctx: Ctx, logger: Logger): void {
  const fail = (c: Context, error: unknown) => {
    const known = error instanceof OrgkitError ? error : null
    if (!known) logger.error({ err: error, requestId: c.get('requestId') }, 'unhandled error (scim)')
    const status = known ? STATUS[known.kind] : 500
    const body = known
      ? scimErrorBody(known, status)
      : { schemas: [SCHEMAS.error], status: '500', detail: 'something went wrong' }
    const headers: Record<string, string> = { 'content-type': SCIM_CONTENT_TYPE }
    if (status === 401) headers['www-authenticate'] = 'Bearer realm="scim"'
    return c.body(JSON.stringify(body), status, headers)
  }
  const route = (method: string, path: string, handler: Handler) =>
    app.on(method, `${BASE}${path}`, async (c) => {
      try {
        const orgId = c.req.param('orgId') ?? ''
        const dir = await authenticateDirectory(ctx, c.req.header('authorization'), orgId)
        return await handler(c, dir, scimBaseUrl(ctx, orgId))
      } catch (error) {
        return fail(c, error)
      }
    })

  app.use(
    '/scim/v2/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => fail(c, bodyTooLarge()),
    }),
  )

  // Discovery (RFC 7644 section 4)
  route('GET', '/ServiceProviderConfig', async (c, _dir, base) => reply(c, serviceProviderConfig(base)))
  route('GET', '/ResourceTypes', async (c, _dir, base) => {
    const all = resourceType(base) as unknown[]
    return reply(c, listResponse(all, all.length, 1))
  })
  route('GET', '/ResourceTypes/:id', async (c, _dir, base) => {
    const found = resourceType(base, c.req.param('id'))
    if (!found) throw new OrgkitError('SCIM_RESOURCE_NOT_FOUND', 'no such resource type')
    return reply(c, found)
  })
  route('GET', '/Schemas', async (c, _dir, base) => {
    const all = schema(base) as unknown[]
    return reply(c, listResponse(all, all.length, 1))
  })
  route('GET', '/Schemas/:id', async (c, _dir, base) => {
    const found = schema(base, c.req.param('id'))
    if (!found) throw new OrgkitError('SCIM_RESOURCE_NOT_FOUND', 'no such schema')
    return reply(c, found)
  })

  // Users
  route('GET', '/Users', async (c, dir, base) => {
    const text = c.req.query('filter')
    const filter = text ? parseFilter(text, USER_FILTERS) : null
    const page = parsePage(c.req.query())
    const { rows, total } = await usersService.listUsers(ctx, dir, filter, page)
    return reply(
      c,
      listResponse(
        rows.map((r) => userResource(r, base)),
        total,
        page.startIndex,
      ),
    )
  })
  route('POST', '/Users', async (c, dir, base) => {
    const row = await usersService.provisionUser(ctx, dir, c.get('meta'), userInput(await readBody(c)))
    const resource = userResource(row, base)
    return reply(c, resource, 201, { location: resource.meta.location, etag: resource.meta.version })
  })
  route('GET', '/Users/:id', async (c, dir, base) => {
    const resource = userResource(await usersService.getUser(ctx, dir, c.req.param('id')!), base)
    return reply(c, resource, 200, { etag: resource.meta.version })
  })
  route('PUT', '/Users/:id', async (c, dir, base) => {
    const input = userInput(await readBody(c))
    const row = await usersService.replaceUser(ctx, dir, c.get('meta'), c.req.param('id')!, input)
    return reply(c, userResource(row, base))
  })
  route('PATCH', '/Users/:id', async (c, dir, base) => {
    const operations = patchOperations(await readBody(c))
    const row = await usersService.replaceUser(
      ctx,
      dir,
      c.get('meta'),
      c.req.param('id')!,
      patchUser(operations),
    )
    return reply(c, userResource(row, base))
  })
  route('DELETE', '/Users/:id', async (c, dir) => {
    await usersService.deleteUser(ctx, dir, c.get('meta'), c.req.param('id')!)
    return c.body(null, 204)
  })

  // Groups
  const withMembers = (c: Context) =>
    !/(^|,)\s*members\s*(,|$)/i.test(c.req.query('excludedAttributes') ?? '')
  route('GET', '/Groups', async (c, dir, base) => {
    const text = c.req.query('filter')
    const filter = text ? parseFilter(text, GROUP_FILTERS) : null
    const page = parsePage(c.req.query())
    const members = withMembers(c)
    const { items, total } = await groupsService.listGroups(ctx, dir, filter, page, members)
    return reply(
      c,
      listResponse(
        items.map((g) => groupResource(g, base, members)),
        total,
        page.startIndex,
      ),
    )
  })
  route('POST', '/Groups', async (c, dir, base) => {
    const view = await groupsService.createGroup(ctx, dir, c.get('meta'), groupState(await readBody(c)))
    const resource = groupResource(view, base)
    return reply(c, resource, 201, { location: resource.meta.location, etag: resource.meta.version })
  })
  route('GET', '/Groups/:id', async (c, dir, base) => {
    const view = await groupsService.viewGroup(ctx.db, dir.orgId, c.req.param('id')!)
    const resource = groupResource(view, base, withMembers(c))
    return reply(c, resource, 200, { etag: resource.meta.version })
  })
  route('PUT', '/Groups/:id', async (c, dir, base) => {
    const state = groupState(await readBody(c))
    const view = await groupsService.replaceGroup(ctx, dir, c.get('meta'), c.req.param('id')!, () => state)
    return reply(c, groupResource(view, base))
  })
  route('PATCH', '/Groups/:id', async (c, dir) => {
    const operations = patchOperations(await readBody(c))
    await groupsService.replaceGroup(ctx, dir, c.get('meta'), c.req.param('id')!, patchGroup(operations))
    return c.body(null, 204)
  })
  route('DELETE', '/Groups/:id', async (c, dir) => {
    await groupsService.deleteGroup(ctx, dir, c.get('meta'), c.req.param('id')!)
    return c.body(null, 204)
  })

  // Anything else under /scim/v2: SCIM's 404, not the API's problem+json.
  app.all('/scim/v2/*', (c) =>
    fail(c, new OrgkitError('NOT_FOUND', `no SCIM endpoint ${c.req.method} ${c.req.path}`)),
  )
}
