import type { scim } from '@orgkit/store'
import type { ScimGroupState, ScimGroupView } from '../services/scim-groups.ts'
import type { ScimUserInput } from '../services/scim-users.ts'
import { applyPatch, matches, type PatchOperation, parsePath } from './patch.ts'
import { asBoolean, etag, invalid, SCHEMAS } from './protocol.ts'

/** SCIM resources to and from what the services take (RFC 7643 sections 4.1 and 4.2). */

type Json = Record<string, unknown>

/** What the server sets and a directory can't: dropped from what it sends, never stored. */
const SERVER_OWNED = new Set([
  'schemas',
  'id',
  'meta',
  'groups',
  'password',
  'username',
  'externalid',
  'active',
])

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const field = (body: Json, name: string) =>
  body[Object.keys(body).find((k) => k.toLowerCase() === name) ?? name]

/** A User resource as the services take it (POST, PUT, and PATCH's result). */
export function userInput(body: unknown): ScimUserInput {
  if (!isObject(body)) throw invalid('invalidSyntax', 'send a User resource (a JSON object)')
  const userName = field(body, 'username')
  if (typeof userName !== 'string' || userName.trim().length === 0 || userName.length > 320)
    throw invalid('invalidValue', 'userName is required (1 to 320 characters)', { field: 'userName' })
  const externalId = field(body, 'externalid')
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string')
    throw invalid('invalidValue', 'externalId is a string', { field: 'externalId' })
  const active = field(body, 'active')
  const attributes = Object.fromEntries(
    Object.entries(body).filter(([k]) => !SERVER_OWNED.has(k.toLowerCase())),
  )
  return {
    userName: userName.trim(),
    externalId: (externalId as string | null | undefined) ?? null,
    active: active === undefined || active === null ? true : asBoolean(active, 'active'),
    attributes,
  }
}

/** The resource a PATCH applies to: what is stored, as the directory sent it. */
export const userDocument = (input: ScimUserInput): Json => ({
  ...input.attributes,
  userName: input.userName,
  ...(input.externalId !== null && { externalId: input.externalId }),
  active: input.active,
})

export const patchUser = (operations: readonly PatchOperation[]) => (current: ScimUserInput) =>
  userInput(applyPatch(userDocument(current), operations))

export function userResource(row: scim.ScimUserRow, base: string) {
  const attributes = row.attributes as Json
  const extensions = Object.keys(attributes).filter((k) => k.toLowerCase().startsWith('urn:'))
  return {
    schemas: [SCHEMAS.user, ...extensions],
    id: row.id,
    ...(row.external_id !== null && { externalId: row.external_id }),
    userName: row.user_name,
    ...attributes,
    active: row.active,
    meta: {
      resourceType: 'User',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: `${base}/Users/${row.id}`,
      version: etag(row.version),
    },
  }
}

export function groupResource(view: ScimGroupView, base: string, withMembers = true) {
  const { row } = view
  return {
    schemas: [SCHEMAS.group],
    id: row.id,
    ...(row.external_id !== null && { externalId: row.external_id }),
    displayName: row.name,
    ...(withMembers && {
      members: view.members.map((m) => ({ ...m, $ref: `${base}/Users/${m.value}`, type: 'User' })),
    }),
    meta: {
      resourceType: 'Group',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: `${base}/Groups/${row.id}`,
      version: etag(row.version),
    },
  }
}

/** `members: [{value}]` as SCIM user ids. */
function memberIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]
  return list.map((m) => {
    const id = isObject(m) ? m.value : undefined
    if (typeof id !== 'string')
      throw invalid('invalidValue', 'members are [{"value": "<user id>"}]', { field: 'members' })
    return id
  })
}

/** A Group resource as the services take it (POST, PUT). */
export function groupState(body: unknown): ScimGroupState {
  if (!isObject(body)) throw invalid('invalidSyntax', 'send a Group resource (a JSON object)')
  const externalId = field(body, 'externalid')
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string')
    throw invalid('invalidValue', 'externalId is a string', { field: 'externalId' })
  return {
    displayName: field(body, 'displayname') as string,
    externalId: (externalId as string | undefined) ?? null,
    members: memberIds(field(body, 'members')),
  }
}

/**
 * A Group PATCH (RFC 7644 3.5.2) on the group's state: `add` / `remove` / `replace` of `members` (with a
 * value list, or `members[value eq "…"]` to remove one — Okta's and Entra's forms), of `displayName` and
 * `externalId`, and path-less `replace` with an object of those.
 */
export const patchGroup =
  (operations: readonly PatchOperation[]) =>
  (current: ScimGroupState): ScimGroupState => {
    const state = { ...current, members: [...current.members] }
    for (const { op, path, value } of operations) {
      if (!path) {
        if (!isObject(value)) throw invalid('invalidValue', 'an operation without a path has an object value')
        for (const [name, v] of Object.entries(value)) applyGroupOp(state, op, name, v)
      } else applyGroupOp(state, op, path, value)
    }
    return state
  }

function applyGroupOp(state: ScimGroupState, op: string, rawPath: string, value: unknown) {
  const path = parsePath(rawPath)
  const attr = path.attr.toLowerCase()
  if (attr === 'members' && path.sub === null) {
    if (path.filter) {
      if (op !== 'remove') throw invalid('invalidPath', 'a members[…] path is for remove')
      state.members = state.members.filter((id) => !matches({ value: id }, path.filter!))
      return
    }
    if (op === 'remove') {
      const gone = value === undefined ? null : new Set(memberIds(value))
      state.members = gone === null ? [] : state.members.filter((id) => !gone.has(id))
    } else if (op === 'add') state.members = [...state.members, ...memberIds(value)]
    else state.members = memberIds(value)
    return
  }
  if (path.filter || path.sub)
    throw invalid('invalidPath', `can't patch ${JSON.stringify(rawPath)} of a group`)
  if (attr === 'displayname') {
    if (op === 'remove') throw invalid('mutability', 'a group keeps its displayName')
    state.displayName = value as string
  } else if (attr === 'externalid') {
    if (op !== 'remove' && value !== null && typeof value !== 'string')
      throw invalid('invalidValue', 'externalId is a string', { field: 'externalId' })
    state.externalId = op === 'remove' ? null : ((value as string | null) ?? null)
  } else if (attr !== 'id' && attr !== 'schemas') {
    throw invalid(
      'invalidPath',
      `groups here have displayName, externalId and members, not ${JSON.stringify(rawPath)}`,
    )
  }
}
