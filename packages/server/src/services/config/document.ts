import { z } from '@hono/zod-openapi'

/**
 * An org's configuration as code (issue 23.4, docs/config-as-code.md): what `orgkit export` writes and
 * `plan` / `apply` read. People are named by email, groups by name, roles by key, resources by
 * `type:path` (their names from the top down, `channel:shop/prod`); no ids, so a file moves between
 * installations. A section left out is not managed: apply leaves that part of the org as it is.
 */
const Email = z.string().trim().min(3).max(320)
const GroupName = z.string().trim().min(1).max(200)
/** `type:path`: a resource by its type and its names from the top, e.g. `app:shop`, `channel:shop/prod`. */
const ResourcePath = z.string().regex(/^[a-z][a-z0-9_]*:.+$/, 'type:path, e.g. channel:shop/prod')
const PrincipalFields = { user: Email.optional(), group: GroupName.optional() }

export const ConfigSettings = z
  .object({
    requireMfa: z.boolean(),
    passwordPolicy: z
      .object({
        minLength: z.number().int().min(8).max(128),
        requireUpper: z.boolean(),
        requireDigit: z.boolean(),
        requireSpecial: z.boolean(),
        rejectCommon: z.boolean(),
      })
      .strict()
      .nullable(),
    apiKeyPolicy: z
      .object({ requireExpiry: z.boolean(), maxDays: z.number().int().min(1).max(3650).nullable() })
      .strict()
      .nullable(),
  })
  .strict()

export const ConfigRole = z
  .object({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case')
      .max(64),
    scope: z.string().min(1),
    slot: z.string().min(1),
    label: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    permissions: z.array(z.string().max(128)),
    priority: z.number().int(),
  })
  .strict()

export const ConfigGroup = z
  .object({
    name: GroupName,
    description: z.string().max(2000).default(''),
    /** The teams preset's team level (seed 003); elsewhere a group's roles are bindings. */
    level: z.string().nullable().optional(),
    members: z.array(Email).default([]),
  })
  .strict()

export const ConfigBinding = z
  .object({
    ...PrincipalFields,
    role: z.string().min(1),
    /** Absent: the org itself. */
    on: ResourcePath.optional(),
  })
  .strict()

export const ConfigOverride = z
  .object({
    ...PrincipalFields,
    on: ResourcePath,
    permission: z.string().min(1),
    effect: z.enum(['allow', 'deny']),
  })
  .strict()

export const ConfigDocument = z
  .object({
    version: z.literal(1),
    settings: ConfigSettings.optional(),
    customRoles: z.array(ConfigRole).optional(),
    groups: z.array(ConfigGroup).optional(),
    bindings: z.array(ConfigBinding).optional(),
    overrides: z.array(ConfigOverride).optional(),
  })
  .strict()
  .openapi('OrgConfig')

export type ConfigDocument = z.infer<typeof ConfigDocument>
export type ConfigRole = z.infer<typeof ConfigRole>
export type ConfigGroup = z.infer<typeof ConfigGroup>
export type ConfigBinding = z.infer<typeof ConfigBinding>
export type ConfigOverride = z.infer<typeof ConfigOverride>
export type ConfigSettings = z.infer<typeof ConfigSettings>

/** One change a plan shows and apply makes. */
export const ConfigChange = z
  .object({
    action: z.enum(['create', 'update', 'delete']),
    kind: z.enum(['settings', 'role', 'group', 'groupMember', 'binding', 'override']),
    /** What it is about, as the file names it (`role billing_admin`, `alice@x.io → app_admin on app:shop`). */
    name: z.string(),
  })
  .openapi('OrgConfigChange')
export type ConfigChange = z.infer<typeof ConfigChange>
