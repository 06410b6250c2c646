import { OrgkitError } from '@orgkit/core'
import type { scim } from '@orgkit/store'
import { type Filter, parse } from 'scim2-parse-filter'

/** The SCIM 2.0 wire format's names (RFC 7643 / RFC 7644). */
export const SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const

export const SCIM_CONTENT_TYPE = 'application/scim+json'
/** The most resources one list page holds (ServiceProviderConfig's filter.maxResults). */
export const MAX_RESULTS = 1000

export type ScimType =
  | 'invalidFilter'
  | 'invalidPath'
  | 'invalidValue'
  | 'invalidSyntax'
  | 'noTarget'
  | 'mutability'
  | 'uniqueness'
  | 'tooMany'

export const invalid = (scimType: ScimType, message: string, details: Record<string, unknown> = {}) =>
  new OrgkitError(scimType === 'invalidFilter' ? 'SCIM_INVALID_FILTER' : 'SCIM_INVALID', message, {
    scimType,
    ...details,
  })

/** SCIM's own kind of error for a catalogued one (RFC 7644 3.12): `status` a string, a `scimType` when one fits. */
export function scimErrorBody(error: OrgkitError, status: number) {
  const scimType =
    (error.details.scimType as string | undefined) ??
    (error.code === 'SCIM_UNIQUENESS' || error.code === 'ALREADY_EXISTS'
      ? 'uniqueness'
      : error.code === 'VALIDATION_FAILED'
        ? 'invalidValue'
        : undefined)
  return {
    schemas: [SCHEMAS.error],
    status: String(status),
    ...(scimType && { scimType }),
    detail: error.message,
    // Orgkit's stable code beside SCIM's, for a client that switches on it (an extension SCIM allows).
    code: error.code,
  }
}

// ------------------------------------------------------------------------------------------ filters

/** The attributes a filter may name, per resource type (lower-cased names → the store's). */
export const USER_FILTERS: Record<string, FilterAttr> = {
  id: 'id',
  username: 'userName',
  externalid: 'externalId',
  'emails.value': 'email',
  emails: 'email',
}
export const GROUP_FILTERS: Record<string, FilterAttr> = {
  id: 'id',
  displayname: 'displayName',
  externalid: 'externalId',
}

/** An attribute path without its schema URN, lower-cased (`urn:…:User:userName` → `username`). */
function bareAttr(path: string): string {
  const lower = path.toLowerCase()
  if (!lower.startsWith('urn:')) return lower
  return lower.slice(lower.lastIndexOf(':') + 1)
}

/**
 * A directory's `filter` as the store's: `eq` on the attributes listed, `emails[value eq "…"]`, combined with
 * `and` / `or`. Anything else answers 400 invalidFilter, never a silently wider list.
 */
type FilterAttr = Extract<scim.ScimFilter, { attr: unknown }>['attr']

export function parseFilter(text: string, attrs: Record<string, FilterAttr>): scim.ScimFilter {
  let ast: Filter
  try {
    ast = parse(text)
  } catch {
    throw invalid('invalidFilter', `can't parse the filter ${JSON.stringify(text)}`)
  }
  const walk = (f: Filter): scim.ScimFilter => {
    if (f.op === 'and' || f.op === 'or') {
      const parts = (f as { filters: Filter[] }).filters.map(walk)
      return f.op === 'and' ? { and: parts } : { or: parts }
    }
    if (f.op === '[]') {
      const vp = f as { attrPath: string; valFilter: Filter }
      const inner = vp.valFilter as { op: string; attrPath?: string; compValue?: unknown }
      if (inner.op === 'eq' && inner.attrPath?.toLowerCase() === 'value')
        return walk({ op: 'eq', attrPath: `${vp.attrPath}.value`, compValue: inner.compValue } as Filter)
    }
    if (f.op === 'eq') {
      const cmp = f as { attrPath: string; compValue: unknown }
      const attr = attrs[bareAttr(cmp.attrPath)]
      if (attr && typeof cmp.compValue === 'string') return { attr, value: cmp.compValue }
    }
    throw invalid(
      'invalidFilter',
      `filters here are "eq" on ${Object.keys(attrs).join(', ')}, joined by "and" / "or"`,
      { filter: text },
    )
  }
  return walk(ast)
}

/** `startIndex` (1-based) and `count` (RFC 7644 3.4.2.4): out-of-range values are clamped, as it says. */
export function parsePage(query: { startIndex?: string | undefined; count?: string | undefined }) {
  const start = Number.parseInt(query.startIndex ?? '1', 10)
  const count = Number.parseInt(query.count ?? String(100), 10)
  const startIndex = Number.isFinite(start) && start >= 1 ? start : 1
  const limit = Number.isFinite(count) ? Math.min(Math.max(count, 0), MAX_RESULTS) : 100
  return { startIndex, offset: startIndex - 1, limit }
}

export const listResponse = (resources: unknown[], total: number, startIndex: number) => ({
  schemas: [SCHEMAS.list],
  totalResults: total,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
})

/** Entra sends booleans as strings in PATCH (`"value": "False"`). */
export function asBoolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
  throw invalid('invalidValue', `${field} is true or false`, { field })
}

/** A weak ETag from a row's version (meta.version). */
export const etag = (version: number) => `W/"${version}"`
