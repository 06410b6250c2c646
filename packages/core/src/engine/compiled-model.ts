import { OrgkitError } from '../errors.ts'
import { type Model, ORG, TEAM_ROLE } from '../model/model.ts'
import { ancestorTypes, validateModel } from '../model/validate.ts'

/** A permission with a dense index, so a role's permission set is a byte array lookup. */
export interface CompiledPermission {
  readonly key: string
  readonly index: number
  readonly on: string
  /** `on` as its index in `CompiledModel.types` (0: org). */
  readonly onIndex: number
  readonly overridable: boolean
  /** Where the permission sits in a role's bit set (`RoleHandle.bits`): word, and the bit in it. */
  readonly word: number
  readonly bit: number
}

/** Permissions per word of a bit set: 30 keeps every word a small integer (a V8 Smi). */
export const BITS_PER_WORD = 30

/**
 * A role as the engine evaluates it. Custom roles are handles: bindings keep pointing at the same object
 * while the role is edited, deleted (`live` false: grants nothing) or created again under its key.
 */
export interface RoleHandle {
  readonly key: string
  /** The org that defines it, or null for the model's built-in roles. */
  readonly orgId: string | null
  scope: string
  slot: string
  slotBit: number
  priority: number
  /** `grants[permission.index] === 1` when the role holds that permission. */
  grants: Uint8Array
  /** The same set as bits, `CompiledModel.words` words long: the per-user access index ORs these. */
  bits: Int32Array
  permissions: readonly string[]
  live: boolean
}

export class CompiledModel {
  readonly model: Model
  readonly permissions = new Map<string, CompiledPermission>()
  readonly permissionList: CompiledPermission[] = []
  readonly roles = new Map<string, RoleHandle>()
  readonly slotBits = new Map<string, number>()
  /** For each type, the types at or below it (`org` → every type). */
  readonly typesBelow = new Map<string, ReadonlySet<string>>()
  /** Words in a permission bit set. */
  readonly words: number
  /** `org`, then the model's resource types. */
  readonly types: readonly string[]
  /** Per type (by index in `types`), how many resources sit above one of that type (org: -1). */
  readonly typeDepth: readonly number[]

  constructor(input: Model) {
    this.model = validateModel(input)
    const types = [ORG, ...Object.keys(this.model.resourceTypes)]
    this.types = types
    this.typeDepth = types.map((type) => ancestorTypes(this.model, type).length - 2)
    let index = 0
    for (const [key, def] of Object.entries(this.model.permissions)) {
      const permission = {
        key,
        index,
        on: def.on,
        onIndex: types.indexOf(def.on),
        overridable: def.overridable === true,
        word: Math.floor(index / BITS_PER_WORD),
        bit: 1 << (index % BITS_PER_WORD),
      }
      index++
      this.permissions.set(key, permission)
      this.permissionList.push(permission)
    }
    this.words = Math.max(1, Math.ceil(index / BITS_PER_WORD))
    let bit = 1
    for (const slot of Object.keys(this.model.slots)) {
      this.slotBits.set(slot, bit)
      bit <<= 1
    }
    for (const type of types) {
      this.typesBelow.set(type, new Set(types.filter((t) => ancestorTypes(this.model, t).includes(type))))
    }
    for (const [key, def] of Object.entries(this.model.roles)) {
      const role = this.newRoleHandle(key, null)
      this.fillRole(role, def.scope, def.slot, def.permissions, def.priority)
      this.roles.set(key, role)
    }
  }

  /** The role key a team level means at a scope type (a plain role key means itself). */
  teamRoleKey(key: string, scopeType: string): string {
    const levels = this.model.teamLevels
    return (levels && Object.hasOwn(levels, key) ? levels[key]![scopeType] : undefined) ?? key
  }

  isType(type: string): boolean {
    return type === ORG || Object.hasOwn(this.model.resourceTypes, type)
  }

  /** The permission, or a client error: an unknown permission or a wrong type is never a silent deny. */
  permissionFor(key: string, type: string): CompiledPermission {
    const permission = this.permissions.get(key)
    // The common case first: a permission's own type is a known type.
    if (permission !== undefined && permission.on === type) return permission
    if (!permission)
      throw new OrgkitError('UNKNOWN_PERMISSION', `unknown permission "${key}"`, { permission: key })
    if (!this.isType(type))
      throw new OrgkitError('UNKNOWN_RESOURCE_TYPE', `unknown resource type "${type}"`, { type })
    if (permission.on !== type) {
      throw new OrgkitError(
        'PERMISSION_TYPE_MISMATCH',
        `permission "${key}" applies to ${permission.on}, not to ${type}`,
        { permission: key, type },
      )
    }
    return permission
  }

  newRoleHandle(key: string, orgId: string | null): RoleHandle {
    return {
      key,
      orgId,
      scope: ORG,
      slot: '',
      slotBit: 0,
      priority: 0,
      grants: new Uint8Array(this.permissions.size),
      bits: new Int32Array(this.words),
      permissions: [],
      live: false,
    }
  }

  /** Validates a role definition against the model and writes it into the handle. */
  fillRole(
    role: RoleHandle,
    scope: string,
    slot: string,
    permissions: readonly string[],
    priority: number,
  ): void {
    const fail = (message: string): never => {
      throw new OrgkitError('INVALID_CUSTOM_ROLE', `role "${role.key}": ${message}`, { role: role.key })
    }
    if (role.key === TEAM_ROLE) fail(`"${TEAM_ROLE}" is reserved`)
    if (!this.isType(scope)) fail(`unknown scope "${scope}"`)
    const slotBit = this.slotBits.get(slot)
    if (slotBit === undefined) fail(`unknown slot "${slot}"`)
    const below = this.typesBelow.get(scope)!
    const grants = new Uint8Array(this.permissions.size)
    const bits = new Int32Array(this.words)
    for (const key of permissions) {
      const permission = this.permissions.get(key)
      if (!permission) fail(`unknown permission "${key}"`)
      else if (!below.has(permission.on))
        fail(`permission "${key}" is on ${permission.on}, not at or below ${scope}`)
      else {
        grants[permission.index] = 1
        bits[permission.word]! |= permission.bit
      }
    }
    role.scope = scope
    role.slot = slot
    role.slotBit = slotBit!
    role.priority = priority
    role.grants = grants
    role.bits = bits
    role.permissions = [...permissions]
    role.live = true
  }
}
