import { z } from '@hono/zod-openapi'
import { ERRORS, type ErrorCode, PLATFORM_PERMISSIONS } from '@orgkit/core'

/** Shared request and response schemas: one zod schema validates, types and documents. */
export const Uuid = z.uuid()

/** Ids the examples share, so the reference reads as one story: Acme, its app Shop, Alice and Bob. */
const EX = {
  org: '0b6f1c9e-6a4e-4d0b-9c51-2f7f3c1b7a10',
  app: '3f2a9c4e-8b1d-4e6f-a7c2-5d9e0b1f4a68',
  alice: '1c7e5b3a-9d2f-4e8b-a6c1-7f0e3d5b2a94',
  bob: '5d2c8a41-3f0e-4b7a-8e19-6c0d4f2b9e37',
  group: '6e3f2a1b-0c9d-4e8f-b7a6-5d4c3b2a1f0e',
  binding: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
  at: '2026-12-01T10:00:00.000Z',
}
export const OrgParams = z.object({ orgId: Uuid.openapi({ param: { name: 'orgId', in: 'path' } }) })
/** An org's entity addressed by its id: /v1/orgs/{orgId}/<things>/{id}. */
export const IdParams = OrgParams.extend({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })
export const Name = z.string().trim().min(1).max(200)
export const RoleKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case')
  .max(64)
/**
 * A permission key of the model in force (GET /v1/model). A string in the document: the model is chosen at
 * deploy time and may be a custom one. Every model declares the `PlatformPermission` ones.
 */
export const PermissionKey = z.string().max(128)
/** The permissions every model declares on `org` (core's PLATFORM_PERMISSIONS): typed in any deployment. */
export const PlatformPermission = z
  .enum(PLATFORM_PERMISSIONS)
  .openapi('PlatformPermission', { description: 'A permission every model declares on org' })

export const Principal = z
  .object({ type: z.enum(['user', 'group']), id: Uuid })
  .strict()
  .openapi('Principal', { example: { type: 'user', id: EX.bob } })
export const Subject = z
  .object({ type: z.enum(['user', 'apiKey']), id: z.string().min(1).max(200) })
  .strict()
  .openapi('Subject')
export const Target = z.object({ type: z.string(), id: z.string() }).openapi('Target')
export const ResourceRef = z
  .union([
    z.object({ type: z.string().min(1), id: z.string().min(1).max(200) }).strict(),
    z.object({ org: z.string().min(1).max(200) }).strict(),
  ])
  .openapi('ResourceRef')
export const Revision = z.number().int().nonnegative()
/** What a delete (or another write with nothing else to say) answers. */
export const Revised = z.object({ revision: z.number() })

/**
 * A problem's stable `code`: the catalogue's (packages/core/src/errors.ts), or INTERNAL for a bug (the 500
 * of errors.ts). An enum in the document, so the SDK and the console switch on typed codes.
 */
export const ProblemCode = z
  .enum([...(Object.keys(ERRORS) as ErrorCode[]), 'INTERNAL'])
  .openapi('ErrorCode', { description: "The catalogue's stable error codes; INTERNAL is a bug (500)" })

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: ProblemCode,
    detail: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string().optional(),
  })
  .openapi('Problem', {
    example: {
      type: 'https://orgkit.dev/problems/forbidden',
      title: 'Forbidden',
      status: 403,
      code: 'FORBIDDEN',
      detail: 'org.manage_members is not granted on this org',
      requestId: 'req_2b7c9d',
    },
  })

export const Org = z
  .object({
    id: Uuid,
    name: z.string(),
    parentId: Uuid.nullable(),
    creatorId: Uuid.nullable(),
    managementEmail: z.string().nullable(),
    logoUrl: z.string().nullable().openapi({ description: "The organization's avatar" }),
    fullName: z.string(),
    description: z.string(),
    website: z.string().nullable(),
    location: z.string(),
    singleRoleTeams: z.boolean(),
    resourceAdminsGrantTeamAccess: z.boolean(),
    createdAt: z.string(),
    belonging: z
      .enum(['member', 'inherited', 'external'])
      .nullable()
      .optional()
      .openapi({
        description:
          'How you belong to it: a member, inherited from an org above, or an external collaborator ' +
          'holding a role on one of its resources; null for the platform token',
      }),
  })
  .openapi('Org', {
    example: {
      id: EX.org,
      name: 'Acme',
      parentId: null,
      creatorId: EX.alice,
      managementEmail: 'ops@acme.example',
      logoUrl: null,
      fullName: 'Acme Corporation',
      description: '',
      website: 'https://acme.example',
      location: '',
      singleRoleTeams: false,
      resourceAdminsGrantTeamAccess: true,
      createdAt: EX.at,
      belonging: 'member',
    },
  })

export const Member = z
  .object({
    userId: Uuid.nullable(),
    invitationId: Uuid.optional(),
    email: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    status: z.enum(['active', 'pending']),
    source: z.enum(['direct', 'inherited', 'external']),
    groups: z
      .array(z.object({ id: Uuid, name: z.string() }))
      .openapi({ description: 'The groups ("Roles" in seed 002) of this org they are in' }),
  })
  .openapi('Member', {
    example: {
      userId: EX.bob,
      email: 'bob@acme.example',
      name: 'Bob',
      roles: ['org_member'],
      status: 'active',
      source: 'direct',
      groups: [{ id: EX.group, name: 'Developers' }],
    },
  })

