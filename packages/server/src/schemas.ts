import { z } from '@hono/zod-openapi'
import { ERRORS, type ErrorCode, PLATFORM_PERMISSIONS } from '@orgkit/core'

/** Shared request and response schemas: one zod schema validates, types and documents. */
export const Uuid = z.uuid()
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
  .openapi('Principal')
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
  .openapi('Problem')

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
  .openapi('Org')

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
  .openapi('Member')

export const Resource = z
  .object({
    id: Uuid,
    orgId: Uuid,
    type: z.string(),
    parentId: Uuid.nullable(),
    name: z.string(),
    createdAt: z.string(),
  })
  .openapi('Resource')

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
  .openapi('Binding')

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
  .openapi('Override')

export const Role = z
  .object({
    key: z.string(),
    scope: z.string(),
    slot: z.string(),
    label: z.string(),
    description: z.string(),
    permissions: z.array(z.string()),
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
  .openapi('Role')

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
  .openapi('User')

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
