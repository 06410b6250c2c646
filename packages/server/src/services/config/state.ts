import { ORG } from '@orgkit/core'
import {
  bindings,
  customRoles,
  type Executor,
  groups,
  orgSecurity,
  overrides,
  resources,
  users,
} from '@orgkit/store'
import type { Ctx } from '../context.ts'
import { levelsAreTeamLevels } from '../group-roles.ts'
import type {
  ConfigBinding,
  ConfigDocument,
  ConfigGroup,
  ConfigOverride,
  ConfigRole,
  ConfigSettings,
} from './document.ts'

/** A principal as a file names it: `user:alice@x.io` or `group:Release managers`. */
export type PrincipalName = `user:${string}` | `group:${string}`

/** The org as the file sees it: everything by name, with the ids apply needs behind the names. */
export interface OrgState {
  settings: ConfigSettings
  roles: Map<string, ConfigRole>
  groups: Map<string, ConfigGroup & { id: string }>
  /** `type:path` → resource id; null where two resources share the path (a file can't name either). */
  resources: Map<string, string | null>
  bindings: Map<string, ConfigBinding & { id: string }>
  overrides: Map<string, ConfigOverride & { resourceId: string }>
  /** Emails (lower-cased) → user ids, of everyone the state names. */
  people: Map<string, string>
}

export const bindingKey = (b: ConfigBinding) => `${principalOf(b)} → ${b.role} on ${b.on ?? 'org'}`
export const overrideKey = (o: ConfigOverride) => `${principalOf(o)} ${o.permission} on ${o.on}`
export const principalOf = (p: { user?: string | undefined; group?: string | undefined }): PrincipalName =>
  p.user !== undefined ? `user:${p.user.toLowerCase()}` : `group:${p.group}`

/** Every resource of the org by `type:path`, its names from the top down. */
async function resourcePaths(db: Executor, orgId: string) {
  const rows: resources.ResourceRow[] = []
  for (let after: string | undefined; ; ) {
    const page = await resources.listResources(db, { orgId, limit: 1000, ...(after && { after }) })
    rows.push(...page)
    if (page.length < 1000) break
    after = page.at(-1)!.id
  }
  const byId = new Map(rows.map((r) => [r.id, r]))
  const pathOf = (r: resources.ResourceRow): string => {
    const parent = r.parent_id ? byId.get(r.parent_id) : undefined
    return parent ? `${pathOf(parent)}/${r.name}` : r.name
  }
  const byPath = new Map<string, string | null>()
  const pathById = new Map<string, string>()
  for (const r of rows) {
    const path = `${r.type}:${pathOf(r)}`
    pathById.set(r.id, path)
    byPath.set(path, byPath.has(path) ? null : r.id)
  }
  return { byPath, pathById }
}

/** Reads the org's configuration (read inside a transaction by plan and apply, so it is one moment's). */
export async function readOrgState(ctx: Ctx, db: Executor, orgId: string): Promise<OrgState> {
  const policy = await orgSecurity.findPolicy(db, orgId)
  const settings = {
    requireMfa: policy?.require_mfa ?? false,
    passwordPolicy: (policy?.password_policy as ConfigSettings['passwordPolicy']) ?? null,
    apiKeyPolicy: (policy?.api_key_policy as ConfigSettings['apiKeyPolicy']) ?? null,
  }
  const roles = new Map(
    (await customRoles.listCustomRoles(db, orgId)).map((r) => [
      r.key,
      {
        key: r.key,
        scope: r.scope,
        slot: r.slot,
        label: r.label,
        description: r.description,
        permissions: [...r.permissions].sort(),
        priority: r.priority,
      },
    ]),
  )
  const groupRows = await groups.listGroups(db, orgId)
  const memberRows = await groups.membersOfGroups(
    db,
    groupRows.map((g) => g.id),
  )
  const bindingRows = await bindings.listBindings(db, { orgIds: [orgId] })
  const overrideRows = await overrides.listOverrides(db, { orgIds: [orgId] })
  const userIds = new Set([
    ...memberRows.map((m) => m.user_id),
    ...bindingRows.flatMap((b) => (b.user_id ? [b.user_id] : [])),
    ...overrideRows.flatMap((o) => (o.user_id ? [o.user_id] : [])),
  ])
  const emailOf = new Map(
    (await users.listUsersByIds(db, [...userIds])).map((u) => [u.id, u.email.toLowerCase()]),
  )
  const groupName = new Map(groupRows.map((g) => [g.id, g.name]))
  const named = (row: { user_id: string | null; group_id: string | null }) =>
    row.user_id ? { user: emailOf.get(row.user_id)! } : { group: groupName.get(row.group_id!)! }
  const levels = levelsAreTeamLevels(ctx)
  const groupsByName = new Map(
    groupRows.map((g) => [
      g.name,
      {
        id: g.id,
        name: g.name,
        description: g.description,
        ...(levels && { level: g.role }),
        members: memberRows
          .filter((m) => m.group_id === g.id)
          .map((m) => emailOf.get(m.user_id)!)
          .sort(),
      },
    ]),
  )
  const { byPath, pathById } = await resourcePaths(db, orgId)
  const bindingsByKey = new Map<string, ConfigBinding & { id: string }>()
  for (const b of bindingRows) {
    const binding = {
      id: b.id,
      ...named(b),
      role: b.role,
      ...(b.scope_type !== ORG && { on: pathById.get(b.resource_id!)! }),
    }
    bindingsByKey.set(bindingKey(binding), binding)
  }
  const overridesByKey = new Map<string, ConfigOverride & { resourceId: string }>()
  for (const o of overrideRows) {
    const override = {
      resourceId: o.resource_id,
      ...named(o),
      on: pathById.get(o.resource_id)!,
      permission: o.permission,
      effect: o.effect,
    }
    overridesByKey.set(overrideKey(override), override)
  }
  return {
    settings,
    roles,
    groups: groupsByName,
    resources: byPath,
    bindings: bindingsByKey,
    overrides: overridesByKey,
    people: new Map([...emailOf].map(([id, email]) => [email, id])),
  }
}

/** The document `orgkit export` writes: every section, ids left out. */
export function toDocument(state: OrgState): ConfigDocument {
  const strip = <T extends object>(value: T, ...keys: string[]) =>
    Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k))) as T
  return {
    version: 1,
    settings: state.settings,
    customRoles: [...state.roles.values()],
    groups: [...state.groups.values()].map((g) => strip(g, 'id')),
    bindings: [...state.bindings.values()].map((b) => strip(b, 'id')),
    overrides: [...state.overrides.values()].map((o) => strip(o, 'resourceId')),
  }
}
