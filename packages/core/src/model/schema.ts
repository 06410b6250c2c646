import { z } from 'zod'
import { RESOURCE_ICONS } from './model.ts'

/**
 * The shape of a model, as zod: `validateModel` parses with it, and `model.schema.json` (the JSON Schema
 * editors read) is generated from it (`npm run schema -w packages/core`), so the two cannot drift — a
 * test regenerates the file and compares. Objects are strict: a misspelt field is an error, not ignored.
 */
const KEY = /^[a-z][a-z0-9_]*$/
const PERMISSION_KEY = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/

const key = z.string().regex(KEY, 'must be lower_snake_case')
const label = z.string().min(1, 'must not be empty')
const noun = z.strictObject({ label, plural: label })

export const resourceTypeSchema = z.strictObject({
  parent: z.string().describe('`org`, or the resource type this one lives in (a channel lives in an app)'),
  label: label.describe('The type as the product says it, in the singular: "Project"'),
  plural: label.optional().describe('The label in the plural; defaults to label + "s"'),
  icon: z.enum(RESOURCE_ICONS).optional().describe('The console’s icon for the type; defaults to `apps`'),
  actions: z
    .strictObject({
      create: z.string().optional(),
      read: z.string().optional(),
      update: z.string().optional(),
      delete: z.string().optional(),
    })
    .optional()
    .describe('The permissions the API asks for to create (on the parent), read, update and delete one'),
  deleteOnlyWithoutAccess: z.boolean().optional(),
  teamAccessSetting: z.boolean().optional(),
})

export const permissionSchema = z.strictObject({
  on: z.string().describe('`org` or a resource type: the one type this permission applies to'),
  module: z.string().describe('A key of `modules`: how permissions are grouped for display'),
  label,
  overridable: z.boolean().optional().describe('May be allowed / denied per resource (not on org)'),
})

export const roleSchema = z.strictObject({
  scope: z.string().describe('Where the role is bound: `org` or a resource type'),
  slot: z.string().describe('A key of `slots`: roles of one slot compete at a scope'),
  label,
  description: z.string(),
  permissions: z.array(z.string()).describe('Permissions on the scope or on types below it'),
  priority: z.number().int().describe('Rank: higher outranks lower; no one grants above their own'),
})

export const modelSchema = z.strictObject({
  name: z.string().min(1),
  label: z.string().optional(),
  resourceTypes: z.record(key, resourceTypeSchema),
  modules: z.record(key, z.strictObject({ label })),
  permissions: z.record(z.string().regex(PERMISSION_KEY, 'must be noun.verb'), permissionSchema),
  slots: z.record(key, z.strictObject({ label, multiple: z.boolean() })),
  roles: z.record(key, roleSchema),
  teamLevels: z.record(key, z.record(z.string(), z.string())).optional(),
  terms: z.strictObject({ member: noun, group: noun, role: noun }).partial().optional(),
  removedRoles: z
    .record(z.string(), z.string())
    .optional()
    .describe('Where bindings of roles this model dropped go, `old_role: new_role`: moved at the next start'),
  org: z.strictObject({
    creatorRole: z.string(),
    ownerRoles: z.array(z.string()).min(1),
    defaultRole: z.string(),
    personalOrgOnSignup: z.boolean(),
    everyUserOwnsAnOrg: z.boolean().optional(),
    subOrgs: z.boolean(),
    groups: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          role: z.string(),
          members: z.enum(['everyone', 'creator']),
        }),
      )
      .optional(),
  }),
})

/** The model's own fields, for a hint on a misspelt one. */
export const MODEL_FIELDS = {
  model: Object.keys(modelSchema.shape),
  resourceType: Object.keys(resourceTypeSchema.shape),
  permission: Object.keys(permissionSchema.shape),
  role: Object.keys(roleSchema.shape),
}