export const Resource = z
  .object({
    id: Uuid,
    orgId: Uuid,
    type: z.string(),
    parentId: Uuid.nullable(),
    name: z.string(),
    createdAt: z.string(),
  })
  .openapi('Resource', {
    example: { id: EX.app, orgId: EX.org, type: 'app', parentId: null, name: 'Shop', createdAt: EX.at },
  })

export const Binding = z
  .object({
    id: Uuid,
    orgId: Uuid,
    principal: Principal,
    role: z.string(),
    scope: Target,
    expiresAt: z.string().nullable(),
    grantedBy: z.string().nullable(),
    reason: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Binding', {
    example: {
      id: EX.binding,
      orgId: EX.org,
      principal: { type: 'user', id: EX.bob },
      role: 'app_developer',
      scope: { type: 'app', id: EX.app },
      expiresAt: null,
      grantedBy: EX.alice,
      reason: 'Ships the mobile releases',
      createdAt: EX.at,
    },
  })

export const Group = z
  .object({
    id: Uuid,
    orgId: Uuid,
    name: z.string(),
    description: z.string(),
    role: z.string().nullable(),
    createdAt: z.string(),
    managedBy: z.enum(['directory']).nullable().openapi({
      description:
        "directory: the org's SCIM directory sets its name and members (DIRECTORY_MANAGED otherwise); roles are bound as usual",
    }),
  })
  .openapi('Group')

export const Override = z
  .object({
    resourceId: Uuid,
    principal: Principal,
    permission: z.string(),
    effect: z.enum(['allow', 'deny', 'default']),
  })
  .openapi('Override', {
    example: {
      resourceId: EX.app,
      principal: { type: 'user', id: EX.bob },
      permission: 'channel.promote_bundle',
      effect: 'deny',
    },
  })

export const Role = z
  .object({
    key: z.string(),
    scope: z.string(),
    slot: z.string(),
    label: z.string(),
    description: z.string(),
    permissions: z
      .array(z.union([PlatformPermission, PermissionKey]))
      .openapi({ description: "The platform's permissions every model declares, and the model's own" }),
    priority: z.number().int(),
    builtIn: z.boolean(),
    grantable: z
      .boolean()
      .optional()
      .openapi({
        description:
          'With `grantable` asked for: whether you may give this role at that scope (rank, owner roles, ' +
          'every permission it holds); role pickers offer only these (seed 001)',
      }),
  })
  .openapi('Role', {
    example: {
      key: 'app_developer',
      scope: 'app',
      slot: 'app',
      label: 'App Developer',
      description: 'Uploads bundles and promotes them on channels',
      permissions: ['app.read', 'app.upload_bundle', 'channel.promote_bundle'],
      priority: 30,
      builtIn: true,
    },
  })

export const User = z
  .object({
    id: Uuid,
    email: z.string(),
    name: z.string(),
    mfaEnabled: z.boolean(),
    externalId: z
      .string()
      .nullable()
      .openapi({ description: "The host product's id for the user (its tokens' `sub`), or null" }),
    createdAt: z.string(),
  })
  .openapi('User', {
    example: {
      id: EX.bob,
      email: 'bob@acme.example',
      name: 'Bob',
      mfaEnabled: false,
      externalId: 'auth0|bob',
      createdAt: EX.at,
    },
  })

/** Responses every route may give besides its own. */
export const errorResponses = {
  400: { description: 'Invalid request', content: { 'application/problem+json': { schema: Problem } } },
  401: { description: 'Not authenticated', content: { 'application/problem+json': { schema: Problem } } },
  403: { description: 'Forbidden', content: { 'application/problem+json': { schema: Problem } } },
  404: { description: 'Not found', content: { 'application/problem+json': { schema: Problem } } },
  409: { description: 'Conflict', content: { 'application/problem+json': { schema: Problem } } },
} as const

/**
 * For the operations a rate limit guards (security/rate-limit.ts): RATE_LIMITED, with `details.retryAfter`
 * in seconds. test/openapi.contract.test.ts fails when an operation that can answer it lacks this.
 */
export const rateLimited = {
  429: {
    description:
      'Too many attempts (RATE_LIMITED); Retry-After (and details.retryAfter) says in how many seconds to retry',
    headers: {
      'Retry-After': {
        description: 'Seconds to wait before trying again',
        schema: { type: 'integer', minimum: 1 },
      },
    },
    content: { 'application/problem+json': { schema: Problem } },
  },
} as const

/**
 * A JSON request body. The validator middleware calls `safeParseAsync`, and zod only compiles an object
 * schema into its one-function fast path on a synchronous parse: 4-5x slower on a batch of checks. Our
 * body schemas have no async refinements, so the async parse is pointed at the synchronous one.
 */
export const body = <T extends z.ZodType>(schema: T) => {
  schema.safeParseAsync = async (data, params) => schema.safeParse(data, params)
  return { body: { content: { 'application/json': { schema } }, required: true } }
}

export const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
})

/** A write's answer: the entity, with the revision it produced (SPEC 5: every write returns one). */
export const written = <T extends object>(outcome: { result: T; revision: number }) => ({
  ...outcome.result,
  revision: outcome.revision,
})

export const withRevision = <T extends z.ZodRawShape>(shape: T) => z.object({ ...shape, revision: Revision })
