import { z } from 'zod'

/**
 * The `tests:` section of a model file: small worlds and the answers the model must give in them
 * (docs/models.md). Ids are the test's own names: `alice`, `acme`, `shop/prod`; a target (`on`) is an
 * org or a resource of the world.
 */
const id = z.string().min(1)
const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)])

const orgSchema = z.strictObject({
  parent: id.optional().describe('The parent org (a sub-org)'),
  members: z.array(id).optional().describe('Users with an active membership'),
  invited: z.array(id).optional().describe('Users with a pending invitation (it grants nothing)'),
  requireMfa: z.boolean().optional(),
  singleRoleTeams: z.boolean().optional(),
})

const resourceSchema = z.strictObject({
  type: z.string().describe('A resource type of the model'),
  org: id.optional().describe('Its org; defaults to its parent’s, or to the only org of the world'),
  parent: id.optional().describe('The resource it lives in (a channel in an app)'),
})

const groupSchema = z.strictObject({
  org: id.optional(),
  role: z.string().nullable().optional().describe('The team’s own role (team levels, single-role teams)'),
  members: z
    .array(z.union([id, z.strictObject({ user: id, role: z.string() })]))
    .optional()
    .describe('Users, or { user, role } for a member with a role in the team'),
})

const principal = { user: id.optional(), group: id.optional() }

const bindingSchema = z.strictObject({
  ...principal,
  role: z.string().describe('A role of the model (or `team`, binding a group with its members’ roles)'),
  on: id.describe('An org or a resource'),
})

const overrideSchema = z.strictObject({
  ...principal,
  on: id.describe('A resource'),
  allow: z.string().optional(),
  deny: z.string().optional(),
})

export const worldSchema = z.strictObject({
  orgs: z.record(id, orgSchema.nullable()).describe('Org id → its members and settings'),
  resources: z.record(id, resourceSchema).optional(),
  users: z.record(id, z.strictObject({ mfa: z.boolean().optional() })).optional(),
  groups: z.record(id, groupSchema).optional(),
  bindings: z.array(bindingSchema).optional(),
  overrides: z.array(overrideSchema).optional(),
})

export const expectationSchema = z.union([
  z.strictObject({
    user: id,
    can: oneOrMany.optional(),
    cannot: oneOrMany.optional(),
    on: id,
    because: z
      .string()
      .optional()
      .describe('The reason of every answer (role, override, no_grant, mfa_required …)'),
  }),
  z.strictObject({
    holders: z.string().describe('A permission: the users holding it on `on` are exactly `are`'),
    on: id,
    are: z.array(id),
  }),
])

export const modelTestSchema = z.strictObject({
  name: z.string().min(1),
  world: worldSchema,
  expect: z.array(expectationSchema).min(1),
})

export const modelTestsSchema = z.array(modelTestSchema)

export type TestWorld = z.infer<typeof worldSchema>
export type Expectation = z.infer<typeof expectationSchema>
export type ModelTest = z.infer<typeof modelTestSchema>
